"""A toolkit for breaking a correct gateway on purpose: ASGI middlewares that rewrite what goes in and comes out.

A broken gateway is the correct stub wrapped in one of these middlewares with a few lines of rewriting logic:

    on_request(app, fn)    fn(req) -> a changed request, a canned response, or None (pass it on unchanged)
    on_response(app, fn)   fn(req, resp) -> a changed response or None; the whole answer is buffered first
    on_events(app, fn)     fn(req, events) -> the changed list of server-sent events of a stream answer

A hook may also return DROP (or a Drop holding a partial response) to close the connection mid-answer. Requests
and responses are plain dataclasses holding raw bytes, with helpers for the JSON, multipart form and SSE bodies an
image gateway speaks, so each mutant states only what it breaks.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from PIL import Image
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Headers = list[tuple[bytes, bytes]]


def _get(headers: Headers, name: str) -> str | None:
    key = name.lower().encode()
    for k, v in headers:
        if k.lower() == key:
            return v.decode("latin-1")
    return None


def _set(headers: Headers, name: str, value: str | None) -> Headers:
    """A copy of `headers` with `name` replaced by `value` (removed when None)."""
    key = name.lower().encode()
    kept = [(k, v) for k, v in headers if k.lower() != key]
    return kept if value is None else [*kept, (key, value.encode("latin-1"))]


# --- multipart -------------------------------------------------------------------------------------------------------


@dataclass
class Part:
    """One part of a multipart/form-data body; `raw_headers` is kept verbatim so hostile names survive a round trip."""

    raw_headers: bytes
    data: bytes

    @property
    def name(self) -> str | None:
        match = re.search(rb'(?i)content-disposition:[^\r\n]*?;\s*name="((?:[^"\\]|\\.)*)"', self.raw_headers)
        return match.group(1).decode("utf-8", "replace") if match else None

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")

    @classmethod
    def field(cls, name: str, value: str) -> Part:
        return cls(f'Content-Disposition: form-data; name="{name}"'.encode(), value.encode())

    @classmethod
    def file(cls, name: str, data: bytes, filename: str = "image.png", content_type: str = "image/png") -> Part:
        disposition = f'Content-Disposition: form-data; name="{name}"; filename="{filename}"'
        return cls(f"{disposition}\r\nContent-Type: {content_type}".encode(), data)


@dataclass
class Form:
    """A parsed multipart/form-data body: its parts in wire order."""

    boundary: bytes
    parts: list[Part]

    def named(self, name: str) -> list[Part]:
        return [p for p in self.parts if p.name == name]

    def value(self, name: str) -> str | None:
        found = self.named(name)
        return found[0].text if found else None

    def without(self, name: str) -> Form:
        return replace(self, parts=[p for p in self.parts if p.name != name])

    def with_value(self, name: str, value: str) -> Form:
        """Set text field `name`: replace its first part in place (or append one), drop any repeats."""
        parts, done = [], False
        for p in self.parts:
            if p.name == name:
                if not done:
                    parts.append(Part.field(name, value))
                done = True
            else:
                parts.append(p)
        return replace(self, parts=parts if done else [*parts, Part.field(name, value)])

    def encode(self) -> bytes:
        chunks = [b"--" + self.boundary + b"\r\n" + p.raw_headers + b"\r\n\r\n" + p.data + b"\r\n" for p in self.parts]
        return b"".join(chunks) + b"--" + self.boundary + b"--\r\n"


def parse_form(body: bytes, content_type: str | None) -> Form | None:
    """Parse a multipart body leniently (unlike a real parser it never rejects a part name); None if not multipart."""
    if not content_type or not content_type.lower().startswith("multipart/form-data"):
        return None
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        return None
    boundary = match.group(1).encode("latin-1")
    parts = []
    for chunk in body.split(b"--" + boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        head, sep, data = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if sep:
            parts.append(Part(head, data.removesuffix(b"\r\n")))
    return Form(boundary, parts)


# --- server-sent events ----------------------------------------------------------------------------------------------


@dataclass
class Event:
    """One server-sent event; `data` is the raw text of its data lines, `payload` its JSON when it parses."""

    data: str
    event: str | None = None
    extra: list[str] = field(default_factory=list)
    """Other lines of the event block (id:, retry:, comments), kept verbatim."""

    @property
    def payload(self) -> dict[str, Any] | None:
        try:
            value = json.loads(self.data)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def with_payload(self, payload: dict[str, Any], event: str | None = None) -> Event:
        return replace(self, data=json.dumps(payload), event=self.event if event is None else event)

    def encode(self) -> bytes:
        lines = [*self.extra, *([f"event: {self.event}"] if self.event is not None else [])]
        lines += [f"data: {line}" for line in self.data.split("\n")]
        return ("\n".join(lines) + "\n\n").encode()


def parse_events(body: bytes) -> list[Event]:
    events = []
    for block in re.split(r"\r?\n\r?\n", body.decode("utf-8", "replace")):
        data, name, extra = [], None, []
        for line in block.splitlines():
            key, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if key == "data":
                data.append(value)
            elif key == "event":
                name = value
            elif line:
                extra.append(line)
        if data or name or extra:
            events.append(Event("\n".join(data), name, extra))
    return events


def event_type(event: Event) -> str:
    payload = event.payload or {}
    return str(payload.get("type", event.event or ""))


# --- requests and responses ------------------------------------------------------------------------------------------


@dataclass
class Request:
    """A buffered HTTP request as the mutant sees it before the correct gateway does."""

    method: str
    path: str
    query: bytes
    headers: Headers
    body: bytes

    def header(self, name: str) -> str | None:
        return _get(self.headers, name)

    def with_header(self, name: str, value: str | None) -> Request:
        return replace(self, headers=_set(self.headers, name, value))

    @property
    def kind(self) -> str:
        """generations, edits or variations (the last path segment names it), or the path for other routes."""
        return self.path.rstrip("/").rsplit("/", 1)[-1]

    @property
    def is_image_route(self) -> bool:
        return self.method == "POST" and self.kind in {"generations", "edits", "variations"}

    def json(self) -> dict[str, Any] | None:
        """The JSON object body, or None when the body is not a JSON object."""
        if "json" not in (self.header("content-type") or ""):
            return None
        try:
            value = json.loads(self.body)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def with_json(self, value: dict[str, Any]) -> Request:
        return replace(self, body=json.dumps(value).encode())

    def form(self) -> Form | None:
        return parse_form(self.body, self.header("content-type"))

    def with_form(self, form: Form) -> Request:
        ctype = f"multipart/form-data; boundary={form.boundary.decode('latin-1')}"
        return replace(self, body=form.encode()).with_header("content-type", ctype)

    def field(self, name: str) -> Any:
        """A body field whether the body is JSON or multipart (multipart values are strings), else None."""
        body = self.json()
        if body is not None:
            return body.get(name)
        form = self.form()
        return form.value(name) if form is not None else None

    def values(self, name: str) -> list[Any]:
        """A list field's items: the JSON array, or the texts of the repeated multipart parts."""
        body = self.json()
        if body is not None:
            value = body.get(name)
            return list(value) if isinstance(value, list) else []
        form = self.form()
        return [part.text for part in form.named(name)] if form is not None else []

    def fallback_models(self, *, objects: bool = True) -> list[str]:
        """The models `fallbacks` names, as provider/model: {provider, model} objects (JSON, or the JSON text of a
        multipart part, one object or an array of them per part) and strings alike. `objects=False` reads every
        entry as a model name, as a gateway that takes fallbacks only as strings does (an object's text included)."""
        models: list[str] = []
        for value in self.values("fallbacks"):
            decoded = value
            if objects and isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
                try:
                    decoded = json.loads(value)
                except ValueError:
                    decoded = value
            for item in decoded if isinstance(decoded, list) else [decoded]:
                if objects and isinstance(item, dict):
                    models.append(f"{item.get('provider')}/{item.get('model')}")
                else:
                    models.append(item if isinstance(item, str) else json.dumps(item))
        return models

    def with_field(self, name: str, value: Any) -> Request:
        """Set (or with value None, remove) a body field in a JSON or multipart body."""
        body = self.json()
        if body is not None:
            return self.with_json({k: v for k, v in {**body, name: value}.items() if v is not None or k != name})
        form = self.form()
        if form is None:
            return self
        changed = form.without(name) if value is None else form.with_value(name, form_text(value))
        return self.with_form(changed)

    @property
    def streams(self) -> bool:
        return str(self.field("stream")).lower() == "true"


def form_text(value: Any) -> str:
    """How a JSON value travels as multipart form text."""
    return json.dumps(value) if isinstance(value, bool) else str(value)


@dataclass
class Response:
    """A buffered HTTP response; build canned ones with `Response.error(...)` or `Response.of_json(...)`."""

    status: int
    headers: Headers
    body: bytes

    @property
    def content_type(self) -> str:
        return _get(self.headers, "content-type") or ""

    def with_header(self, name: str, value: str | None) -> Response:
        return replace(self, headers=_set(self.headers, name, value))

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def with_json(self, value: Any) -> Response:
        return replace(self, body=json.dumps(value).encode())

    @classmethod
    def of_json(cls, status: int, value: Any) -> Response:
        return cls(status, [(b"content-type", b"application/json")], json.dumps(value).encode())

    @classmethod
    def error(cls, status: int, message: str, param: str | None = None) -> Response:
        """A well-formed error in the spec's envelope: mutants answering with it break only *when* they refuse."""
        body = {"error": {"message": message, "type": "invalid_request_error", "param": param}, "status_code": status}
        return cls.of_json(status, body)


# --- middlewares -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drop:
    """Returned by a hook: send the head and body of `partial` (default: a 200 promising more), then close the socket.

    The response is left incomplete, which a client sees as a dropped connection (the closest an ASGI app gets to
    resetting one).
    """

    partial: Response | None = None


DROP = Drop()

RequestFn = Callable[[Request], "Request | Response | Drop | None"]
ResponseFn = Callable[[Request, Response], "Response | Drop | None"]
EventsFn = Callable[[Request, list[Event]], list[Event]]


async def read_body(receive: Receive) -> bytes:
    """The whole request body, however many messages it came in."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replaying(body: bytes) -> Receive:
    """A `receive` that hands an app the (rewritten) body in one message, then a disconnect."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def send_response(send: Send, resp: Response) -> None:
    headers = [(k, v) for k, v in resp.headers if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(resp.body)).encode()))
    await send({"type": "http.response.start", "status": resp.status, "headers": headers})
    await send({"type": "http.response.body", "body": resp.body})


async def _drop(send: Send, drop: Drop) -> None:
    # Return with more_body still promised: the server then closes the socket mid-response.
    resp = drop.partial or Response(200, [(b"content-type", b"application/json"), (b"content-length", b"1000")], b"{")
    await send({"type": "http.response.start", "status": resp.status, "headers": resp.headers})
    await send({"type": "http.response.body", "body": resp.body, "more_body": True})


class _Rewrite:
    """Buffer the request, let `request_fn` change or answer it, run the app, let `response_fn` change the answer."""

    def __init__(self, app: ASGIApp, request_fn: RequestFn | None, response_fn: ResponseFn | None) -> None:
        self.app = app
        self.request_fn = request_fn
        self.response_fn = response_fn

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        req = Request(scope["method"], scope["path"], scope.get("query_string", b""), list(scope["headers"]), b"")
        req.body = await read_body(receive)
        if self.request_fn is not None:
            outcome = self.request_fn(req)
            if isinstance(outcome, Response):
                await send_response(send, outcome)
                return
            if isinstance(outcome, Drop):
                await _drop(send, outcome)
                return
            req = outcome or req
        scope = {**scope, "headers": _set(req.headers, "content-length", str(len(req.body)))}
        replay = replaying(req.body)

        if self.response_fn is None:
            await self.app(scope, replay, send)
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, replay, capture)
        resp = Response(start["status"], list(start.get("headers", [])), b"".join(chunks))
        changed = self.response_fn(req, resp)
        if isinstance(changed, Drop):
            await _drop(send, changed)
            return
        await send_response(send, changed or resp)


def on_request(app: ASGIApp, fn: RequestFn) -> ASGIApp:
    return _Rewrite(app, fn, None)


def on_response(app: ASGIApp, fn: ResponseFn) -> ASGIApp:
    return _Rewrite(app, None, fn)


def on_events(app: ASGIApp, fn: EventsFn) -> ASGIApp:
    """Rewrite the events of every text/event-stream answer (buffered whole: the stub's streams are short)."""

    def rewrite(req: Request, resp: Response) -> Response | None:
        if not resp.content_type.startswith("text/event-stream"):
            return None
        return replace(resp, body=b"".join(e.encode() for e in fn(req, parse_events(resp.body))))

    return on_response(app, rewrite)


def on_json_ok(app: ASGIApp, fn: Callable[[Request, dict[str, Any]], dict[str, Any]]) -> ASGIApp:
    """Rewrite the JSON object of every 200 application/json answer of an image route."""

    def rewrite(req: Request, resp: Response) -> Response | None:
        body = resp.json()
        if resp.status != 200 or not req.is_image_route or not isinstance(body, dict):
            return None
        return resp.with_json(fn(req, body))

    return on_response(app, rewrite)


def on_images(app: ASGIApp, fn: Callable[[dict[str, Any]], dict[str, Any]]) -> ASGIApp:
    """Rewrite every item of `data` in 200 JSON answers of image routes."""
    return on_json_ok(app, lambda _req, body: {**body, "data": [fn(item) for item in body.get("data", [])]})


# --- images ----------------------------------------------------------------------------------------------------------


def png(width: int = 8, height: int = 8, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


def resize(image: bytes, scale: float = 0.5) -> bytes:
    """The image re-encoded (same format) at `scale` of its size: what a gateway that mis-sizes images returns."""
    with Image.open(io.BytesIO(image)) as img:
        fmt = img.format or "PNG"
        smaller = img.resize((max(1, int(img.width * scale)), max(1, int(img.height * scale))))
        buffer = io.BytesIO()
        smaller.save(buffer, format=fmt)
    return buffer.getvalue()


def is_image(data: bytes) -> bool:
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.verify()
    except Exception:  # PIL raises many types for garbage input; any of them means "not an image"
        return False
    return True


def map_b64(value: str, fn: Callable[[bytes], bytes]) -> str:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return value
    return base64.b64encode(fn(raw)).decode()
