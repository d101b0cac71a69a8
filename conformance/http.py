"""The suite's HTTP side: wire requests, the budgeted sender, and redacted evidence (curl lines, excerpts).

Every request the suite makes goes through `Sender.send`, which enforces --max-requests and --timeout, reuses
connections, never raises on transport errors (a dropped connection is evidence, not a crash) and turns each
exchange into an `Exchange` from which every credential has been removed.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from conformance.model import Exchange
from conformance.ratelimit import Pacer
from conformance.spend import Budget, BudgetExhausted, Spent, ask_of, body_fields

__all__ = ["Budget", "BudgetExhausted", "Spent"]  # re-exported: their home is conformance.spend

BOUNDARY = "pixelpact-boundary-7f3a9c"
EXCERPT_CHARS = 1200
_LONG_STRING = re.compile(r'"([A-Za-z0-9+/=_\-]{160,})"')


@dataclass(frozen=True)
class Part:
    """One multipart part: a text field, or a file when `filename` is set."""

    name: str
    value: str | bytes
    filename: str | None = None
    content_type: str | None = None


@dataclass(frozen=True)
class WireRequest:
    """A request ready to send: a JSON body, multipart parts, or raw bytes (for deliberately broken bodies)."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    json_body: Any = None
    parts: tuple[Part, ...] | None = None
    raw: bytes | None = None
    content_type: str | None = None
    """Content-Type of a raw body."""

    def encode(self) -> tuple[bytes, str | None]:
        """The body bytes and their Content-Type."""
        if self.parts is not None:
            return encode_multipart(self.parts), f"multipart/form-data; boundary={BOUNDARY}"
        if self.raw is not None:
            return self.raw, self.content_type
        if self.json_body is not None:
            return json.dumps(self.json_body).encode(), "application/json"
        return b"", self.content_type


def encode_multipart(parts: Iterable[Part]) -> bytes:
    """Encode parts by hand (not via httpx) so hostile part names reach the wire exactly as written."""
    chunks: list[bytes] = []
    for part in parts:
        disposition = f'form-data; name="{part.name}"'
        if part.filename is not None:
            disposition += f'; filename="{part.filename}"'
        head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
        if part.content_type:
            head += f"Content-Type: {part.content_type}\r\n"
        value = part.value.encode() if isinstance(part.value, str) else part.value
        chunks.append(head.encode("utf-8", "surrogateescape") + b"\r\n" + value + b"\r\n")
    chunks.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(chunks)


@dataclass
class Reply:
    """What came back: the response (or the transport error) and its redacted evidence."""

    exchange: Exchange
    status: int | None
    headers: httpx.Headers
    content: bytes
    error: str | None = None
    _json: Any = field(default=None, repr=False)
    _parsed: bool = field(default=False, repr=False)

    @property
    def content_type(self) -> str:
        value: str = self.headers.get("content-type", "")
        return value.split(";")[0].strip().lower()

    def json(self) -> Any:
        """The body parsed as JSON, or None when it is not JSON."""
        if not self._parsed:
            self._parsed = True
            try:
                self._json = json.loads(self.content)
            except ValueError:
                self._json = None
        return self._json

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


class Redactor:
    """Removes every form a credential can take (raw, base64 of Basic auth, password part) from evidence text."""

    MASK = "***"

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = sorted({secret for secret in secrets if len(secret) >= 3}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, self.MASK)
        return text


class Sender:
    """Sends wire requests over one pooled client, within a request budget; thread-safe."""

    def __init__(
        self,
        *,
        timeout: float,
        concurrency: int,
        max_requests: int | None,
        redactor: Redactor,
        transport: httpx.BaseTransport | None = None,
        budget: Budget | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self._client = httpx.Client(timeout=httpx.Timeout(timeout), limits=limits, transport=transport)
        self._timeout = timeout
        self.budget = budget or Budget(max_requests=max_requests)
        self.pacer = pacer or Pacer()
        self.last_refusal: BudgetExhausted | None = None
        self.redact = redactor

    @property
    def requests_sent(self) -> int:
        return self.budget.spent.requests

    def close(self) -> None:
        self._client.close()

    def send(self, request: WireRequest) -> Reply:
        """Send one request within the budget and the pace; a 429 is waited out and retried (see ratelimit)."""
        fields = body_fields(request.json_body, request.parts, request.raw, request.content_type)
        ask = ask_of(request.method, request.url, fields)
        # a provider takes seconds per image: --timeout is per image for a request asking for several
        timeout = httpx.Timeout(self._timeout * max(1, ask.images), connect=self._timeout)
        try:
            self.budget.spend(ask)
            attempt = 0
            while True:
                self.pacer.before_request()
                reply = self._send_once(request, timeout)
                if reply.status != 429:
                    return reply
                attempt += 1
                self.pacer.after_429(reply.headers.get("retry-after"), attempt)
                self.budget.retry()
        except BudgetExhausted as exc:
            self.last_refusal = exc  # for callers that only learn "spent" (schemathesis): why, and the reason
            raise

    def _send_once(self, request: WireRequest, timeout: httpx.Timeout) -> Reply:
        """Send one request and read the whole answer; transport errors become a Reply with `error` set."""
        body, content_type = request.encode()
        headers = dict(request.headers)
        if content_type is not None:
            headers["Content-Type"] = content_type
        curl = self.redact(curl_line(request, headers))
        status: int | None = None
        response_headers = httpx.Headers()
        chunks: list[bytes] = []
        error: str | None = None
        try:
            # Streamed so that a connection dropped mid-body still leaves the status and the bytes read so far.
            with self._client.stream(
                request.method, request.url, headers=headers, content=body, timeout=timeout
            ) as resp:
                status, response_headers = resp.status_code, resp.headers
                for chunk in resp.iter_bytes():
                    chunks.append(chunk)
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        content = b"".join(chunks)
        exchange = Exchange(
            method=request.method,
            url=self.redact(request.url),
            curl=curl,
            status=status,
            response_headers=tuple((k, self.redact(v)) for k, v in response_headers.items()),
            # redacted before it is cut, so a key split by the cut cannot survive in part
            body_excerpt=excerpt(self.redact(content.decode("utf-8", "replace"))),
            error=self.redact(error) if error else None,
        )
        return Reply(exchange=exchange, status=status, headers=response_headers, content=content, error=error)


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """A readable excerpt of a body: long base64 strings shortened, then cut at `limit` characters."""
    text = _LONG_STRING.sub(lambda m: f'"{m.group(1)[:24]}...<{len(m.group(1))} chars>"', text)
    return text if len(text) <= limit else text[:limit] + f"... <{len(text) - limit} more chars>"


def _quote(text: str) -> str:
    """Shell-quote, using $'...' when the text holds characters a plain quote cannot carry readably."""
    if text.isprintable():
        return shlex.quote(text)
    escaped = "".join(ch if ch.isprintable() and ch not in "'\\" else _escape(ch) for ch in text)
    return f"$'{escaped}'"


def _escape(ch: str) -> str:
    if ch in "'\\":
        return "\\" + ch
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(
        ch, f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}"
    )


def curl_line(request: WireRequest, headers: Mapping[str, str]) -> str:
    """A curl command reproducing the request (file parts name a local file of the same kind)."""
    words = ["curl", "-sS", "-X", request.method, _quote(request.url)]
    for name, value in headers.items():
        if request.parts is not None and name.lower() == "content-type":
            continue  # curl writes its own boundary for -F
        words += ["-H", _quote(f"{name}: {value}")]
    if request.parts is not None:
        for part in request.parts:
            if part.filename is not None:
                kind = f";type={part.content_type}" if part.content_type else ""
                words += ["-F", _quote(f"{part.name}=@{part.filename}{kind}")]
            else:
                value = part.value if isinstance(part.value, str) else part.value.decode("utf-8", "replace")
                words += ["--form-string", _quote(f"{part.name}={value}")]
    elif request.raw is not None:
        words += ["--data-binary", _quote(request.raw.decode("utf-8", "replace"))]
    elif request.json_body is not None:
        words += ["--data-raw", _quote(json.dumps(request.json_body))]
    return " ".join(words)
