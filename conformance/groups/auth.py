"""Auth, when --api-key says the gateway needs one: the same valid request without credentials, and with a wrong
key, must get 401 or 403 with the spec's error body. Without --api-key both requirements are reported skipped:
an open gateway (Bifrost's default) is not at fault.
"""

from __future__ import annotations

from collections.abc import Iterator

from conformance.context import Credentials, RunContext
from conformance.contract import OperationContract
from conformance.groups import register
from conformance.groups._judge import error_body_problem, guarded, observe, skip, transport_problem
from conformance.model import Observation
from conformance.requirements import AUTH

PROBES: tuple[tuple[str, Credentials, str], ...] = (
    ("auth-missing-rejected", "none", "the valid request without credentials"),
    ("auth-wrong-key-rejected", "wrong", "the valid request with a wrong key"),
)


class AuthGroup:
    name = "auth"
    requirements = AUTH

    def run(self, ctx: RunContext) -> Iterator[Observation]:
        if not ctx.target.api_key:
            for operation in ctx.operations:
                for requirement_id, _, _ in PROBES:
                    yield skip(requirement_id, operation, "no --api-key given: the gateway is checked as an open one")
            return
        jobs = [(operation, probe) for operation in ctx.operations for probe in PROBES]
        yield from ctx.map(lambda job: judge(ctx, job[0], *job[1]), jobs)


def judge(
    ctx: RunContext, operation: OperationContract, requirement_id: str, which: Credentials, sent: str
) -> Observation:
    def probe() -> list[Observation]:
        reply = ctx.send(operation, ctx.valid_body(operation), credentials=which)
        problem = transport_problem(reply)
        if problem is None and reply.status not in (401, 403):
            problem = f"expected 401 or 403, got {reply.status}"
        if problem is None:
            body = error_body_problem(reply, operation)
            problem = body
        return [observe(requirement_id, operation, f"{sent}: {problem}" if problem else None, reply)]

    return guarded((requirement_id,), operation, probe)[0]


GROUP = register(AuthGroup())
