"""The official openai SDK (2.54.0) as a real client of a real gateway: LiteLLM in front of the recording upstream.

Each call goes SDK -> LiteLLM -> pixelpact's recording upstream; the test checks what the SDK got back (its own
types) and what the upstream received: the parameters as sent, every file by hash, and LiteLLM's own provider
credentials (from litellm-config.yaml), never the key the client used.
"""

from __future__ import annotations

import base64
import hashlib
import io
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai import AzureOpenAI, OpenAI
from openai.types import ImagesResponse
from PIL import Image

from pixelpact.conformance.engine.context import Upstream
from pixelpact.conformance.engine.upstream import recording_upstream
from pixelpact.generator.runtime.recording import redact_header
from tests.litellm.conftest import Tier

pytestmark = pytest.mark.litellm

#: The provider keys in litellm-config.yaml: what the upstream must see instead of the client's key.
OPENAI_UPSTREAM_KEY = "sk-litellm-upstream-openai"
AZURE_UPSTREAM_KEY = "az-litellm-upstream-azure"
AZURE_API_VERSION = "2024-06-01"


@pytest.fixture(scope="module")
def upstream(tier: Tier) -> Iterator[str]:
    with recording_upstream(Upstream("127.0.0.1", tier.upstream_port)) as url:
        yield url


@pytest.fixture
def recorded(upstream: str) -> Any:
    """A function returning the upstream's records that carry a marker (the recording is cleared first)."""
    httpx.delete(f"{upstream}/_pixelpact/requests")

    def records(marker: str) -> list[dict[str, Any]]:
        entries = httpx.get(f"{upstream}/_pixelpact/requests").json()["requests"]
        return [entry for entry in entries if marker in str(entry.get("json")) + str(entry.get("parts"))]

    return records


@pytest.fixture(scope="module")
def sdk(tier: Tier) -> OpenAI:
    return OpenAI(base_url=f"{tier.proxy.url}/v1", api_key=tier.proxy.master_key, max_retries=0)


@pytest.fixture(scope="module")
def azure(tier: Tier) -> AzureOpenAI:
    return AzureOpenAI(
        azure_endpoint=tier.proxy.url, api_key=tier.proxy.master_key, api_version=AZURE_API_VERSION, max_retries=0
    )


def marker() -> str:
    return f"sdk-{uuid.uuid4().hex[:12]}"


def png(color: tuple[int, int, int], mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (16, 16), color if mode == "RGB" else (*color, 0)).save(buffer, format="PNG")
    return buffer.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def size_of(b64: str | None) -> tuple[int, int]:
    with Image.open(io.BytesIO(base64.b64decode(str(b64)))) as image:
        return image.size


def files(record: dict[str, Any]) -> list[tuple[str, str]]:
    return [(part["name"], part["sha256"]) for part in record["parts"] if "sha256" in part]


def fields(record: dict[str, Any]) -> dict[str, str]:
    return {part["name"]: part["value"] for part in record["parts"] if "value" in part}


def test_generate_reaches_the_upstream_as_sent(sdk: OpenAI, recorded: Any, tier: Tier) -> None:
    mark = marker()
    result = sdk.images.generate(
        model="dall-e-3", prompt=f"a red fox {mark}", n=2, size="1024x1792", response_format="b64_json", user=mark
    )
    assert isinstance(result, ImagesResponse) and len(result.data or []) == 2
    assert size_of((result.data or [])[0].b64_json) == (1024, 1792)
    [record] = recorded(mark)
    assert record["path"] == "/v1/images/generations"
    body = record["json"]
    assert {key: body.get(key) for key in ("prompt", "n", "size", "response_format", "user")} == {
        "prompt": f"a red fox {mark}",
        "n": 2,
        "size": "1024x1792",
        "response_format": "b64_json",
        "user": mark,
    }
    assert record["headers"]["authorization"] == redact_header("authorization", f"Bearer {OPENAI_UPSTREAM_KEY}")
    assert redact_header("authorization", f"Bearer {tier.proxy.master_key}") not in str(record["headers"])


def test_edit_with_several_images_and_a_mask_forwards_every_file(sdk: OpenAI, recorded: Any) -> None:
    mark = marker()
    images = [png((200, 30, 30)), png((30, 200, 30)), png((30, 30, 200))]
    mask = png((0, 0, 0), mode="RGBA")
    result = sdk.images.edit(
        model="gpt-image-1",
        prompt=f"add a hat {mark}",
        image=[(f"in{i}.png", data, "image/png") for i, data in enumerate(images)],
        mask=("mask.png", mask, "image/png"),
        n=2,
        size="1024x1024",
        response_format="b64_json",
        user=mark,
    )
    assert len(result.data or []) == 2
    [record] = recorded(mark)
    assert record["path"] == "/v1/images/edits"
    assert files(record) == [("image[]", sha(data)) for data in images] + [("mask", sha(mask))]
    assert fields(record)["n"] == "2" and fields(record)["size"] == "1024x1024" and fields(record)["user"] == mark
    assert record["headers"]["authorization"] == redact_header("authorization", f"Bearer {OPENAI_UPSTREAM_KEY}")


def test_edit_with_one_image(sdk: OpenAI, recorded: Any) -> None:
    mark = marker()
    image = png((120, 120, 0))
    result = sdk.images.edit(model="dall-e-2", prompt=f"make it blue {mark}", image=("one.png", image, "image/png"))
    assert len(result.data or []) == 1
    [record] = recorded(mark)
    # LiteLLM re-sends the file under its own filename (image.png); the bytes are the client's.
    assert [hash_ for _, hash_ in files(record)] == [sha(image)]


def test_azure_generate_uses_the_deployment_and_the_gateways_azure_key(azure: AzureOpenAI, recorded: Any) -> None:
    mark = marker()
    result = azure.images.generate(model="az-dalle3", prompt=f"a lighthouse {mark}", size="1792x1024", user=mark)
    assert isinstance(result, ImagesResponse) and len(result.data or []) == 1
    [record] = recorded(mark)
    # LiteLLM calls Azure's layout, {endpoint}/openai/deployments/{deployment}/...; the upstream serves it on the
    # spec's Azure route and keeps the path LiteLLM used.
    assert (
        record["headers"]["x-pixelpact-original-path"] == "/openai/deployments/my-dalle3-deployment/images/generations"
    )
    assert record["query"] == {"api-version": AZURE_API_VERSION}
    assert record["headers"]["api-key"] == redact_header("api-key", AZURE_UPSTREAM_KEY)
    assert "authorization" not in record["headers"]
    assert record["json"]["size"] == "1792x1024" and record["json"]["user"] == mark


def test_azure_edit(azure: AzureOpenAI, recorded: Any) -> None:
    mark = marker()
    images = [png((10, 10, 10)), png((240, 240, 240))]
    result = azure.images.edit(
        model="az-dalle3", prompt=f"paint it {mark}", image=[(f"{i}.png", d, "image/png") for i, d in enumerate(images)]
    )
    assert len(result.data or []) == 1
    [record] = recorded(mark)
    assert record["headers"]["x-pixelpact-original-path"] == "/openai/deployments/my-dalle3-deployment/images/edits"
    assert files(record) == [("image[]", sha(data)) for data in images]
    assert record["headers"]["api-key"] == redact_header("api-key", AZURE_UPSTREAM_KEY)


def test_what_litellm_does_not_serve(sdk: OpenAI, recorded: Any) -> None:
    """Pinned limits of LiteLLM 1.106.2 (DEVIATIONS.md): no variations route, and streams end in a 500."""
    with pytest.raises(openai.NotFoundError):
        sdk.images.create_variation(model="dall-e-2", image=("v.png", png((1, 2, 3)), "image/png"))
    mark = marker()
    with pytest.raises(openai.InternalServerError):
        for _ in sdk.images.generate(model="gpt-image-1", prompt=f"stream {mark}", stream=True, partial_images=1):
            pass
    # The stream request did reach the provider, which streamed: LiteLLM fails on reading the answer.
    [record] = recorded(mark)
    assert record["json"]["stream"] is True and record["status"] == 200
