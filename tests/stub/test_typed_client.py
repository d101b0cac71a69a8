"""The generated typed client (generated/client.py) against the stub over 127.0.0.1."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from pixelpact.generated import models
from pixelpact.generated.client import ApiError, Client
from tests.stub.conftest import png


def test_a_background_removal_edit_needs_no_prompt(stub_url: str) -> None:
    """The spec's if/else: prompt is required unless type is background_removal. The client's model says so before
    sending, and the stub says so when a body without it arrives."""
    with Client(stub_url) as client:
        removed = client.create_image_edit(
            models.ImageEditRequest(model="openai/gpt-image-1", image=png(), type="background_removal")
        )
        assert len(removed.data) == 1
        entry: dict[str, Any] = httpx.get(f"{stub_url}/_pixelpact/requests").json()["requests"][-1]
        assert {p["name"] for p in entry["parts"]} >= {"model", "image", "type"}
        assert "prompt" not in {p["name"] for p in entry["parts"]}

        with pytest.raises(ValidationError, match="prompt is required unless type is background_removal"):
            models.ImageEditRequest(model="openai/gpt-image-1", image=png(), type="inpainting")
        with pytest.raises(ApiError) as refused:  # a mapping is sent as it is: the stub judges it
            client.create_image_edit({"model": "openai/gpt-image-1", "image": png()})
        assert refused.value.status_code == 400
        assert refused.value.body is not None and refused.value.body.error.param == "prompt"
