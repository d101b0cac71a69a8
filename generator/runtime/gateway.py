"""The stub gateway's behaviour behind the generated routes (interface; implemented in this module)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from generator.runtime.config import StubConfig
from generator.runtime.operation import Operation

ExceptionHandler = Callable[[Request, Exception], Awaitable[Response]]


class GatewayError(Exception):
    """A request the gateway refuses: answered with the spec's error body and `status`; `param` names the field."""

    def __init__(self, status: int, message: str, param: str | None = None, error_type: str = "invalid_request_error"):
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.error_type = error_type


class StubGateway:
    """A strict, realistic image gateway: the generated server routes each operation here.

    The generated endpoint for an operation does, in order:
        raw = await gateway.read_body(request, OPERATION)            # 413 / 401 / 400 as GatewayError
        body = OPERATION.body_model.model_validate(raw, strict=...)  # strict for JSON, lax for multipart form text
        params = OPERATION.params_model.model_validate({**request.path_params, **request.query_params})  # if any
        return await gateway.respond(request, OPERATION, body, params)
    and the app registers `gateway.exception_handlers()` (GatewayError and pydantic.ValidationError -> 4xx error body)
    and mounts `gateway.routes()` (reserved /_pixelpact/... routes: recorded requests, served image URLs).
    """

    def __init__(self, config: StubConfig | None = None) -> None:
        self.config = config or StubConfig()

    async def read_body(self, request: Request, operation: Operation) -> dict[str, Any]:
        """Check size and credentials, then parse the JSON or multipart body into a dict keyed by wire names.

        Multipart: file parts become bytes (a list of bytes for `operation.list_fields`), text parts strings (lists for
        list fields; a JSON array text is accepted for a list field). Raises GatewayError.
        """
        raise NotImplementedError

    async def respond(
        self, request: Request, operation: Operation, body: BaseModel, params: BaseModel | None
    ) -> Response:
        """Answer a valid request: images (or an SSE stream), recorded, with fallbacks applied."""
        raise NotImplementedError

    def routes(self) -> list[BaseRoute]:
        """Reserved routes under /_pixelpact/: GET/DELETE requests (the recording), GET images/{name}."""
        raise NotImplementedError

    def exception_handlers(self) -> Mapping[Any, ExceptionHandler]:
        """Handlers turning GatewayError and pydantic.ValidationError into the spec's error body with a 4xx."""
        raise NotImplementedError
