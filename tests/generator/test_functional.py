"""Generated code at work: a tiny inline spec is generated, imported, and its client and server talk in-process."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any, get_type_hints

import httpx
import pytest
from PIL import Image
from pydantic import ValidationError

from tests.generator.conftest import generated_package, spec_text

SCHEMAS: dict[str, Any] = {
    "Size": {"type": "string", "enum": ["256x256", "512x512"]},
    "Generation": {
        "type": "object",
        "required": ["model", "prompt"],
        "properties": {
            "model": {"type": "string", "minLength": 1},
            "prompt": {"type": "string", "minLength": 1},
            "n": {"type": "integer", "minimum": 1, "maximum": 3, "default": 1},
            "size": {"$ref": "#/components/schemas/Size"},
            "response_format": {"type": "string", "enum": ["url", "b64_json"], "default": "url"},
            "stream": {"type": "boolean", "default": False},
            "user": {"type": ["string", "null"]},
        },
    },
    "Edit": {
        "type": "object",
        "required": ["model"],
        "anyOf": [{"required": ["image"]}, {"required": ["image[]"]}],
        "if": {"properties": {"kind": {"const": "erase"}}, "required": ["kind"]},
        "else": {"required": ["prompt"]},
        "properties": {
            "model": {"type": "string"},
            "prompt": {"type": "string"},
            "kind": {"type": "string", "enum": ["paint", "erase"]},
            "image": {"type": "string", "format": "binary"},
            "image[]": {"type": "array", "minItems": 1, "items": {"type": "string", "format": "binary"}},
            "n": {"type": "integer", "minimum": 1, "maximum": 3},
            "response_format": {"type": "string", "enum": ["url", "b64_json"]},
        },
    },
    "Images": {
        "type": "object",
        "required": ["created", "data"],
        "properties": {
            "created": {"type": "integer"},
            "data": {"type": "array", "items": {"type": "object", "properties": {"url": {"type": "string"}}}},
        },
    },
    "Event": {"type": "object", "required": ["type"], "properties": {"type": {"type": "string"}}},
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["message"],
                "properties": {"message": {"type": "string"}, "param": {"type": ["string", "null"]}},
            }
        },
    },
}


def _operation(op_id: str, tag: str, media_type: str, schema: str, *, streams: bool) -> dict[str, Any]:
    ok: dict[str, Any] = {"application/json": {"schema": {"$ref": "#/components/schemas/Images"}}}
    if streams:
        ok["text/event-stream"] = {"schema": {"$ref": "#/components/schemas/Event"}}
    error = {
        "description": "error",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    return {
        "operationId": op_id,
        "tags": [tag],
        "requestBody": {
            "required": True,
            "content": {media_type: {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
        },
        "responses": {"200": {"description": "ok", "content": ok}, "400": error, "401": error},
    }


AZURE_PARAMETERS = [
    {"name": "deployment-id", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}},
    {"name": "api-version", "in": "query", "schema": {"type": "string", "enum": ["2024-02-01"]}},
]
PATHS = {
    "/v1/images/generations": {
        "post": _operation("createImage", "native", "application/json", "Generation", streams=True)
    },
    "/v1/images/edits": {"post": _operation("createImageEdit", "native", "multipart/form-data", "Edit", streams=False)},
    "/deployments/{deployment-id}/images/generations": {
        "parameters": AZURE_PARAMETERS,
        "post": {
            **_operation("azureCreateImage", "azure", "application/json", "Generation", streams=False),
            "security": [{"Basic": []}, {"Key": []}],
        },
    },
}
SECURITY = {
    "securitySchemes": {
        "Bearer": {"type": "http", "scheme": "bearer"},
        "Basic": {"type": "http", "scheme": "basic"},
        "Key": {"type": "apiKey", "in": "header", "name": "x-api-key"},
    }
}
SPEC = spec_text(PATHS, SCHEMAS, SECURITY, security=[{"Bearer": []}, {"Key": []}, {}])


@pytest.fixture(scope="module")
def pkg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ModuleType]]:
    with generated_package(SPEC, tmp_path_factory.mktemp("functional")) as modules:
        yield modules


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "PNG")
    return buffer.getvalue()


def _call(pkg: dict[str, ModuleType], method: str, *args: Any, **kwargs: Any) -> Any:
    """Run one AsyncClient call against the generated server, in-process."""

    async def go() -> Any:
        app = pkg["server"].create_app()
        async with pkg["client"].AsyncClient("http://stub", transport=httpx.ASGITransport(app)) as client:
            result = await getattr(client, method)(*args, **kwargs)
            if kwargs.get("stream"):
                return [event async for event in result]
            return result

    return asyncio.run(go())


def test_json_request_round_trip(pkg: dict[str, ModuleType]) -> None:
    models = pkg["models"]
    answer = _call(pkg, "create_image", models.Generation(model="openai/dall-e-3", prompt="a cat", n=3))
    assert isinstance(answer, models.Images)
    assert len(answer.data) == 3


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"prompt": "x"}, "model"),
        ({"model": "m", "prompt": "x", "n": 4}, "n"),
        ({"model": "m", "prompt": "x", "n": "2"}, "n"),  # JSON bodies are validated strictly
        ({"model": "m", "prompt": "x", "n": None}, "n"),  # optional, but not nullable
        ({"model": "m", "prompt": "x", "size": "1024x1024"}, "size"),
        ({"model": "m", "prompt": ""}, "prompt"),
    ],
)
def test_server_rejects_what_the_spec_forbids(pkg: dict[str, ModuleType], body: dict[str, Any], param: str) -> None:
    with pytest.raises(pkg["client"].ApiError) as caught:
        _call(pkg, "create_image", body)
    assert caught.value.status_code == 400
    assert caught.value.body.error.param == param


def test_server_accepts_null_where_the_spec_allows_it(pkg: dict[str, ModuleType]) -> None:
    assert _call(pkg, "create_image", {"model": "m", "prompt": "x", "user": None}).data


def test_client_models_validate_before_sending(pkg: dict[str, ModuleType]) -> None:
    models = pkg["models"]
    with pytest.raises(ValidationError):
        models.Generation(model="m", prompt="x", n=4)
    with pytest.raises(ValidationError):
        models.Edit(model="m", prompt="x")  # neither image nor image[]
    assert get_type_hints(models.Generation)["n"] is int  # a default makes it optional, not nullable


@pytest.mark.parametrize("files", [{"image": b"png"}, {"image_list": [b"png", b"png"]}])
def test_multipart_with_image_or_image_list(pkg: dict[str, ModuleType], files: dict[str, Any]) -> None:
    models = pkg["models"]
    png = _png()
    files = {name: [png] * len(value) if isinstance(value, list) else png for name, value in files.items()}
    answer = _call(pkg, "create_image_edit", models.Edit(model="openai/gpt-image-1", prompt="hat", n=2, **files))
    assert len(answer.data) == 2


def test_multipart_needs_an_image(pkg: dict[str, ModuleType]) -> None:
    with pytest.raises(pkg["client"].ApiError) as caught:
        _call(pkg, "create_image_edit", {"model": "m", "prompt": "x", "n": 1})
    assert caught.value.status_code == 400
    assert caught.value.body.error.param == "image"


def test_a_field_required_unless_another_has_a_value(pkg: dict[str, ModuleType]) -> None:
    """The spec's if/else (prompt unless kind is erase) holds in the models, the server and the client alike."""
    models, png = pkg["models"], _png()
    with pytest.raises(ValidationError, match="prompt is required unless kind is erase"):
        models.Edit(model="m", image=png, kind="paint")
    with pytest.raises(pkg["client"].ApiError) as caught:
        _call(pkg, "create_image_edit", {"model": "m", "image": png})
    assert caught.value.status_code == 400
    assert caught.value.body.error.param == "prompt"
    erased = _call(pkg, "create_image_edit", models.Edit(model="m", image=png, kind="erase"))
    assert len(erased.data) == 1
    assert len(_call(pkg, "create_image_edit", {"model": "m", "image": png, "kind": "paint", "prompt": "x"}).data) == 1


def test_path_and_query_parameters(pkg: dict[str, ModuleType]) -> None:
    body = {"model": "m", "prompt": "x"}
    assert _call(pkg, "azure_create_image", body, deployment_id="dall-e-3", api_version="2024-02-01").data
    with pytest.raises(pkg["client"].ApiError) as caught:
        _call(pkg, "azure_create_image", body, deployment_id="dall-e-3", api_version="1999-01-01")
    assert caught.value.body.error.param == "api-version"


def test_stream_through_the_server(pkg: dict[str, ModuleType]) -> None:
    events = _call(pkg, "create_image", {"model": "m", "prompt": "x"}, stream=True)
    assert events
    assert all(isinstance(event, pkg["models"].Event) for event in events)


def test_sse_parsing_skips_comments_and_stops_at_done(pkg: dict[str, ModuleType]) -> None:
    stream = b': keep-alive\n\nevent: partial\ndata: {"type": "partial"}\n\ndata: {"type":\ndata: "completed"}\n\n'
    stream += b'data: [DONE]\n\ndata: {"type": "after-done"}\n\n'
    transport = httpx.MockTransport(
        lambda _: httpx.Response(200, content=stream, headers={"content-type": "text/event-stream"})
    )
    with pkg["client"].Client("http://stub", transport=transport) as client:
        events = list(client.create_image({"model": "m", "prompt": "x"}, stream=True))
    assert [event.type for event in events] == ["partial", "completed"]


def test_wire_format_and_credentials(pkg: dict[str, ModuleType]) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"created": 1, "data": []})

    with pkg["client"].Client("http://stub", bearer="tok", key="k1", transport=httpx.MockTransport(answer)) as client:
        client.create_image(pkg["models"].Generation(model="m", prompt="x"))
        client.create_image_edit(pkg["models"].Edit(model="m", prompt="x", image_list=[b"a", b"b"], n=2))
    generation, edit = seen
    assert generation.headers["authorization"] == "Bearer tok"
    assert generation.headers["x-api-key"] == "k1"
    assert json.loads(generation.content) == {"model": "m", "prompt": "x"}  # defaults are the server's to apply
    assert edit.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert edit.content.count(b'name="image[]"; filename=') == 2
    assert b'name="n"\r\n\r\n2\r\n' in edit.content


def test_error_body_is_parsed(pkg: dict[str, ModuleType]) -> None:
    error = {"error": {"message": "no", "param": None}}
    transport = httpx.MockTransport(lambda _: httpx.Response(401, json=error))
    with (
        pkg["client"].Client("http://stub", transport=transport) as client,
        pytest.raises(pkg["client"].ApiError) as caught,
    ):
        client.create_image({"model": "m", "prompt": "x"})
    assert caught.value.status_code == 401
    assert caught.value.body == pkg["models"].Error.model_validate(error)


def test_every_operation_of_the_real_spec_round_trips() -> None:
    """The committed generated/ package: each operation answers 200 through the generated client."""
    from pixelpact.generated import models
    from pixelpact.generated.client import AsyncClient
    from pixelpact.generated.server import create_app

    png = _png()
    calls: list[tuple[str, Any, dict[str, Any]]] = [
        ("create_image", models.ImageGenerationRequest(model="openai/dall-e-3", prompt="p"), {}),
        ("create_image_edit", models.ImageEditRequest(model="openai/gpt-image-1", prompt="p", image=png), {}),
        ("create_image_variation", models.ImageVariationRequest(model="openai/dall-e-2", image_list=[png]), {}),
        ("openai_create_image", models.OpenAIImageGenerationRequest(model="openai/dall-e-3", prompt="p"), {}),
        (
            "openai_create_image_edit",
            models.OpenAIImageEditRequest(model="openai/gpt-image-1", prompt="p", image=png),
            {},
        ),
        ("openai_create_image_variation", models.OpenAIImageVariationRequest(model="openai/dall-e-2", image=png), {}),
        ("azure_create_image", models.AzureImageGenerationRequest(prompt="p"), {"deployment_id": "dall-e-3"}),
        (
            "azure_create_image_edit",
            models.AzureImageEditRequest(prompt="p", image=png),
            {"deployment_id": "gpt-image-1"},
        ),
        ("azure_create_image_variation", models.AzureImageVariationRequest(image=png), {"deployment_id": "dall-e-2"}),
    ]

    async def go() -> list[Any]:
        async with AsyncClient("http://stub", transport=httpx.ASGITransport(create_app()), bearer="t") as client:
            return [await getattr(client, method)(body, **params) for method, body, params in calls]

    answers = asyncio.run(go())
    assert all(answer.data for answer in answers)


def test_the_client_sends_fallbacks_in_the_form_each_route_takes() -> None:
    """Native routes: {provider, model} objects, in multipart one application/json part each; OpenAI-compatible and
    Azure routes: provider/model strings. The stub, its primary model failing, answers with the fallback's."""
    from pixelpact.generated import models
    from pixelpact.generated.client import AsyncClient
    from pixelpact.generated.server import create_app
    from pixelpact.generator.runtime.config import StubConfig

    png = _png()
    failing, objects, strings = (
        "openai/broken",
        [models.Fallback(provider="openai", model="dall-e-2")],
        ["openai/dall-e-2"],
    )
    calls: list[tuple[str, Any]] = [
        ("create_image", models.ImageGenerationRequest(model=failing, prompt="p", fallbacks=objects)),
        ("create_image_edit", models.ImageEditRequest(model=failing, prompt="p", image=png, fallbacks=objects * 2)),
        ("create_image_variation", models.ImageVariationRequest(model=failing, image=png, fallbacks=objects)),
        ("openai_create_image", models.OpenAIImageGenerationRequest(model=failing, prompt="p", fallbacks=strings)),
        (
            "openai_create_image_edit",
            models.OpenAIImageEditRequest(model=failing, prompt="p", image=png, fallbacks=strings),
        ),
        (
            "openai_create_image_variation",
            models.OpenAIImageVariationRequest(model=failing, image=png, fallbacks=strings),
        ),
    ]
    sent: list[httpx.Request] = []

    class Recording(httpx.ASGITransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            await request.aread()
            sent.append(request)
            return await super().handle_async_request(request)

    async def go() -> list[Any]:
        transport = Recording(create_app(StubConfig(fail_models=frozenset({failing}))))
        async with AsyncClient("http://stub", transport=transport) as client:
            return [await getattr(client, method)(body) for method, body in calls]

    answers = asyncio.run(go())
    assert [answer.model for answer in answers[:3]] == ["openai/dall-e-2"] * 3
    assert json.loads(sent[0].content)["fallbacks"] == [{"provider": "openai", "model": "dall-e-2"}]
    part = b'name="fallbacks"\r\nContent-Type: application/json\r\n\r\n{"provider": "openai", "model": "dall-e-2"}\r\n'
    assert sent[1].content.count(part) == 2 and sent[2].content.count(part) == 1
    assert json.loads(sent[3].content)["fallbacks"] == strings
    assert b'name="fallbacks"\r\n\r\nopenai/dall-e-2\r\n' in sent[4].content


def test_credentials_follow_each_operations_security(pkg: dict[str, ModuleType]) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"created": 1, "data": []})

    client = pkg["client"].Client("http://stub", bearer="tok", basic=("u", "p"), transport=httpx.MockTransport(answer))
    with client:
        client.create_image({"model": "m", "prompt": "x"})
        client.azure_create_image({"model": "m", "prompt": "x"}, deployment_id="a b/c")
    native, azure = seen
    assert native.headers["authorization"] == "Bearer tok"  # Basic is not among createImage's schemes
    assert azure.headers["authorization"] == "Basic dTpw"  # nor Bearer among azureCreateImage's
    assert azure.url.raw_path == b"/deployments/a%20b%2Fc/images/generations"


def test_responses_keep_extra_fields_requests_ignore_them(pkg: dict[str, ModuleType]) -> None:
    models = pkg["models"]
    answer = models.Images.model_validate({"created": 1, "data": [], "provider": "openai"})
    assert answer.model_extra == {"provider": "openai"}
    request = models.Generation.model_validate({"model": "m", "prompt": "x", "seed": 7})  # passed on, not judged
    assert request.model_extra is None
