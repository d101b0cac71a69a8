"""Auth, when --api-key says the gateway needs one: the same valid request without credentials, and with a wrong
key sent each way the operation's security allows (Bearer, Basic, x-bf-vk, x-api-key, api-key), must get 401 or
403 with the spec's error body. A gateway that checks the key in one header but waves any value through another is
as open as one that checks nothing. And the right key must be accepted in every one of those ways: the spec's
security alternatives are the gateway's promise, and a client using any of them (curl -u, an Azure SDK sending
`api-key`, a Bifrost virtual key in x-bf-vk) must get through, not only the one --auth picks.

Basic carries the key as the password with the user name `pixelpact` (a key containing ':' is sent as the
user:password it is); the stub gateway accepts a key in either half, so `curl -u KEY:` works too.

Without --api-key every requirement is reported skipped: an open gateway (Bifrost's default) is not at fault. A
refusal counts only where the same request with the key was accepted (a gateway that refuses everything proves
nothing about keys), and a 404, 405, 429 or redirect to the keyless request is no answer about credentials.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from pixelpact.conformance.catalogue.evidence import unattributable
from pixelpact.conformance.catalogue.requirements import AUTH
from pixelpact.conformance.engine.context import AUTH_SCHEMES, Credentials, RunContext
from pixelpact.conformance.engine.contract import OperationContract
from pixelpact.conformance.groups._judge import error_body_problem, guarded, observe, skip, transport_problem
from pixelpact.conformance.model import Observation, Unjudged

MISSING = "auth-missing-rejected"
WRONG = "auth-wrong-key-rejected"
ACCEPTED = "auth-scheme-accepted"
#: The cause told on a key refused in one listed scheme but accepted in another
#: (pixelpact.conformance.catalogue.findings).
SCHEME_REFUSED = "scheme-refused"
#: 4xx answers that say nothing of the key: the route is not served, or the client is rate limited.
NOT_ABOUT_THE_KEY = frozenset({404, 405, 429})

#: The http schemes the suite can send a key in; apiKey schemes are sent in the header the spec names.
HTTP_SCHEMES = ("bearer", "basic")


class AuthGroup:
    name = "auth"
    requirements = AUTH

    def run(self, ctx: RunContext) -> Iterator[Observation]:
        if not ctx.target.api_key:
            for operation in ctx.operations:
                for requirement_id in (MISSING, WRONG, ACCEPTED):
                    yield skip(
                        requirement_id,
                        operation,
                        "no --api-key given: the gateway is checked as an open one",
                        Unjudged.NOT_APPLICABLE,
                    )
            return
        refusals: list[tuple[OperationContract, str, Credentials, str | None]]
        refusals = [(operation, MISSING, "none", None) for operation in ctx.operations]
        refusals += [
            (operation, WRONG, "wrong", scheme)
            for operation in ctx.operations
            for scheme in AUTH_SCHEMES
            if operation.accepts_auth(scheme)
        ]
        # One request per scheme the spec lists for the operation (read from its security, not from AUTH_SCHEMES).
        acceptances: list[tuple[OperationContract, str, Credentials, str | None]] = [
            (operation, ACCEPTED, "default", scheme) for operation in ctx.operations for scheme in listed(operation)
        ]
        accepted = list(ctx.map(lambda job: judge(ctx, *job), acceptances))
        accepting = {o.operation_id for o in accepted if o.passed and not o.skipped}
        for (_, _, _, scheme), observation in zip(acceptances, accepted, strict=True):
            yield refused_scheme(observation, scheme, accepting)
        # A 401 to a request without the key proves the key is needed only where the same request with it got a 2xx:
        # a gateway refusing everything refuses the keyless request too.
        for observation in ctx.map(lambda job: judge(ctx, *job), refusals):
            if observation.passed and observation.operation_id not in accepting:
                why = "refused, but the same request with the key was refused too: the refusal shows nothing of the key"
                yield replace(observation, passed=False, message=why, skipped=True, reason=Unjudged.NO_EVIDENCE)
            else:
                yield observation
        for operation in ctx.operations:
            if not operation.auth_schemes:
                yield skip(
                    ACCEPTED, operation, "the spec lists no security scheme for this operation", Unjudged.NOT_APPLICABLE
                )
            for scheme in operation.auth_schemes:
                if not sendable(operation, scheme):
                    yield skip(ACCEPTED, operation, f"the spec's http scheme {scheme!r} is not one the suite can send")


def refused_scheme(observation: Observation, scheme: str | None, accepting: set[str]) -> Observation:
    """A key refused in one of the spec's schemes while the same key got through in another is its own cause (the
    gateway does not read that scheme, e.g. a Basic token looked up as if it were the key): the findings cluster such
    refusals into one finding naming the schemes, apart from whatever the refusal's status says elsewhere. Refusals
    where no scheme got through are not told apart: the valid request's own failure explains them."""
    exchange = observation.exchange
    status = exchange.status if exchange is not None else None
    # a refusal: a 4xx that is about the request (401/403 or a lookup's 400), not a missing route or a rate limit
    refused = status is not None and 400 <= status < 500 and status not in NOT_ABOUT_THE_KEY
    if observation.passed or observation.skipped or not refused or observation.operation_id not in accepting:
        return observation
    return replace(observation, cause=f"{SCHEME_REFUSED}:{scheme}")


def sendable(operation: OperationContract, scheme: str) -> bool:
    return scheme in HTTP_SCHEMES or scheme in operation.security_headers


def listed(operation: OperationContract) -> list[str]:
    """The schemes the operation's security lists that the suite can send a key in, in spec order."""
    return [scheme for scheme in operation.auth_schemes if sendable(operation, scheme)]


def describe(scheme: str) -> str:
    return f"Authorization: {scheme.capitalize()}" if scheme in HTTP_SCHEMES else f"the {scheme} header"


def judge(
    ctx: RunContext, operation: OperationContract, requirement_id: str, which: Credentials, scheme: str | None
) -> Observation:
    if scheme is None:
        sent = "the valid request without credentials"
    elif which == "wrong":
        sent = f"the valid request with a wrong {scheme} key"
    else:
        sent = f"the valid request with the key in {describe(scheme)}"

    def probe() -> list[Observation]:
        reply = ctx.send(operation, ctx.valid_body(operation), credentials=which, auth_scheme=scheme)
        problem = transport_problem(reply)
        if which == "default":
            if problem is None and not 200 <= (reply.status or 0) < 300:
                refused = "refused, " if reply.status in (401, 403) else ""
                problem = f"{refused}expected 2xx, got {reply.status}: the spec lists {scheme} for this operation"
        else:
            why = unattributable(reply.status)
            if problem is None and reply.status not in (401, 403) and why is not None:
                return [skip(requirement_id, operation, f"{sent}: got {why}", reply=reply)]
            if problem is None and reply.status not in (401, 403):
                problem = f"expected 401 or 403, got {reply.status}"
            if problem is None:
                problem = error_body_problem(reply, operation)
        return [observe(requirement_id, operation, f"{sent}: {problem}" if problem else None, reply)]

    return guarded((requirement_id,), operation, probe)[0]


GROUP = AuthGroup()
