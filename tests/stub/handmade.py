"""A hand-built stand-in for generated/server.py: the same interface, a few operations, simple pydantic models.

It lets the runtime be tested on its own terms; the end-to-end tests use generated.server.create_app when it exists
(see conftest.create_app).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from generator.runtime.config import StubConfig
from generator.runtime.gateway import StubGateway
from generator.runtime.operation import Operation

Size = Literal["256x256", "512x512", "1024x1024", "1792x1024", "1024x1792", "1536x1024", "1024x1536", "auto"]
EditSize = Literal["256x256", "512x512", "1024x1024", "1536x1024", "1024x1536", "auto"]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Generation(_Open):
    model: str = Field(min_length=1)
    prompt: str = Field(min_length=1)
    n: int | None = Field(None, ge=1, le=10)
    size: Size | None = None
    quality: Literal["auto", "high", "medium", "low", "hd", "standard"] | None = None
    style: Literal["natural", "vivid"] | None = None
    response_format: Literal["url", "b64_json"] | None = None
    background: Literal["transparent", "opaque", "auto"] | None = None
    partial_images: int | None = Field(None, ge=0, le=3)
    output_format: Literal["png", "webp", "jpeg"] | None = None
    user: str | None = None
    stream: bool | None = None
    fallbacks: list[str] | None = None


class AzureGeneration(Generation):
    model: str | None = Field(None, min_length=1)  # type: ignore[assignment]


class _Files(_Open):
    image: bytes | None = None
    image_list: list[bytes] | None = Field(None, alias="image[]", min_length=1)

    @model_validator(mode="after")
    def _one_image(self) -> _Files:
        if self.image is None and self.image_list is None:
            raise ValueError("image or image[] is required")
        return self


class Edit(_Files):
    model: str = Field(min_length=1)
    prompt: str = Field(min_length=1)
    mask: bytes | None = None
    n: int | None = Field(None, ge=1, le=10)
    size: EditSize | None = None
    response_format: Literal["url", "b64_json"] | None = None
    background: Literal["transparent", "opaque", "auto"] | None = None
    partial_images: int | None = Field(None, ge=0, le=3)
    output_format: Literal["png", "webp", "jpeg"] | None = None
    stream: bool | None = None
    fallbacks: list[str] | None = None


class AzureEdit(Edit):
    model: str | None = Field(None, min_length=1)  # type: ignore[assignment]


class Variation(_Files):
    model: str = Field(min_length=1)
    n: int | None = Field(None, ge=1, le=10)
    size: Size | None = None
    response_format: Literal["url", "b64_json"] | None = None
    user: str | None = None
    fallbacks: list[str] | None = None


class AzureParams(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    deployment_id: str = Field(alias="deployment-id", min_length=1)
    api_version: str | None = Field(None, alias="api-version", min_length=1)


class AnyResponse(_Open):
    created: int
    data: list[dict[str, Any]]


FILES = frozenset({"image", "image[]", "mask"})
LISTS = frozenset({"image[]", "fallbacks"})
AZURE = "/openai/openai/deployments/{deployment-id}/images/"


def _op(op_id: str, path: str, kind: Any, family: str, body: type[BaseModel], params: Any = None) -> Operation:
    multipart = kind != "generation"
    return Operation(
        operation_id=op_id,
        method="POST",
        path=path,
        kind=kind,
        family=family,
        media_type="multipart/form-data" if multipart else "application/json",
        body_model=body,
        params_model=params,
        response_model=AnyResponse,
        file_fields=(FILES if kind == "edit" else FILES - {"mask"}) if multipart else frozenset(),
        list_fields=LISTS if multipart else frozenset({"fallbacks"}),
        streams=kind != "variation",
    )


OPERATIONS = [
    _op("createImage", "/v1/images/generations", "generation", "native", Generation),
    _op("createImageEdit", "/v1/images/edits", "edit", "native", Edit),
    _op("createImageVariation", "/v1/images/variations", "variation", "native", Variation),
    _op("openaiCreateImage", "/openai/v1/images/generations", "generation", "openai", Generation),
    _op("openaiCreateImageEdit", "/openai/v1/images/edits", "edit", "openai", Edit),
    _op("openaiCreateImageVariation", "/openai/v1/images/variations", "variation", "openai", Variation),
    _op("azureCreateImage", AZURE + "generations", "generation", "azure", AzureGeneration, AzureParams),
    _op("azureCreateImageEdit", AZURE + "edits", "edit", "azure", AzureEdit, AzureParams),
    _op("azureCreateImageVariation", AZURE + "variations", "variation", "azure", Variation, AzureParams),
]


def create_app(config: StubConfig | None = None) -> Starlette:
    """What generated/server.py's create_app does, by hand."""
    gateway = StubGateway(config)

    def endpoint(operation: Operation) -> Any:
        async def handle(request: Request) -> Response:
            raw = await gateway.read_body(request, operation)
            body = operation.body_model.model_validate(raw, strict=operation.media_type == "application/json")
            params = None
            if operation.params_model is not None:
                params = operation.params_model.model_validate({**request.path_params, **request.query_params})
            return await gateway.respond(request, operation, body, params)

        return handle

    routes: list[BaseRoute] = [
        Route(op.path.replace("{deployment-id}", "{deployment_id}"), endpoint(op), methods=[op.method])
        for op in OPERATIONS
    ]
    app = Starlette(routes=[*routes, *gateway.routes()], exception_handlers=dict(gateway.exception_handlers()))
    app.state.gateway = gateway
    return app
