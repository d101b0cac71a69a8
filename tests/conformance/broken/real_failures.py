"""Broken relay gateways modelled on what two real gateways did in front of a provider (issue 9), each with several
symptoms across the suite's groups; `pixelpact check` must give each exactly one finding naming its cause.

Each is a `Relay` (tests/conformance/broken/relay.py) in front of the recording upstream, or a wrapped relay for the
faults that sit outside the forwarding path (a route not served).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from pixelpact.conformance.engine.upstream import FAILING_MODEL
from tests.conformance.broken.mutants import truncate_stream
from tests.conformance.broken.relay import Relay, RelayGateway
from tests.conformance.broken.toolkit import Request, Response, on_request, on_response, send_response

#: The fields a careless gateway knows and forwards; everything else it drops (seed, background, moderation ...).
KNOWN_FIELDS = frozenset({"model", "prompt", "n", "size", "response_format", "user", "image", "image[]", "mask"})
DEFAULT_MODEL = "openai/dall-e-2"
#: The key a gateway that wants one takes from its clients.
GATEWAY_KEY = "sk-gateway-pixelpact-0b7e41"
EDITS_AND_VARIATIONS = ("createImageEdit", "createImageVariation")


def _ends_in_500(req: Request, resp: Response) -> Response | None:
    """The provider answered; the gateway fails reading the answer of a multipart route (as one gateway did)."""
    if req.kind in ("edits", "variations") and resp.status < 300:
        return Response.error(500, "Internal Server Error")
    return None


def _streams(req: Request) -> bool:
    return str(req.field("stream")).lower() == "true"  # JSON true, or the multipart text "true"


def _stream_ends_in_500(req: Request, resp: Response) -> Response | None:
    """The provider streamed; the gateway fails relaying a stream (as LiteLLM does) while plain requests work."""
    if _streams(req) and resp.status < 300:
        return Response.error(500, "Internal Server Error")
    return None


def clamp_n(req: Request) -> Request | None:
    try:
        n = int(req.field("n"))
    except (TypeError, ValueError):
        return None
    return req.with_field("n", min(max(n, 1), 10)) if not 1 <= n <= 10 else None


def default_model(req: Request) -> Request | None:
    return req.with_field("model", DEFAULT_MODEL) if req.is_image_route and not req.field("model") else None


def _known_fields_only(req: Request) -> Request | None:
    body = req.json()
    if body is not None:
        return req.with_json({k: v for k, v in body.items() if k in KNOWN_FIELDS})
    form = req.form()
    if form is None:
        return None
    for name in {part.name for part in form.parts if part.name not in KNOWN_FIELDS}:
        form = form.without(name or "")
    return req.with_form(form)


def _placeholder_key(req: Request) -> Request | None:
    """The gateway's provider key comes from an unset variable: JavaScript sends `Bearer undefined`."""
    return req.with_header("authorization", "Bearer undefined")


def not_serving(kind: str, app: ASGIApp) -> ASGIApp:
    """A gateway with no route for `kind` (generations, edits, variations): 404 to anything there."""

    async def gateway(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].rstrip("/").endswith("/" + kind):
            await send_response(send, Response.error(404, f"no {kind} route here"))
            return
        await app(scope, receive, send)

    return gateway


def bearer_only(key: str, app: ASGIApp) -> ASGIApp:
    """A gateway that reads its key from Authorization: Bearer and x-api-key only (as one did): a Basic token is
    looked up as if it were the key, x-bf-vk is never looked at, so the right key sent either way gets a 401."""

    async def gateway(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {name.decode(): value.decode() for name, value in scope.get("headers", [])}
            scheme, _, token = headers.get("authorization", "").partition(" ")
            if not (scheme.lower() == "bearer" and token == key) and headers.get("x-api-key") != key:
                await send_response(send, Response.error(401, "Authentication Error, No api key passed in."))
                return
        await app(scope, receive, send)

    return gateway


@dataclass(frozen=True)
class RealFailure:
    name: str
    finding: str
    """The id of the one finding the suite must report."""
    title: str
    """A phrase the finding's title must contain."""
    relay: Relay
    operations: tuple[str, ...]
    groups: tuple[str, ...]
    wrap: Callable[[ASGIApp], ASGIApp] | None = None
    where: str | None = None
    api_key: str | None = None
    """The key the gateway wants from clients (`check --api-key`), if any."""
    evidence: str | None = None
    """A phrase the finding's evidence must contain."""


GENERATE = ("createImage",)
REAL_FAILURES = (
    RealFailure(
        "500-after-upstream-success",
        "F-server-error-500",
        "edits and variations: requests end in a 500 server error although the provider answered 2xx",
        Relay(incoming=_ends_in_500),
        ("createImage", *EDITS_AND_VARIATIONS),
        ("valid", "robustness", "streaming", "forwarding"),
        where="gateway",
    ),
    RealFailure(
        "stream-500-after-upstream-success",
        "F-server-error-500-stream",
        "generations and edits: stream requests end in a 500 server error although the provider answered 2xx",
        Relay(incoming=_stream_ends_in_500),
        ("createImage", "createImageEdit"),
        ("valid", "streaming", "forwarding"),
        where="gateway",
        evidence="the provider answered 200 but the gateway answered 500",
    ),
    RealFailure(
        # the invalid n reaches the provider clamped: the finding is the change on the way, not the 2xx it causes
        "n-clamped-into-range",
        "F-changed-n",
        "generations: n reaches the provider changed",
        Relay(received=clamp_n),
        GENERATE,
        ("valid", "invalid", "robustness", "forwarding"),
        where="on-the-way",
        evidence="changed n (sent 0, received 1)",
    ),
    RealFailure(
        "default-model-substituted",
        "F-added-fields",
        "generations: the provider receives model, which the client never sent",
        Relay(received=default_model),
        GENERATE,
        ("valid", "invalid", "forwarding"),
        where="on-the-way",
    ),
    RealFailure(
        "optional-and-unknown-fields-dropped",
        "F-dropped-fields",
        "background",
        Relay(outgoing=_known_fields_only),
        ("createImage", "createImageEdit"),
        ("valid", "streaming", "forwarding"),  # stream is dropped too: the stream never starts, for the same cause
        where="on-the-way",
    ),
    RealFailure(
        "every-image-file-forwarded",
        "F-variation-first-file-forwarded",
        'variations: breaks "A variation sent with image[] of several files reaches the provider with exactly',
        Relay(first_file_only=()),
        ("createImageVariation",),
        ("valid", "forwarding"),
    ),
    RealFailure(
        "placeholder-credential",
        "F-placeholder-credential",
        "the provider receives a placeholder credential",
        Relay(outgoing=_placeholder_key),
        GENERATE,
        ("valid", "forwarding"),
        where="gateway",
    ),
    RealFailure(
        "fallbacks-ignored",
        "F-fallbacks-ignored",
        "the fallbacks are never tried",
        Relay(fallbacks=False),
        ("createImage", "createImageEdit"),
        ("valid", "forwarding"),
        where="gateway",
    ),
    RealFailure(
        "provider-fails-gateway-passes-it-on",
        "F-server-error-503-provider-model",
        "generations: requests end in a 503 server error",
        Relay(outgoing=lambda req: req.with_field("model", FAILING_MODEL) if req.is_image_route else None),
        GENERATE,
        ("valid", "forwarding"),
        where="provider",
    ),
    RealFailure(
        # the provider fails only the stream requests (they reach it for the failing model), the gateway passes it on
        "provider-fails-the-stream",
        "F-server-error-503-stream",
        "generations and edits: stream requests end in a 503 server error (the provider's own answer, passed on",
        Relay(outgoing=lambda req: req.with_field("model", FAILING_MODEL) if _streams(req) else None),
        ("createImage", "createImageEdit"),
        ("valid", "streaming", "forwarding"),
        where="provider",
        evidence="the provider answered 503 to the stream request; the gateway passed it on",
    ),
    RealFailure(
        # the gateway fails stream requests itself, before calling the provider: the finding says it never forwarded
        "stream-500-never-forwarded",
        "F-server-error-500-stream",
        "generations and edits: stream requests end in a 500 server error",
        Relay(),
        ("createImage", "createImageEdit"),
        ("valid", "streaming", "forwarding"),
        wrap=lambda app: on_request(
            app, lambda req: Response.error(500, "Internal Server Error") if _streams(req) else None
        ),
        evidence="the gateway never forwarded the stream request",
    ),
    RealFailure(
        # the provider streamed whole; the gateway sends the first event on, then drops the connection
        "stream-broken-off-after-upstream-success",
        "F-no-response-stream",
        "generations and edits: stream requests end without a complete answer (connection dropped or timed out)"
        " although the provider answered 2xx",
        Relay(),
        ("createImage", "createImageEdit"),
        ("valid", "streaming", "forwarding"),
        wrap=lambda app: on_response(app, truncate_stream),
        where="gateway",
        evidence="the provider answered 200 but the gateway's stream broke off",
    ),
    RealFailure(
        "variations-not-served",
        "F-route-not-served",
        "variations: the route is not served",
        Relay(),
        ("createImage", "createImageVariation"),
        ("valid", "invalid", "forwarding"),
        wrap=lambda app: not_serving("variations", app),
    ),
    RealFailure(
        "key-read-from-bearer-only",
        "F-scheme-refused",
        "generations: the right key is refused when sent as Authorization: Basic or in the x-bf-vk header",
        Relay(),
        GENERATE,
        ("valid", "auth", "forwarding"),
        wrap=lambda app: bearer_only(GATEWAY_KEY, app),
        api_key=GATEWAY_KEY,
    ),
)


def relay_gateway(failure: RealFailure, upstream: str) -> Any:
    app = RelayGateway(upstream, failure.relay)
    return failure.wrap(app) if failure.wrap is not None else app
