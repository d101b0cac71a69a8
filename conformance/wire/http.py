"""The suite's HTTP side: wire requests, the budgeted sender, and redacted evidence (curl lines, excerpts).

Every request the suite makes goes through `Sender.send`, which enforces --max-requests and --timeout, reuses
connections, never raises on transport errors (a dropped connection is evidence, not a crash) and turns each
exchange into an `Exchange` from which every credential has been removed.
"""

from __future__ import annotations

import io
import json
import re
import shlex
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import httpx

from pixelpact.conformance.model import Exchange, Observation, Unjudged
from pixelpact.conformance.wire.deadline import Deadlines, install
from pixelpact.conformance.wire.headers import is_secret, merged
from pixelpact.conformance.wire.limits import MAX_BODY as MAX_BODY  # re-exported: the default cap on a response body
from pixelpact.conformance.wire.limits import TOO_LARGE, cap_text
from pixelpact.conformance.wire.meaning import meaning
from pixelpact.conformance.wire.ratelimit import Pacer
from pixelpact.conformance.wire.spend import Ask, Budget, BudgetExhausted, Spent, ask_of, body_fields
from pixelpact.generator.runtime.credentials import long_enough

__all__ = ["Budget", "BudgetExhausted", "Spent"]  # re-exported: their home is pixelpact.conformance.wire.spend

BOUNDARY = "pixelpact-boundary-7f3a9c"
EXCERPT_CHARS = 1200
#: A long base64-like string, shortened in excerpts; possessive ({160,}+): a run with no closing quote (a body cut at
#: the cap) fails at once instead of backtracking through all of it (3 s for 32 MB)
_LONG_STRING = re.compile(rb'"([A-Za-z0-9+/=_\-]{160,}+)"')
#: The password of a URL with credentials: "scheme://user:" before it, "@" after.
_USERINFO = re.compile(r"(://[^/?#@\s:]*:)[^/?#@\s]+@")
#: A target that answered none of the run's first this many requests (timeouts, refusals, resets) is not a gateway
#: the suite can judge; the run stops instead of spending a --timeout on each of its remaining requests.
SILENT_AFTER = 6


class TimeUp(BudgetExhausted):
    """The run's --max-time has passed; nothing more is sent and the pairs left are not judged (time)."""

    reason = Unjudged.TIME


class TargetSilent(BudgetExhausted):
    """The target answered none of the run's first requests; the run stops, as it could not judge (exit 2)."""

    reason = Unjudged.ERROR


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
    """Removes every form a credential can take (raw, base64 of Basic auth, password part) from evidence text.

    A secret long enough to be one (pixelpact.generator.runtime.credentials) is masked wherever it appears; a shorter
    one only in the value of a credential header, or of a header the user marked (`marked`): masked everywhere, a
    three-letter value would take every word containing it with it. A URL's password is masked wherever a URL shows
    one (`http://user:***@host`).
    """

    MASK = "***"

    def __init__(self, secrets: Iterable[str] = (), marked: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        self._short: list[str] = []
        self._marked = tuple(marked)
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        """Secrets to remove from now on (the key's forms, secret header values)."""
        known = {*self._secrets, *self._short, *(secret for secret in secrets if secret)}
        # longest first, so a secret that contains another is masked whole
        self._secrets = sorted((secret for secret in known if long_enough(secret)), key=len, reverse=True)
        self._short = sorted((secret for secret in known if not long_enough(secret)), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, self.MASK)
        return _USERINFO.sub(rf"\1{self.MASK}@", text) if "@" in text else text

    def header(self, name: str, value: str) -> tuple[str, str]:
        """A header as evidence shows it: name and value redacted, a credential header's short secrets too."""
        value = self(value)
        if self._short and is_secret(name, self._marked):
            for secret in self._short:
                value = value.replace(secret, self.MASK)
        return self(name), value

    def headers(self, headers: Iterable[tuple[str, str]]) -> dict[str, str]:
        """Every header as evidence shows it (see `header`)."""
        return dict(self.header(name, value) for name, value in headers)

    def data(self, data: bytes) -> bytes:
        """`data` with every secret (UTF-8) masked; the same object when none is in it."""
        for secret in self._secrets:
            raw = secret.encode()
            if raw in data:
                data = data.replace(raw, self.MASK.encode())
        return data

    def exchange(self, exchange: Exchange) -> Exchange:
        """The exchange with every text field redacted, header names included."""
        return replace(
            exchange,
            url=self(exchange.url),
            curl=self(exchange.curl),
            response_headers=tuple(self.header(name, value) for name, value in exchange.response_headers),
            body_excerpt=self(exchange.body_excerpt),
            error=None if exchange.error is None else self(exchange.error),
        )

    def observation(self, observation: Observation) -> Observation:
        """The observation with its message and exchange redacted: a group may quote what the gateway sent back."""
        exchange = None if observation.exchange is None else self.exchange(observation.exchange)
        return replace(observation, message=self(observation.message), exchange=exchange)


class Sender:
    """Sends wire requests over one pooled client, within a request budget and the run's time; thread-safe.

    Each request has `timeout` seconds in total (connect, first byte, the whole body or stream) and its body is read up
    to `max_body` bytes, held once, so memory stays within about max_body x concurrency whatever the gateway sends; a
    body whose Content-Length is beyond the cap is not read at all.
    """

    def __init__(
        self,
        *,
        timeout: float,
        concurrency: int,
        max_requests: int | None,
        redactor: Redactor,
        transport: httpx.BaseTransport | None = None,
        headers: tuple[tuple[str, str], ...] = (),
        gateway: str | None = None,
        max_time: float | None = None,
        max_body: int = MAX_BODY,
        budget: Budget | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        """`headers` (--header) go on every request to the `gateway` base URL's host, never to another host."""
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self._client = httpx.Client(timeout=httpx.Timeout(timeout), limits=limits, transport=transport)
        self._timeout = timeout
        self._max_body = max_body
        self.budget = budget or Budget(max_requests=max_requests)
        self.pacer = pacer or Pacer()
        self.last_refusal: BudgetExhausted | None = None
        self._max_time = max_time
        self._run_deadline = None if max_time is None else time.monotonic() + max_time
        self._lock = threading.Lock()
        self._interrupted = False
        self._answered = False
        self._unanswered: list[str] = []
        self._remembered: dict[str, Reply] = {}
        """meaning -> the 2xx answer of a request sent with `remember` (the shared control)."""
        self.stopped: BudgetExhausted | None = None
        """Why the sender refuses to send (budget, time, a silent target), once it does."""
        self.statuses: Counter[int] = Counter()
        """How many responses came back with each status."""
        self.redact = redactor
        self._custom_headers = headers
        self._gateway = urlsplit(gateway).netloc if gateway else None
        self.deadlines = Deadlines()
        self.deadlines.aborted = lambda: self._interrupted or self._time_up() or isinstance(self.stopped, TargetSilent)
        install(self._client, self.deadlines)

    @property
    def custom_headers(self) -> dict[str, str]:
        """The --header headers every request to the gateway carries."""
        return dict(self._custom_headers)

    @property
    def requests_sent(self) -> int:
        return self.budget.spent.requests

    @property
    def timeout(self) -> float:
        """Seconds each request has in total (--timeout)."""
        return self._timeout

    @property
    def max_body(self) -> int:
        """Bytes of a response body read at most (--max-body-mb)."""
        return self._max_body

    @property
    def interrupted(self) -> bool:
        return self._interrupted

    def interrupt(self) -> None:
        """Ctrl-C: requests in flight end within a fraction of a second and nothing more is sent (safe in a signal
        handler: it only sets a flag)."""
        self._interrupted = True

    def close(self) -> None:
        self._client.close()

    def _time_up(self) -> bool:
        return self._run_deadline is not None and time.monotonic() >= self._run_deadline

    def _stop(self, stop: BudgetExhausted) -> BudgetExhausted:
        if self.stopped is None:
            self.stopped = stop
        return stop

    def _spend(self, ask: Ask) -> None:
        if self._interrupted:
            raise KeyboardInterrupt
        with self._lock:
            if self._time_up():
                raise self._stop(TimeUp(f"the run's time (--max-time {self._max_time:g} s) is spent"))
            if isinstance(self.stopped, TargetSilent):
                raise TargetSilent(str(self.stopped))
        try:
            self.budget.spend(ask)  # --max-requests, --max-images (pixelpact.conformance.wire.spend)
        except BudgetExhausted as exc:
            raise self._stop(exc) from None

    def _answer(self, status: int | None, error: str | None) -> None:
        """Count the answer; a target that answered none of the first SILENT_AFTER requests stops the run."""
        with self._lock:
            if status is not None:
                self._answered = True
                self.statuses[status] += 1
                return
            if self._answered or error is None:
                return
            self._unanswered.append(error.split(":", 1)[0])
            if len(self._unanswered) >= SILENT_AFTER and self.stopped is None:
                kinds = Counter(self._unanswered)
                counted = ", ".join(f"{kind} x{count}" for kind, count in kinds.most_common())
                slow = f" (or slower than --timeout {self._timeout:g} s?)" if set(kinds) == {"Timeout"} else ""
                self.stopped = TargetSilent(
                    f"the target answered none of the first {len(self._unanswered)} requests ({counted}): "
                    f"nothing could be judged; is it a gateway, and up{slow}?"
                )

    def _read(
        self, request: WireRequest, headers: dict[str, str], body: bytes, timeout: float
    ) -> tuple[int | None, httpx.Headers, bytes, str | None]:
        """Status, headers, body (at most max_body bytes) and the transport error; within the request's deadline."""
        status: int | None = None
        response_headers = httpx.Headers()
        # BytesIO, not a list of chunks joined at the end: its getvalue() hands over its buffer, so a body near the cap
        # is held once, not twice
        received = io.BytesIO()
        size = 0
        error: str | None = None
        deadline = time.monotonic() + timeout
        if self._run_deadline is not None:
            deadline = min(deadline, self._run_deadline)
        try:
            # Streamed so that a connection dropped mid-body still leaves the status and the bytes read so far.
            with (
                self.deadlines.within(deadline),
                self._client.stream(
                    request.method, request.url, headers=headers, content=body, timeout=self._httpx_timeout(timeout)
                ) as resp,
            ):
                status, response_headers = resp.status_code, resp.headers
                error = self._declared_too_large(resp.headers.get("content-length"))
                # an answer that says it is larger than the cap is not read at all (leaving the block closes the
                # connection unread); one that does not say is read up to the cap
                for chunk in resp.iter_bytes() if error is None else ():
                    size += len(chunk)
                    if size > self._max_body:
                        received.write(chunk[: len(chunk) - (size - self._max_body)])
                        error = f"{TOO_LARGE}: the answer is larger than the {cap_text(self._max_body)} cap"
                        error += " (--max-body-mb): read up to it"
                        break
                    received.write(chunk)
                    if time.monotonic() >= deadline:  # transports without the deadline backend (tests)
                        raise httpx.ReadTimeout("the request's deadline passed")
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            if time.monotonic() >= deadline:
                per_image = "" if timeout == self._timeout else f" {self._timeout:g} s per image"
                error = f"Timeout: no complete response within {timeout:g} s (--timeout{per_image})"
        return status, response_headers, received.getvalue(), error

    def _declared_too_large(self, content_length: str | None) -> str | None:
        """The error for an answer whose Content-Length exceeds the cap, else None."""
        if content_length is None or not content_length.strip().isdigit() or int(content_length) <= self._max_body:
            return None
        return (
            f"{TOO_LARGE}: the answer declares {int(content_length)} bytes (Content-Length), more than the "
            f"{cap_text(self._max_body)} cap (--max-body-mb): not read"
        )

    def _httpx_timeout(self, timeout: float) -> httpx.Timeout:
        """httpx's own timeouts for a request of `timeout` seconds (connecting is not per image)."""
        return httpx.Timeout(timeout, connect=min(timeout, self._timeout))

    def send(self, request: WireRequest, *, remember: bool = False, reuse: bool = False) -> Reply:
        """Send one request within the budget and the pace; a 429 is waited out and retried (see ratelimit).

        `remember`: a 2xx answer stands for any later request of the same meaning (pixelpact.conformance.wire.meaning)
        sent with `reuse`, which gets it without a request, so the provider does not make the same image twice (the
        valid control answers schemathesis's cheapest example and the properties' cheapest draw). A request whose point
        is to be sent again (still answering after hostile input) is never sent with `reuse`."""
        key = meaning(request) if remember or reuse else None
        if reuse and key is not None:
            with self._lock:
                answered = self._remembered.get(key)
            if answered is not None:
                return answered
        reply = self._send(request)
        if (
            remember
            and key is not None
            and reply.error is None
            and reply.status is not None
            and 200 <= reply.status < 300
        ):
            with self._lock:
                self._remembered.setdefault(key, reply)
        return reply

    def _send(self, request: WireRequest) -> Reply:
        fields = body_fields(request.json_body, request.parts, request.raw, request.content_type)
        ask = ask_of(request.method, request.url, fields)
        # a provider takes seconds per image: --timeout is per image for a request asking for several
        timeout = self._timeout * max(1, ask.images)
        try:
            self._spend(ask)
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

    def _send_once(self, request: WireRequest, timeout: float) -> Reply:
        """Send one request and read the whole answer; transport errors become a Reply with `error` set."""
        body, content_type = request.encode()
        headers = dict(request.headers)
        if self._custom_headers and urlsplit(request.url).netloc == self._gateway:
            headers = merged(self._custom_headers, headers)
        if content_type is not None:
            headers["Content-Type"] = content_type
        curl = self.redact(curl_line(request, self.redact.headers(headers.items())))
        status, response_headers, content, error = self._read(request, headers, body, timeout)
        if self._interrupted:
            raise KeyboardInterrupt  # a request cut by Ctrl-C is no evidence about the gateway
        if error is not None and self._time_up():
            raise self._stop(TimeUp(f"the run's time (--max-time {self._max_time:g} s) ran out"))
        if status is None and isinstance(self.stopped, TargetSilent):
            raise TargetSilent(str(self.stopped))  # cut short because the target is silent: no evidence either way
        self._answer(status, error)
        exchange = Exchange(
            method=request.method,
            url=self.redact(request.url),
            curl=curl,
            status=status,
            # names too: a gateway may echo the key in a header's name
            response_headers=tuple(self.redact.header(k, v) for k, v in response_headers.items()),
            body_excerpt=body_excerpt(content, self.redact),
            error=self.redact(error) if error else None,
        )
        if error is not None and error.startswith(TOO_LARGE):
            # cut at the cap, it is no answer to judge: only its excerpt is kept, so however many of them the run
            # gets, it holds at most a cap's worth per request in flight
            content = b""
        return Reply(exchange=exchange, status=status, headers=response_headers, content=content, error=error)


def body_excerpt(content: bytes, redact: Redactor, limit: int = EXCERPT_CHARS) -> str:
    """A readable excerpt of a body: redacted, long base64 strings shortened, cut at `limit` characters.

    Redacted first, so a key split by the cut cannot survive in part; only what is shown is decoded, so a body near
    the cap is not copied into text several times over.
    """
    content = _LONG_STRING.sub(
        lambda m: b'"' + m.group(1)[:24] + b"...<%d chars>" % len(m.group(1)) + b'"', redact.data(content)
    )
    shown = content[: limit * 4].decode("utf-8", "replace")  # a character takes at most 4 bytes
    if len(shown) <= limit and len(content) <= limit * 4:
        return shown
    return shown[:limit] + f"... <{len(content)} bytes in all>"


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
