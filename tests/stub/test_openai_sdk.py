"""The official openai SDK (2.54.0) as a real client of the stub over 127.0.0.1; every call returns its own types."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest
from openai import AzureOpenAI, OpenAI
from openai.types import ImagesResponse
from openai.types.image_gen_completed_event import ImageGenCompletedEvent
from openai.types.image_gen_partial_image_event import ImageGenPartialImageEvent
from PIL import Image

from pixelpact.generator.runtime.config import StubConfig
from tests.stub.conftest import png

API_VERSION = "2024-02-01"


def size_of(b64: str) -> tuple[int, int]:
    with Image.open(io.BytesIO(base64.b64decode(b64))) as img:
        return img.size


@pytest.fixture(scope="module")
def sdk(stub_url: str) -> OpenAI:
    return OpenAI(base_url=f"{stub_url}/v1", api_key="sk-client", max_retries=0)


@pytest.fixture(scope="module")
def azure(stub_url: str) -> AzureOpenAI:
    return AzureOpenAI(azure_endpoint=f"{stub_url}/openai", api_key="az-key", api_version=API_VERSION, max_retries=0)


def last_request(stub_url: str) -> dict[str, Any]:
    entry: dict[str, Any] = httpx.get(f"{stub_url}/_pixelpact/requests").json()["requests"][-1]
    return entry


def test_generate_url_and_b64(sdk: OpenAI) -> None:
    urls = sdk.images.generate(model="dall-e-3", prompt="a red fox", n=2, size="1024x1792")
    assert isinstance(urls, ImagesResponse) and len(urls.data or []) == 2
    image = httpx.get(str((urls.data or [])[1].url))
    assert image.headers["content-type"] == "image/png"
    assert (urls.data or [])[0].revised_prompt == "a red fox"
    b64 = sdk.images.generate(model="gpt-image-1", prompt="a red fox", response_format="b64_json", size="1536x1024")
    assert size_of(str((b64.data or [])[0].b64_json)) == (1536, 1024)
    assert b64.usage is not None and b64.usage.total_tokens > 0 and b64.size == "1536x1024"


def test_edit_with_one_and_with_several_images(sdk: OpenAI, stub_url: str) -> None:
    one = sdk.images.edit(
        model="gpt-image-1",
        prompt="add a hat",
        image=("cat.png", png(), "image/png"),
        mask=("mask.png", png(), "image/png"),
        response_format="b64_json",
        size="512x512",
    )
    assert size_of(str((one.data or [])[0].b64_json)) == (512, 512)
    assert [p["name"] for p in last_request(stub_url)["parts"] if "sha256" in p] == ["image", "mask"]
    several = sdk.images.edit(
        model="gpt-image-1",
        prompt="add a hat",
        n=3,
        image=[("a.png", png(), "image/png"), ("b.png", png(fmt="WEBP"), "image/webp")],
    )
    assert isinstance(several, ImagesResponse) and len(several.data or []) == 3
    entry = last_request(stub_url)
    assert [p["name"] for p in entry["parts"] if "sha256" in p] == ["image[]", "image[]"]  # the SDK sends image[]
    assert entry["headers"]["authorization"].startswith("Bearer <redacted")


def test_create_variation(sdk: OpenAI) -> None:
    result = sdk.images.create_variation(image=png(), model="dall-e-2", n=2, size="256x256", response_format="b64_json")
    assert [size_of(str(d.b64_json)) for d in result.data or []] == [(256, 256), (256, 256)]


def test_edit_stream_parses_as_sdk_events(sdk: OpenAI) -> None:
    events = list(
        sdk.images.edit(
            model="gpt-image-1", prompt="hat", image=("a.png", png(), "image/png"), stream=True, partial_images=1
        )
    )
    assert [e.type for e in events] == ["image_edit.partial_image", "image_edit.completed"]


def test_azure_generate_and_stream(azure: AzureOpenAI, stub_url: str) -> None:
    result = azure.images.generate(
        model="my-dalle3", prompt="a lighthouse", size="1024x1024", response_format="b64_json"
    )
    assert size_of(str((result.data or [])[0].b64_json)) == (1024, 1024)
    entry = last_request(stub_url)
    assert entry["path"] == "/openai/openai/deployments/my-dalle3/images/generations"
    assert entry["query"] == {"api-version": API_VERSION} and "api-key" in entry["headers"]
    stream = azure.images.generate(model="my-dalle3", prompt="a lighthouse", n=2, stream=True, partial_images=2)
    events = list(stream)
    assert [type(e) for e in events] == [
        ImageGenPartialImageEvent,
        ImageGenPartialImageEvent,
        ImageGenCompletedEvent,
    ] * 2
    completed = [e for e in events if isinstance(e, ImageGenCompletedEvent)]
    assert all(e.usage.total_tokens > 0 and size_of(e.b64_json) == (1024, 1024) for e in completed)
    assert [e.partial_image_index for e in events if isinstance(e, ImageGenPartialImageEvent)] == [0, 1, 0, 1]


def test_sdk_errors_are_typed(sdk: OpenAI, run_stub: Callable[[StubConfig], Any]) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        sdk.images.generate(model="dall-e-3", prompt="x", n=11)
    assert info.value.param == "n"
    with run_stub(StubConfig(api_keys=("right",), fail_models=frozenset({"dall-e-3"}))) as url:
        with pytest.raises(openai.AuthenticationError):
            OpenAI(base_url=f"{url}/v1", api_key="wrong", max_retries=0).images.generate(model="x", prompt="p")
        good = OpenAI(base_url=f"{url}/v1", api_key="right", max_retries=0)
        with pytest.raises(openai.InternalServerError) as failure:
            good.images.generate(model="dall-e-3", prompt="p")
        assert failure.value.status_code == 503
        # base_url .../v1: the native route, whose fallbacks are {provider, model} objects
        served = good.images.generate(
            model="dall-e-3", prompt="p", extra_body={"fallbacks": [{"provider": "openai", "model": "dall-e-2"}]}
        )
        assert served.model_extra is not None and served.model_extra["model"] == "openai/dall-e-2"


def test_a_background_removal_edit_needs_no_prompt(sdk: OpenAI, stub_url: str) -> None:
    """The spec: an edit's prompt is required unless its type is background_removal. The SDK types `prompt` as
    required (OpenAI's API has no `type`); `omit` leaves the part out, `extra_body` adds the `type` part."""
    image = ("cat.png", png(), "image/png")
    removed = sdk.images.edit(
        model="gpt-image-1",
        prompt=openai.omit,  # type: ignore[call-overload]
        image=image,
        response_format="b64_json",
        extra_body={"type": "background_removal"},
    )
    assert isinstance(removed, ImagesResponse) and len(removed.data or []) == 1
    parts = {p["name"]: p.get("value") for p in last_request(stub_url)["parts"]}
    assert "prompt" not in parts and parts["type"] == "background_removal"
    for other in ({}, {"type": "inpainting"}):
        with pytest.raises(openai.BadRequestError) as info:
            sdk.images.edit(model="gpt-image-1", prompt=openai.omit, image=image, extra_body=other)  # type: ignore[call-overload]
        assert info.value.param == "prompt"
        assert "prompt is required unless type is background_removal" in str(info.value)
