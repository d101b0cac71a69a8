"""Auth, when --api-key says the gateway needs one: the same valid request without credentials, and with a wrong
key sent each way the operation's security allows (Bearer, Basic, x-bf-vk, x-api-key, api-key), must get 401 or
403 with the spec's error body. A gateway that checks the key in one header but waves any value through another is
as open as one that checks nothing. Without --api-key both requirements are reported skipped: an open gateway
(Bifrost's default) is not at fault.
"""

from __future__ import annotations

from collections.abc import Iterator

from conformance.context import AUTH_SCHEMES, Credentials, RunContext
from conformance.contract import OperationContract
from conformance.groups import register
from conformance.groups._judge import error_body_problem, guarded, observe, skip, transport_problem
from conformance.model import Observation
from conformance.requirements import AUTH

MISSING = "auth-missing-rejected"
WRONG = "auth-wrong-key-rejected"


class AuthGroup:
    name = "auth"
    requirements = AUTH

    def run(self, ctx: RunContext) -> Iterator[Observation]:
        if not ctx.target.api_key:
            for operation in ctx.operations:
                for requirement_id in (MISSING, WRONG):
                    yield skip(requirement_id, operation, "no --api-key given: the gateway is checked as an open one")
            return
        jobs: list[tuple[OperationContract, str, Credentials, str | None]]
        jobs = [(operation, MISSING, "none", None) for operation in ctx.operations]
        jobs += [
            (operation, WRONG, "wrong", scheme)
            for operation in ctx.operations
            for scheme in AUTH_SCHEMES
            if operation.accepts_auth(scheme)
        ]
        yield from ctx.map(lambda job: judge(ctx, *job), jobs)


def judge(
    ctx: RunContext, operation: OperationContract, requirement_id: str, which: Credentials, scheme: str | None
) -> Observation:
    sent = "the valid request without credentials" if scheme is None else f"the valid request with a wrong {scheme} key"

    def probe() -> list[Observation]:
        reply = ctx.send(operation, ctx.valid_body(operation), credentials=which, auth_scheme=scheme)
        problem = transport_problem(reply)
        if problem is None and reply.status not in (401, 403):
            problem = f"expected 401 or 403, got {reply.status}"
        if problem is None:
            problem = error_body_problem(reply, operation)
        return [observe(requirement_id, operation, f"{sent}: {problem}" if problem else None, reply)]

    return guarded((requirement_id,), operation, probe)[0]


GROUP = register(AuthGroup())
