"""A correct forwarding gateway, for breaking what a gateway sends to the provider behind it (the forwarding group).

The stub is a provider-shaped endpoint, not a gateway: what it "forwards" cannot be wrong. `RelayGateway` is the
smallest gateway that forwards correctly to the recording upstream the suite starts (`--upstream-port`): it sends the
client's request on with its own credentials, a variation's first file only, and tries the fallbacks itself when the
provider fails the primary model. A `Relay` breaks exactly one of those duties.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import httpx
from starlette.types import Receive, Scope, Send

from pixelpact.generator.runtime.credentials import KEY_HEADERS
from tests.conformance.broken.toolkit import Request, Response, read_body, send_response

#: The gateway's own provider key: what the provider must see instead of the client's key.
GATEWAY_KEY = "sk-relay-gateway-own-key"


def _keep(req: Request) -> Request | None:
    return None


def _pass(req: Request, resp: Response) -> Response | None:
    return None


@dataclass(frozen=True)
class Relay:
    """How a relay gateway behaves; the defaults forward correctly."""

    received: Callable[[Request], Request | None] = _keep
    """Changes the client's request as the gateway reads it (before its own handling)."""
    outgoing: Callable[[Request], Request | None] = _keep
    """Changes each request on its way to the provider (after the gateway's own handling)."""
    incoming: Callable[[Request, Response], Response | None] = _pass
    """Changes the provider's answer on its way back to the client."""
    fallbacks: bool = True
    """Tries `fallbacks` itself, in order, while the provider answers 5xx (False: forwards the field as is)."""
    fallback_objects: bool = True
    """Reads {provider, model} fallbacks (False: takes every entry as a provider/model string, an object's text too)."""
    own_credentials: bool = True
    """Replaces the client's credentials with GATEWAY_KEY (False: passes the client's Authorization on)."""
    first_file_only: tuple[str, ...] = ("variations",)
    """Operation kinds sent only their first image file (the spec: variations use the first, edits all of them)."""


def first_file(req: Request, kinds: tuple[str, ...]) -> Request:
    """A request of one of `kinds` with several image files, reduced to its first one (sent as `image`)."""
    form = req.form()
    if form is None or req.kind not in kinds:
        return req
    files = [p for p in form.parts if p.name in {"image", "image[]"}]
    if len(files) <= 1:
        return req
    kept = [p for p in form.parts if p.name not in {"image", "image[]"}]
    return req.with_form(replace(form, parts=[*kept, replace(files[0], raw_headers=_renamed(files[0].raw_headers))]))


def _renamed(raw_headers: bytes) -> bytes:
    return raw_headers.replace(b'name="image[]"', b'name="image"', 1)


class RelayGateway:
    """ASGI app: a gateway relaying the image routes to `upstream` (a base URL) as `relay` says."""

    def __init__(self, upstream: str, relay: Relay | None = None) -> None:
        self.upstream = upstream.rstrip("/")
        self.relay = relay or Relay()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        req = Request(scope["method"], scope["path"], scope.get("query_string", b""), list(scope["headers"]), b"")
        req.body = await read_body(receive)
        await send_response(send, await self.handle(req))

    async def handle(self, req: Request) -> Response:
        relay = self.relay
        out = relay.received(req) or req
        if relay.own_credentials:
            for name in KEY_HEADERS:
                out = out.with_header(name, None)
            out = out.with_header("authorization", f"Bearer {GATEWAY_KEY}")
        out = first_file(out, relay.first_file_only)
        models: list[Any] = [out.field("model")]
        if relay.fallbacks and req.is_image_route:
            fallbacks = out.fallback_models(objects=relay.fallback_objects)
            if fallbacks:
                models += fallbacks
                out = out.with_field("fallbacks", None)
        async with httpx.AsyncClient(timeout=30.0) as client:
            for index, model in enumerate(models):
                attempt = out.with_field("model", model) if index else out
                attempt = relay.outgoing(attempt) or attempt
                resp = await self._forward(client, attempt)
                if resp.status < 500:
                    break
        return relay.incoming(req, resp) or resp

    async def _forward(self, client: httpx.AsyncClient, req: Request) -> Response:
        headers = {
            k.decode("latin-1"): v.decode("latin-1")
            for k, v in req.headers
            if k.lower() in {b"content-type", b"authorization", b"x-bf-vk", b"x-api-key", b"api-key", b"accept"}
        }
        url = self.upstream + req.path + (f"?{req.query.decode('latin-1')}" if req.query else "")
        answer = await client.request(req.method, url, headers=headers, content=req.body)
        ctype = answer.headers.get("content-type", "application/octet-stream")
        return Response(answer.status_code, [(b"content-type", ctype.encode("latin-1"))], answer.content)
