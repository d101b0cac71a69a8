"""The table of what the provider's image API and each model take (pixelpact.generator.runtime.provider_api) against
the official openai SDK's typed request parameters, and the stub playing a model (`--model-rules`)."""

from __future__ import annotations

import typing
from importlib.metadata import version
from typing import Any

import httpx
import pytest
from openai.types import image_create_variation_params, image_edit_params, image_generate_params, image_model

from pixelpact.generator.runtime import provider_api
from pixelpact.generator.runtime.config import StubConfig
from pixelpact.generator.runtime.provider_api import MODELS, OPENAI_FIELDS, SDK, SDK_LITERALS, SDK_MODELS, rules_for
from pixelpact.generator.runtime.serve import config_from_args, configure, stub_server

PARAMS: dict[provider_api.Kind, Any] = {
    "generation": image_generate_params.ImageGenerateParamsNonStreaming,
    "edit": image_edit_params.ImageEditParamsNonStreaming,
    "variation": image_create_variation_params.ImageCreateVariationParams,
}


def _literals(annotation: Any) -> frozenset[str]:
    """Every Literal string inside an annotation (Optional[Literal[...]], Union[str, Literal[...], None] ...)."""
    if typing.get_origin(annotation) is typing.Literal:
        return frozenset(value for value in typing.get_args(annotation) if isinstance(value, str))
    found: frozenset[str] = frozenset()
    for argument in typing.get_args(annotation):
        found |= _literals(argument)
    return found


def test_the_table_names_the_installed_sdk() -> None:
    assert f"openai {version('openai')}" == SDK, "re-read the table from the new SDK's docstrings, then bump SDK"


@pytest.mark.parametrize("kind", provider_api.KINDS)
def test_the_fields_the_api_takes_are_the_sdk_typeddict_keys(kind: provider_api.Kind) -> None:
    params = PARAMS[kind]
    keys = params.__required_keys__ | params.__optional_keys__
    assert OPENAI_FIELDS[kind] - {"image[]"} == keys


@pytest.mark.parametrize("kind", provider_api.KINDS)
def test_the_literal_values_are_the_sdk_s(kind: provider_api.Kind) -> None:
    hints = typing.get_type_hints(PARAMS[kind], include_extras=False)
    sdk = {name: _literals(hint) for name, hint in hints.items() if _literals(hint) and name not in {"stream", "model"}}
    assert SDK_LITERALS[kind] == sdk


def test_the_models_are_the_sdk_s_image_models() -> None:
    assert _literals(image_model.ImageModel) == SDK_MODELS == set(MODELS)


def test_every_rule_keeps_within_the_sdk_s_values_and_cites_it() -> None:
    for rules in MODELS.values():
        for kind, fields in rules.kinds.items():
            for name, rule in fields.items():
                assert name in OPENAI_FIELDS[kind], (rules.model, kind, name)
                assert rule.source.startswith(SDK), (rules.model, kind, name)
                if rule.values is not None and name in SDK_LITERALS[kind]:
                    assert set(rule.values) <= SDK_LITERALS[kind][name], (rules.model, kind, name)


def test_the_rules_the_issue_names() -> None:
    gpt, dalle3, dalle2 = rules_for("openai/gpt-image-1"), rules_for("dall-e-3"), rules_for("dall-e-2")
    assert gpt is not None and dalle3 is not None and dalle2 is not None
    assert gpt.allows("generation", "size", "1024x1024") and not gpt.allows("generation", "size", "256x256")
    assert not gpt.takes("generation", "response_format") and not gpt.serves("variation")
    assert gpt.allows("edit", "n", 10) and not gpt.takes("generation", "style")
    assert not dalle3.allows("generation", "n", 2) and dalle3.allows("generation", "style", "vivid")
    assert not dalle3.serves("edit") and not dalle3.takes("generation", "stream")
    assert dalle2.serves("variation") and dalle2.refusal("edit", {}, images=2) is not None
    gpt2 = rules_for("gpt-image-2")
    assert gpt2 is not None and gpt2.allows("generation", "size", "1536x864")
    assert not gpt2.allows("generation", "size", "1000x1000") and not gpt2.allows("generation", "size", "3840x480")


def _post(url: str, path: str, **body: Any) -> httpx.Response:
    return httpx.post(f"{url}{path}", json={"model": "openai/whatever", "prompt": "a fox", **body}, timeout=30)


def test_the_stub_playing_a_model_refuses_what_it_refuses_as_openai_does() -> None:
    with stub_server(StubConfig(model_rules="gpt-image-1", provider=True)) as url:
        small = _post(url, "/v1/images/generations", size="256x256")
        b64 = _post(url, "/v1/images/generations", size="1024x1024", response_format="b64_json")
        fine = _post(url, "/v1/images/generations", size="1024x1024")
        variation = httpx.post(
            f"{url}/v1/images/variations", data={"model": "m"}, files={"image": ("a.png", _png(), "image/png")}
        )
    for refused, param in ((small, "size"), (b64, "response_format"), (variation, "model")):
        assert refused.status_code == 400, refused.text
        error = refused.json()["error"]
        assert (error["type"], error["param"]) == ("invalid_request_error", param)
        assert error["message"]
    assert fine.status_code == 200
    assert set(fine.json()["data"][0]) >= {"b64_json"}, "a GPT image model answers base64 without being asked"


def test_the_permissive_stub_serves_what_the_spec_allows() -> None:
    with stub_server(StubConfig(provider=True)) as url:
        assert _post(url, "/v1/images/generations", size="256x256", response_format="b64_json").status_code == 200


def test_serve_takes_model_rules_and_refuses_an_unknown_model() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    configure(parser)
    assert config_from_args(parser.parse_args(["--model-rules", "dall-e-3"])).model_rules == "dall-e-3"
    with pytest.raises(ValueError, match="no rules for 'dall-e-9'"):
        config_from_args(parser.parse_args(["--model-rules", "dall-e-9"]))


def _png() -> bytes:
    from pixelpact.conformance.engine.images import png

    return png(16, 16, (1, 2, 3))
