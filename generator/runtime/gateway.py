"""The stub gateway's behaviour behind the generated routes: read, check, answer, record."""

from __future__ import annotations

import functools
import time
import typing
from collections.abc import Awaitable, Callable, Mapping, Sequence
from enum import Enum
from typing import Any
from urllib.parse import parse_qsl

import orjson
from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope

from pixelpact.generator.runtime import bodies, images, pacing, responses, sse
from pixelpact.generator.runtime.auth import check_credentials
from pixelpact.generator.runtime.config import StubConfig
from pixelpact.generator.runtime.dispatch import ExceptionHandler, Handler, StubApp
from pixelpact.generator.runtime.errors import WIRE_ERROR, GatewayError, from_validation_error
from pixelpact.generator.runtime.fallbacks import choose, model_name
from pixelpact.generator.runtime.operation import Operation
from pixelpact.generator.runtime.pacing import RateLimiter
from pixelpact.generator.runtime.provider_api import MODELS, ModelRules, rules_for
from pixelpact.generator.runtime.recording import Recorder, header_dict, record_json, record_parts
from pixelpact.generator.runtime.redaction import Redactor

__all__ = ["RESERVED_PREFIX", "ExceptionHandler", "GatewayError", "Handler", "StubApp", "StubGateway"]

#: Paths under this prefix belong to the stub itself (recording, served images, health), never to the spec.
RESERVED_PREFIX = "/_pixelpact/"
#: The spec's path parameter that names the model on Azure deployment routes.
DEPLOYMENT_PARAM = "deployment-id"
#: Where a request's _Seen lives in its ASGI scope.
SCOPE_KEY = "pixelpact.seen"


def _plain(value: Any) -> Any:
    """Enum members (should a generated model use enums) as their values, recursively."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


class _EncodedJSON(Response):
    """A 200 whose body is JSON already encoded: its headers made directly (Response.init_headers is general, and
    costs as much as encoding a small answer)."""

    media_type = "application/json"

    def __init__(self, body: bytes, headers: Mapping[str, str] | None = None) -> None:
        self.status_code = 200
        self.background = None
        self.body = body
        raw = [(b"content-length", b"%d" % len(body)), (b"content-type", b"application/json")]
        if headers:
            raw += [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
        self.raw_headers = raw


class _Seen:
    """What the gateway learned about one request, kept in its ASGI scope between read_body and respond."""

    __slots__ = ("entry", "headers", "query", "started")

    def __init__(self, headers: dict[str, str], query: dict[str, str], entry: dict[str, Any]) -> None:
        self.headers = headers
        self.query = query
        self.entry = entry
        self.started = time.perf_counter()


def _base_url(scope: Mapping[str, Any], headers: Mapping[str, str]) -> str:
    """The URL clients reached the stub at (Host header, as Starlette's request.base_url), with a trailing slash."""
    host = headers.get("host")
    if not host:
        server = scope.get("server")
        host = f"{server[0]}:{server[1]}" if server else "127.0.0.1"
    return f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}/"


class StubGateway:
    """A strict, realistic image gateway: the generated server routes each operation here.

    The generated handler of an operation does, in order:
        raw = await gateway.read_body(scope, receive, OPERATION)     # 413 / 401 / 400 as GatewayError
        body = OPERATION.body_model.model_validate(raw, strict=...)  # strict for JSON, lax for multipart form text
        params = OPERATION.params_model.model_validate({**gateway.query(scope), **path_params})  # if any
        return await gateway.respond(scope, OPERATION, body, params)
    and the generated create_app returns `gateway.app([(route path, OPERATION, handler), ...])`: the handlers on
    their routes, `gateway.exception_handlers()` (GatewayError and pydantic.ValidationError -> 4xx error body) and
    `gateway.routes()` (reserved /_pixelpact/... routes: recorded requests, served image URLs).
    """

    def __init__(self, config: StubConfig | None = None) -> None:
        self.config = config or StubConfig()
        self.recorder = Recorder(self.config.record_limit, self.config.record_max_bytes)
        self.redactor = Redactor(self.config.api_keys)
        config = self.config
        self._paced = bool(config.latency_per_request_ms or config.latency_per_image_ms)
        self.limiter = (
            RateLimiter(config.rate_limit_requests, config.rate_limit_period) if config.rate_limit_requests else None
        )
        self.model_rules: ModelRules | None = rules_for(config.model_rules)
        if config.model_rules and self.model_rules is None:
            raise ValueError(f"no rules for model {config.model_rules!r} (known: {', '.join(MODELS)})")

    # -- the request path

    def app(self, operations: Sequence[tuple[str, Operation, Handler]]) -> StubApp:
        """The stub as an ASGI app: each (route path, operation, handler) on its route, plus the reserved routes.

        Operations on a path without parameters are also dispatched directly (see dispatch.StubApp).
        """
        routes: list[BaseRoute] = [
            Route(path, _endpoint(handler), methods=[op.method], name=op.operation_id)
            for path, op, handler in operations
        ]
        routes += self.routes()
        handlers = self.exception_handlers()
        direct = {(op.method, path): handler for path, op, handler in operations if "{" not in path}
        return StubApp(Starlette(routes=routes, exception_handlers=dict(handlers)), direct, handlers)

    def query(self, scope: Scope) -> dict[str, str]:
        """The request's query parameters (the last of a repeated name, as Starlette's request.query_params)."""
        return self._seen(scope).query

    def _seen(self, scope: Scope) -> _Seen:
        """This request's headers and recording entry, made on first use and kept in the ASGI scope.

        Built straight from the scope rather than through request.headers / request.url: those objects cost more than
        the rest of a request's handling put together.
        """
        seen: _Seen | None = scope.get(SCOPE_KEY)
        if seen is None:
            headers = header_dict(scope["headers"])
            qs: bytes = scope.get("query_string", b"")
            query = dict(parse_qsl(qs.decode("latin-1"), keep_blank_values=True)) if qs else {}
            redact = self.redactor
            path = redact.text(scope["path"]) if redact.keys else scope["path"]
            entry = self.recorder.start(
                scope["method"], path, redact.query(query) if query else query, redact.headers(headers)
            )
            seen = scope[SCOPE_KEY] = _Seen(headers, query, entry)
        return seen

    async def read_body(self, scope: Scope, receive: Receive, operation: Operation) -> dict[str, Any]:
        """Check size and credentials, then parse the JSON or multipart body into a dict keyed by wire names.

        Multipart: file parts become bytes (a list of bytes for `operation.list_fields`), text parts strings (lists for
        list fields; a JSON array text is accepted for a list field), JSON parts (`operation.json_parts`) their value.
        Uploaded files must be images (PNG, JPEG or WebP; the mask a PNG). Raises GatewayError.
        """
        seen = self._seen(scope)
        entry = seen.entry
        entry["operation_id"] = operation.operation_id
        raw = await bodies.read_limited(seen.headers.get("content-length"), receive, self.config.max_body_bytes)
        entry["body_size"] = len(raw)
        check_credentials(seen.headers, self.config.api_keys, operation.family)
        if self.limiter is not None:
            self.limiter.take()  # after the key, as providers do: a request they cannot attribute is not counted
        content_type = seen.headers.get("content-type", "")
        if operation.media_type == "multipart/form-data":
            parts = bodies.parse_multipart(raw, content_type, self.config.max_parts)
            entry["parts"] = record_parts(parts, operation.file_fields)
            fields = bodies.multipart_fields(
                parts,
                operation.file_fields,
                operation.list_fields,
                _wire_names(operation.body_model),
                operation.json_parts,
            )
            bodies.typed_form_fields(fields, _scalar_kinds(operation.body_model))
            for part in parts:
                if part.name in operation.file_fields:
                    images.check_upload(part.data, part.name, png_only=part.name == "mask", digest=part.digest())
        else:
            fields = bodies.parse_json(raw, content_type)
            entry["json"] = record_json(raw, fields)
        model = fields.get("model")
        if isinstance(model, str):
            entry["model_requested"] = model
        return fields

    async def respond(self, scope: Scope, operation: Operation, body: BaseModel, params: BaseModel | None) -> Response:
        """Answer a valid request: images (or an SSE stream), recorded, with fallbacks applied."""
        seen = self._seen(scope)
        entry = seen.entry
        fields = _wire_fields(body)
        path_params: dict[str, Any] = _plain(params.model_dump(by_alias=True, exclude_none=True)) if params else {}
        # On Azure routes the deployment names the model (Bifrost: the deployment id overrides the body's model).
        requested = str(path_params.get(DEPLOYMENT_PARAM) or fields.get("model") or "")
        entry["model_requested"] = requested
        request_type = responses.REQUEST_TYPES[operation.kind]
        stream = bool(fields.get("stream")) and operation.streams
        fallbacks = [model_name(f) for f in fields.get("fallbacks") or []]
        choice = choose(
            requested, fallbacks, self.config.fail_models, self.config.fail_status, request_type,
            provider=self.config.provider,
        )  # fmt: skip
        files = fields.get("image[]") or ([fields["image"]] if "image" in fields else [])
        if self.model_rules is not None:
            # what the client sent, not the body model's defaults (response_format's "url" is a default)
            self._refuse(operation, body.model_dump(by_alias=True, exclude_unset=True), len(files))
            if not self.model_rules.takes(operation.kind, "response_format"):
                fields["response_format"] = "b64_json"  # the model always answers base64
        # Variations use the first file only; edits use them all.
        used = min(len(files), 1) if operation.kind == "variation" else len(files)
        plan = responses.make_plan(operation.kind, fields, requested, choice, used)
        if self._paced:
            config = self.config
            delay = pacing.delay_seconds(config.latency_per_request_ms, config.latency_per_image_ms, plan.n)
            await pacing.wait(delay)
        entry["model_served"] = choice.model
        headers = {"x-bifrost-fallback-index": str(choice.index)} if choice.index else {}
        self.recorder.add(entry, 200)
        partial_images = int(fields.get("partial_images") or 0) if stream else 0
        if stream or plan.response_format == "b64_json":
            await images.prepare(plan.specs(partial_images))  # a picture not drawn yet: off the event loop
        if stream:
            events = responses.stream_events(plan, seen.started, partial_images)
            return StreamingResponse(
                sse.event_stream(events, sse.wants_done(operation.family, operation.kind)),
                media_type="text/event-stream",
                headers={**headers, "Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        body_out = responses.image_response_body(plan, _base_url(scope, seen.headers), seen.started)
        return _EncodedJSON(body_out, headers)

    def _refuse(self, operation: Operation, sent: dict[str, Any], images: int) -> None:
        """Raise the provider's 400 when the played model does not take the request (OpenAI's error shape)."""
        assert self.model_rules is not None
        values = {name: value for name, value in _plain(sent).items() if name not in operation.file_fields}
        refusal = self.model_rules.refusal(operation.kind, values, images)
        if refusal is not None:
            raise GatewayError(
                400, refusal.message, refusal.param, "invalid_request_error", code=refusal.code, is_bifrost_error=False
            )

    # -- reserved routes

    def routes(self) -> list[BaseRoute]:
        """Reserved routes under /_pixelpact/: GET/DELETE requests (the recording), GET images/{name}, GET health."""
        return [
            Route(RESERVED_PREFIX + "requests", self._requests, methods=["GET", "DELETE"]),
            Route(RESERVED_PREFIX + "images/{name}", self._image, methods=["GET", "HEAD"]),
            Route(RESERVED_PREFIX + "health", self._health, methods=["GET"]),
        ]

    async def _requests(self, request: Request) -> Response:
        if request.method == "DELETE":
            return _json_response({"cleared": self.recorder.clear()})
        since = request.query_params.get("since", "0")
        if not since.isdigit():
            raise GatewayError(400, "since must be a request number (seq)", "since")
        limit = request.query_params.get("limit")
        if limit is not None and not (limit.isdigit() and int(limit) > 0):
            raise GatewayError(400, "limit must be a positive number of entries", "limit")
        return _json_response(self.recorder.snapshot(int(since), int(limit) if limit else None))

    async def _image(self, request: Request) -> Response:
        spec = images.ImageSpec.from_name(request.path_params["name"])
        if spec is None:
            raise GatewayError(404, "no such image; image URLs come from image responses", None, "not_found_error")
        await images.prepare((spec,))
        return Response(
            images.render(spec),
            media_type=spec.content_type,
            headers={"Cache-Control": "public, max-age=86400, immutable"},
        )

    async def _health(self, request: Request) -> Response:
        return _json_response({"status": "ok"})

    # -- errors

    def exception_handlers(self) -> Mapping[Any, ExceptionHandler]:
        """Handlers turning GatewayError and pydantic.ValidationError into the spec's error body with a 4xx.

        Also: Starlette's HTTPException (unknown path 404, wrong method 405) gets the same body, and any other
        exception a 500 with it rather than a bare text page.
        """
        return {
            GatewayError: self._on_gateway_error,
            ValidationError: self._on_validation_error,
            HTTPException: self._on_http_exception,
            Exception: self._on_unexpected,
        }

    def _fail(self, request: Request, error: GatewayError) -> Response:
        if not request.url.path.startswith(RESERVED_PREFIX):
            # The HTTP layer may have answered already (a body that stopped coming: 408); record what the client got.
            status, message = request.scope.get(WIRE_ERROR) or (error.status, error.message)
            self.recorder.add(self._seen(request.scope).entry, status, message)
        return error.response()

    async def _on_gateway_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, GatewayError)
        return self._fail(request, exc)

    async def _on_validation_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ValidationError)
        return self._fail(request, from_validation_error(exc))

    async def _on_http_exception(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        # The path as the client sent it may carry a key: it is masked, and the query is never echoed.
        path = self.redactor.path_for_message(request.scope["path"])
        if exc.status_code == 404:
            message = f"no route for {request.method} {path}"
        elif exc.status_code == 405:
            message = f"method {request.method} is not allowed on {path}"
        else:
            message = str(exc.detail) or "request refused"
        error = GatewayError(
            exc.status_code,
            message,
            None,
            "not_found_error" if exc.status_code == 404 else "invalid_request_error",
            headers=dict(exc.headers or {}),
        )
        return self._fail(request, error)

    async def _on_unexpected(self, request: Request, exc: Exception) -> Response:
        # A bug in the stub: still answer with the error body (Starlette logs the traceback for us).
        return self._fail(
            request,
            GatewayError(500, f"internal error in the stub gateway: {type(exc).__name__}", None, "server_error"),
        )


def _endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint calling `handler`."""

    async def endpoint(request: Request) -> Response:
        return await handler(request.scope, request.receive)

    return endpoint


_KINDS: dict[Any, str] = {bool: "boolean", int: "integer", float: "number"}


@functools.cache
def _scalar_kinds(model: type[BaseModel]) -> dict[str, str]:
    """Wire names of the body's integer, number and boolean fields (optional ones too), and their JSON type."""
    kinds: dict[str, str] = {}
    for name, info in model.model_fields.items():
        types = [t for t in typing.get_args(info.annotation) or (info.annotation,) if t is not type(None)]
        if len(types) == 1 and types[0] in _KINDS:
            kinds[info.alias or name] = _KINDS[types[0]]
    return kinds


def _wire_fields(body: BaseModel) -> dict[str, Any]:
    """The fields `respond` reads, by wire name, None left out: `body.model_dump(by_alias=True, exclude_none=True)`
    for the model's own fields, at a fraction of its cost (fields the spec does not name are not needed here)."""
    # A model's __dict__ holds exactly its fields (extras live apart), by attribute name; few are spelled otherwise on
    # the wire (image[]), so those are renamed after one pass over the values.
    fields = {name: value for name, value in body.__dict__.items() if value is not None}
    for name, alias in _renamed(type(body)):
        if name in fields:
            fields[alias] = fields.pop(name)
    return _plain(fields) if _has_enum(type(body)) else fields


@functools.cache
def _renamed(model: type[BaseModel]) -> tuple[tuple[str, str], ...]:
    """(attribute name, wire name) of each field of `model` whose wire name is another."""
    return tuple((name, info.alias) for name, info in model.model_fields.items() if info.alias and info.alias != name)


@functools.cache
def _has_enum(model: type[BaseModel]) -> bool:
    """Whether a value of `model` may hold an Enum member (the generator emits Literal types: normally not)."""

    def walk(annotation: Any) -> bool:
        if isinstance(annotation, type):
            if issubclass(annotation, Enum):
                return True
            if issubclass(annotation, BaseModel):
                return _has_enum(annotation)
        return any(walk(arg) for arg in typing.get_args(annotation))

    return any(walk(info.annotation) for info in model.model_fields.values())


@functools.cache
def _wire_names(model: type[BaseModel]) -> frozenset[str]:
    """The field names a body model knows, as they are spelled on the wire."""
    return frozenset(field.alias or name for name, field in model.model_fields.items())
