"""A spec edit flows, through regeneration alone, into what the server accepts and what the client's models allow."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from types import ModuleType
from typing import Any, get_args, get_type_hints

import httpx
import pytest
from pydantic import ValidationError

from pixelpact.generator.loader import DEFAULT_SPEC
from tests.generator.conftest import generated_package


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ModuleType]]:
    tmp_path = tmp_path_factory.mktemp("spec_edit")
    text = DEFAULT_SPEC.read_text(encoding="utf-8")
    count = "    ImageCount:\n      type: integer\n      minimum: 1\n      maximum: 10\n"
    sizes = "enum: [256x256, 512x512, 1024x1024, 1792x1024, 1024x1792, 1536x1024, 1024x1536, auto]"
    assert count in text and sizes in text, "the spec changed shape; update this test's edits"
    text = text.replace(count, count.replace("maximum: 10", "maximum: 8"))
    text = text.replace(sizes, sizes.replace("auto]", "auto, 2048x2048]"))
    spec = tmp_path / "openapi.yaml"
    spec.write_text(text, encoding="utf-8")
    with generated_package(spec, tmp_path) as modules:
        yield modules


def _status(pkg: dict[str, ModuleType], body: dict[str, Any]) -> int:
    async def go() -> int:
        transport = httpx.ASGITransport(pkg["server"].create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://stub") as http:
            return (await http.post("/v1/images/generations", json=body)).status_code

    return asyncio.run(go())


def _sizes(model: type[Any]) -> set[str]:
    (literal, _none) = get_args(get_type_hints(model)["size"])
    return set(get_args(literal))


BASE = {"model": "openai/dall-e-3", "prompt": "a cat"}


def test_new_maximum_reaches_the_server(edited: dict[str, ModuleType]) -> None:
    assert _status(edited, {**BASE, "n": 8}) == 200
    assert _status(edited, {**BASE, "n": 9}) == 400


def test_new_size_reaches_the_server(edited: dict[str, ModuleType]) -> None:
    assert _status(edited, {**BASE, "size": "2048x2048"}) == 200


def test_edits_reach_the_client_models(edited: dict[str, ModuleType]) -> None:
    from pixelpact.generated import models as committed

    assert "2048x2048" not in _sizes(committed.ImageGenerationRequest)
    for name in ("ImageGenerationRequest", "OpenAIImageGenerationRequest", "AzureImageGenerationRequest"):
        assert "2048x2048" in _sizes(getattr(edited["models"], name))
    committed.ImageGenerationRequest(**BASE, n=9)
    with pytest.raises(ValidationError):
        edited["models"].ImageGenerationRequest(**BASE, n=9)
