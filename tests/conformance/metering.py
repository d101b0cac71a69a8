"""A provider meter in front of the stub: counts what a run made a provider generate, and can act slow or busy.

`Meter(app)` wraps any ASGI app (the stub) and counts requests and the images it actually generated (the length of
`data` in a 200 JSON answer, one per `*.completed` event in a stream) with their megapixels. `latency` seconds per
generated image delay each answer (a slow provider, for the bench); `busy` answers the first `busy` POSTs of
every route with 429 and `Retry-After: retry_after` (a rate-limited one). Used by tests/conformance/test_cost.py and
bench/cost_bench.py.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pixelpact.conformance.wire.spend import ask_of, body_fields


@dataclass
class Meter:
    app: ASGIApp
    latency: float = 0.0
    """Seconds per generated image before the answer goes out."""
    busy: int = 0
    """How many requests per path get a 429 before the path answers normally (-1: every request)."""
    retry_after: str | None = "0"
    requests: int = 0
    images: int = 0
    megapixels: float = 0.0
    rejected: int = 0
    _seen: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_pixelpact/requests"):
            await self.app(scope, receive, send)
            return
        with self._lock:
            self.requests += 1
            seen = self._seen[scope["path"]] = self._seen.get(scope["path"], 0) + 1
        if scope["method"] == "POST" and (self.busy < 0 or seen <= self.busy):
            with self._lock:
                self.rejected += 1
            await _drain(receive)
            headers = [(b"content-type", b"application/json")]
            if self.retry_after is not None:
                headers.append((b"retry-after", self.retry_after.encode()))
            await send({"type": "http.response.start", "status": 429, "headers": headers})
            await send({"type": "http.response.body", "body": b'{"error": {"message": "slow down"}}'})
            return
        messages: list[Message] = []
        received: list[bytes] = []

        async def keep(message: Message) -> None:
            messages.append(message)

        async def tap() -> Message:
            message = await receive()
            received.append(message.get("body", b""))
            return message

        await self.app(scope, tap, keep)
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        start = next((m for m in messages if m["type"] == "http.response.start"), None)
        images = _images(start, body)
        megapixels = images * _size_asked(scope, b"".join(received))
        with self._lock:
            self.images += images
            self.megapixels += megapixels
        if self.latency and images:
            await asyncio.sleep(self.latency * images)
        for message in messages:
            await send(message)


async def _drain(receive: Receive) -> None:
    more = True
    while more:
        message = await receive()
        more = message["type"] == "http.request" and message.get("more_body", False)


def _images(start: Message | None, body: bytes) -> int:
    if start is None or start["status"] != 200:
        return 0
    headers = dict(start.get("headers", []))
    content_type = headers.get(b"content-type", b"").decode()
    if "event-stream" in content_type:
        return len(re.findall(rb'"type"\s*:\s*"[a-z_]+\.completed"', body))
    if "json" not in content_type:
        return 0
    try:
        document: Any = json.loads(body)
    except ValueError:
        return 0
    data = document.get("data") if isinstance(document, dict) else None
    return len(data) if isinstance(data, list) else 0


def _size_asked(scope: Scope, body: bytes) -> float:
    """Megapixels of one image as the request asked for it (1024x1024 when it names no size, or auto)."""
    headers = dict(scope.get("headers", []))
    content_type = headers.get(b"content-type", b"").decode("latin-1")
    ask = ask_of("POST", scope["path"], body_fields(None, None, body, content_type))
    return ask.megapixels / ask.images if ask.images else 1024 * 1024 / 1e6
