"""A catalogue of spec edits, each with the classification `pixelpact diff` must give it.

Every seeded fact (tests/spec/seeded_facts.py) has an edit that breaks it, named after the fact, and so do several of
the spec's conventions (tests/spec/conventions.py); those edits must all come out as breaking for clients. The
others cover each kind of change in both directions.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from tests.conftest import SPEC

Spec = dict[str, Any]
Mutation = Callable[[Spec], None]


@dataclass(frozen=True)
class Edit:
    name: str
    mutate: Mutation
    clients: bool
    """The diff says the edit breaks clients."""
    gateways: bool
    """The diff says the edit breaks gateways."""
    kinds: tuple[str, ...] = ()
    """Kinds of change the diff must report (at least these)."""
    fact: str | None = None
    """The seeded fact or convention (a key of seeded_facts.FACTS or conventions.CONVENTIONS) this edit breaks."""


def original() -> Spec:
    return yaml.safe_load(SPEC.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def apply(spec: Spec, edit: Edit) -> Spec:
    edited = copy.deepcopy(spec)
    edit.mutate(edited)
    return edited


def schema(spec: Spec, name: str) -> Spec:
    return spec["components"]["schemas"][name]  # type: ignore[no-any-return]


def op(spec: Spec, path: str, method: str = "post") -> Spec:
    return spec["paths"][path][method]  # type: ignore[no-any-return]


AZURE = "/openai/openai/deployments/{deployment-id}/images"
ALL_SECURITY_LISTS = ("security",)


def _securities(spec: Spec) -> list[list[dict[str, list[str]]]]:
    lists = [spec["security"]]
    for item in spec["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "security" in operation:
                lists.append(operation["security"])
    return lists


def drop_security(spec: Spec, name: str) -> None:
    for security in _securities(spec):
        security[:] = [requirement for requirement in security if name not in requirement]


def drop_enum_value(schema_name: str, value: str) -> Mutation:
    return lambda spec: schema(spec, schema_name)["enum"].remove(value)


def set_key(schema_name: str, key: str, value: Any) -> Mutation:
    return lambda spec: schema(spec, schema_name).__setitem__(key, value)


def drop_property(schema_name: str, name: str) -> Mutation:
    return lambda spec: schema(spec, schema_name)["properties"].pop(name)


def both_routes(schema_name: str, mutation: Callable[[str], Mutation]) -> Mutation:
    """The same edit of the native request schema and of its OpenAI-compatible twin (`OpenAI` + its name)."""
    return each(mutation(schema_name), mutation(f"OpenAI{schema_name}"))


def each(*mutations: Mutation) -> Mutation:
    def mutate(spec: Spec) -> None:
        for mutation in mutations:
            mutation(spec)

    return mutate


def remove_image_array(schema_name: str) -> Mutation:
    def mutate(spec: Spec) -> None:
        body = schema(spec, schema_name)
        body["properties"].pop("image[]")
        body["anyOf"] = [{"required": ["image"]}]

    return mutate


def add_property(name: str, value: Spec) -> Callable[[str], Mutation]:
    return lambda schema_name: (
        lambda spec: schema(spec, schema_name)["properties"].__setitem__(name, copy.deepcopy(value))
    )


def variations_stream_only(spec: Spec) -> None:
    spec["components"]["responses"]["ImageJson"]["content"] = {
        "text/event-stream": {"schema": {"$ref": "#/components/schemas/ImageGenerationStreamEvent"}}
    }


def native_streams_removed(spec: Spec) -> None:
    for name in ("ImageGenerationStreamOrJson", "ImageEditStreamOrJson"):
        spec["components"]["responses"][name]["content"].pop("text/event-stream")


def drop_api_version(spec: Spec) -> None:
    for kind in ("generations", "edits", "variations"):
        item = spec["paths"][f"{AZURE}/{kind}"]
        item["parameters"] = [p for p in item["parameters"] if p["$ref"] != "#/components/parameters/ApiVersion"]


def add_operation(spec: Spec) -> None:
    copied = copy.deepcopy(spec["paths"]["/v1/images/generations"])
    copied["post"]["operationId"] = "createImageV2"
    spec["paths"]["/v2/images/generations"] = copied


def move_route(spec: Spec) -> None:
    spec["paths"]["/v1/image/generations"] = spec["paths"].pop("/v1/images/generations")


def stream_variations(spec: Spec) -> None:
    spec["components"]["responses"]["ImageJson"]["content"]["text/event-stream"] = {
        "schema": {"$ref": "#/components/schemas/ImageGenerationStreamEvent"}
    }


def accept_multipart_generation(spec: Spec) -> None:
    content = op(spec, "/v1/images/generations")["requestBody"]["content"]
    content["multipart/form-data"] = copy.deepcopy(content["application/json"])


def edit_part_type(spec: Spec) -> None:
    op(spec, "/v1/images/edits")["requestBody"]["content"]["multipart/form-data"]["encoding"]["image"] = {
        "contentType": "image/jpeg"
    }


def native_azure_key(spec: Spec) -> None:
    spec["security"].insert(-1, {"AzureApiKeyAuth": []})


def share_negative_prompt(spec: Spec) -> None:
    """The same contract written differently: an inline schema moved into a component, properties reordered."""
    schemas = spec["components"]["schemas"]
    schemas["NegativePrompt"] = schemas["ImageGenerationRequest"]["properties"]["negative_prompt"]
    for name in ("ImageGenerationRequest", "ImageEditRequest", "OpenAIImageEditRequest"):
        properties = schemas[name]["properties"]
        properties["negative_prompt"] = {"$ref": "#/components/schemas/NegativePrompt"}
        schemas[name]["properties"] = dict(reversed(list(properties.items())))


def new_required_field(name: str, value: Spec) -> Callable[[str], Mutation]:
    def mutation(schema_name: str) -> Mutation:
        def mutate(spec: Spec) -> None:
            body = schema(spec, schema_name)
            body["properties"][name] = copy.deepcopy(value)
            body["required"].append(name)

        return mutate

    return mutation


def fallback_models(**keywords: Any) -> Mutation:
    """The same keywords on a fallback's model name in both forms: native objects' `model`, compatible strings."""

    def mutate(spec: Spec) -> None:
        schema(spec, "Fallback")["properties"]["model"].update(keywords)
        schema(spec, "OpenAIFallbacks")["items"].update(keywords)

    return mutate


def prompt_never_required(spec: Spec) -> None:
    """Drop the if/else that makes an edit's prompt required unless its type is background_removal."""
    edit = schema(spec, "ImageEditRequest")
    del edit["if"], edit["else"]


def prompt_always_required(spec: Spec) -> None:
    prompt_never_required(spec)
    schema(spec, "ImageEditRequest")["required"].append("prompt")


EDITS: tuple[Edit, ...] = (
    # --- one edit per seeded fact: every one breaks clients -----------------------------------------------------
    Edit(
        "remove the variations route",
        lambda spec: spec["paths"].pop("/v1/images/variations"),
        True,
        False,
        ("operation-removed",),
        fact="operations and routes",
    ),
    Edit(
        "n's maximum 10 -> 8",
        set_key("ImageCount", "maximum", 8),
        True,
        False,
        ("maximum-lowered",),
        "n is an integer 1..10",
    ),
    Edit(
        "drop size 1792x1024",
        drop_enum_value("ImageSize", "1792x1024"),
        True,
        True,  # ImageResponse.size uses ImageSize too: an answer naming 1792x1024 is no longer valid
        ("enum-value-removed",),
        "size enum",
    ),
    Edit(
        "drop response_format b64_json",
        drop_enum_value("ResponseFormat", "b64_json"),
        True,
        False,
        ("enum-value-removed",),
        "response_format is url | b64_json",
    ),
    Edit(
        "drop Azure quality hd",
        drop_enum_value("OpenAIImageQuality", "hd"),
        True,
        False,
        ("enum-value-removed",),
        "Azure quality standard|hd, style natural|vivid",
    ),
    Edit(
        "remove user from variations",
        both_routes("ImageVariationRequest", lambda name: drop_property(name, "user")),
        True,
        False,
        ("field-removed",),
        "request fields",
    ),
    Edit(
        "generations and edits stop streaming",
        native_streams_removed,
        True,
        False,
        ("response-media-type-removed",),
        "stream on generations and edits, SSE answer",
    ),
    Edit(
        "edits need a prompt whatever their type",
        prompt_always_required,
        True,
        True,
        ("now-required", "required-rule-removed"),
    ),
    Edit(
        "edits need no prompt whatever their type",
        prompt_never_required,
        False,
        True,
        ("required-rule-removed",),
    ),
    Edit(
        "model required on Azure generations",
        lambda spec: schema(spec, "AzureImageGenerationRequest")["required"].append("model"),
        True,
        False,
        ("now-required",),
        "model non-empty, required off Azure",
    ),
    Edit(
        "prompt needs 3 characters",
        set_key("Prompt", "minLength", 3),
        True,
        False,
        ("minLength-raised",),
        "prompt is a required non-empty string",
    ),
    Edit(
        "remove image[] from edits",
        both_routes("ImageEditRequest", remove_image_array),
        True,
        False,
        ("field-removed", "required-alternative-removed"),
        "multipart image or image[] with an encoding",
    ),
    Edit(
        "responses lose b64_json",
        drop_property("ImageData", "b64_json"),
        True,
        False,
        ("field-removed",),
        "variation response fields and types",
    ),
    Edit(
        "stream events lose partial_image_index",
        each(*(drop_property(f"Image{kind}StreamEvent", "partial_image_index") for kind in ("Generation", "Edit"))),
        True,
        False,
        ("field-removed",),
        "stream event",
    ),
    Edit(
        "error message no longer required",
        set_key("ErrorField", "required", []),
        True,
        False,
        ("no-longer-required",),
        "error envelope",
    ),
    Edit(
        "x-bf-vk no longer accepted",
        lambda spec: drop_security(spec, "VirtualKeyAuth"),
        True,
        False,
        ("auth-alternative-removed",),
        "auth schemes",
    ),
    Edit(
        "Azure routes lose api-version",
        drop_api_version,
        True,
        False,
        ("parameter-removed",),
        "Azure route, deployment-id and api-version",
    ),
    Edit(
        "variations lose image[]",
        both_routes("ImageVariationRequest", remove_image_array),
        True,
        False,
        ("field-removed", "required-alternative-removed"),
        "variation: multipart with model and image or image[]",
    ),
    Edit(
        "variations answer with an event stream only",
        variations_stream_only,
        True,
        True,
        ("response-media-type-removed",),
        "variation: no streaming",
    ),
    Edit(
        "model becomes an integer",
        set_key("ModelName", "type", "integer"),
        True,
        True,
        ("type-changed",),
        "model is provider/model",
    ),
    Edit(
        "Azure generations stop streaming",
        lambda spec: spec["components"]["responses"]["OpenAIImageGenerationStreamOrJson"]["content"].pop(
            "text/event-stream"
        ),
        True,
        False,
        ("response-media-type-removed",),
        "Azure stream is SSE",
    ),
    Edit(
        "Azure responses lose usage",
        drop_property("OpenAIImageResponse", "usage"),
        True,
        False,
        ("field-removed",),
        "Azure response fields and types",
    ),
    # --- request constraints, both directions ------------------------------------------------------------------
    Edit("n's maximum 10 -> 12", set_key("ImageCount", "maximum", 12), False, True, ("maximum-raised",)),
    Edit("n's minimum 1 -> 0", set_key("ImageCount", "minimum", 0), False, True, ("minimum-lowered",)),
    Edit("n's minimum 1 -> 2", set_key("ImageCount", "minimum", 2), True, False, ("minimum-raised",)),
    Edit("n's default 1 -> 2", set_key("ImageCount", "default", 2), True, True, ("default-changed",)),
    Edit("n becomes a string", set_key("ImageCount", "type", "string"), True, True, ("type-changed",)),
    Edit(
        "size 2048x2048 added to edits",
        lambda spec: schema(spec, "EditImageSize")["enum"].append("2048x2048"),
        False,
        True,
        ("enum-value-added",),
    ),
    Edit(
        "style becomes free text", lambda spec: schema(spec, "ImageStyle").pop("enum"), False, True, ("enum-removed",)
    ),
    Edit("edits need two images in image[]", set_key("ImageFiles", "minItems", 2), True, False, ("minItems-raised",)),
    Edit(
        "an empty fallback model allowed",
        fallback_models(minLength=0),
        False,
        True,
        ("minLength-lowered",),
    ),
    Edit(
        "style required on native generations",
        lambda spec: schema(spec, "ImageGenerationRequest")["required"].append("style"),
        True,
        False,
        ("now-required",),
    ),
    Edit(
        "model optional on native generations",
        lambda spec: schema(spec, "ImageGenerationRequest")["required"].remove("model"),
        False,
        True,
        ("no-longer-required",),
    ),
    Edit(
        "quality added to variations",
        both_routes(
            "ImageVariationRequest", add_property("quality", {"$ref": "#/components/schemas/OpenAIImageQuality"})
        ),
        False,
        True,
        ("field-added",),
    ),
    Edit(
        "a new required seed on variations",
        both_routes("ImageVariationRequest", new_required_field("seed", {"$ref": "#/components/schemas/Seed"})),
        True,
        True,
        ("field-added",),
    ),
    Edit(
        "generations refuse unknown fields",
        set_key("ImageGenerationRequest", "additionalProperties", False),
        True,
        False,
        ("additionalProperties-added",),
    ),
    Edit(
        "api-version required",
        lambda spec: spec["components"]["parameters"]["ApiVersion"].update(required=True),
        True,
        False,
        ("now-required",),
    ),
    Edit(
        "deployment-id needs 3 characters",
        lambda spec: spec["components"]["parameters"]["DeploymentId"]["schema"].update(minLength=3),
        True,
        False,
        ("minLength-raised",),
    ),
    Edit(
        "fallback models become numbers",
        fallback_models(type="integer"),
        True,
        True,
        ("type-changed",),
    ),
    Edit(
        "model names must be provider/model",
        set_key("ModelName", "pattern", "^[^/]+/.+$"),
        True,
        False,
        ("pattern-added",),
    ),
    # --- operations, media types, encodings, auth ----------------------------------------------------------------
    Edit("a new generations route", add_operation, False, True, ("operation-added",)),
    Edit("createImage moves to /v1/image/generations", move_route, True, True, ("route-changed",)),
    Edit("generations also accept multipart", accept_multipart_generation, False, True, ("media-type-added",)),
    Edit("edit parts become image/jpeg", edit_part_type, True, True, ("contentType-changed",)),
    Edit("native routes accept api-key", native_azure_key, False, True, ("auth-alternative-added",)),
    Edit(
        "x-bf-vk renamed x-bifrost-vk",
        lambda spec: spec["components"]["securitySchemes"]["VirtualKeyAuth"].update(name="x-bifrost-vk"),
        True,
        True,
        ("auth-scheme-changed",),
    ),
    # --- responses ---------------------------------------------------------------------------------------------
    Edit("variations may stream", stream_variations, False, True, ("response-media-type-added",)),
    Edit(
        "a new optional response field",
        lambda spec: schema(spec, "ImageResponse")["properties"].update(request_id={"type": "string"}),
        False,
        False,
        ("field-added",),
    ),
    Edit(
        "response id required",
        lambda spec: schema(spec, "ImageResponse")["required"].append("id"),
        False,
        True,
        ("now-required",),
    ),
    Edit(
        "image index becomes a string",
        lambda spec: schema(spec, "ImageData")["properties"]["index"].update(type="string"),
        True,
        True,
        ("type-changed",),
    ),
    Edit(
        "a new stream event type",
        lambda spec: schema(spec, "ImageGenerationStreamEventType")["enum"].append("image_generation.progress"),
        True,
        False,
        ("enum-value-added",),
    ),
    Edit(
        "stream events can no longer be errors",
        drop_enum_value("ImageGenerationStreamEventType", "error"),
        False,
        True,
        ("enum-value-removed",),
    ),
    Edit(
        "error param no longer nullable",
        lambda spec: schema(spec, "ErrorField")["properties"]["param"].update(type="string"),
        False,
        True,
        ("type-narrowed",),
    ),
    Edit(
        "413 no longer documented",
        lambda spec: op(spec, "/v1/images/generations")["responses"].pop("413"),
        False,
        False,
        ("response-removed",),
    ),
    # --- no change of the contract -------------------------------------------------------------------------------
    Edit("an inline schema shared, properties reordered", share_negative_prompt, False, False),
    Edit("a description reworded", set_key("ImageSize", "description", "Pixel size of the images"), False, False),
    Edit("seed deprecated", set_key("Seed", "deprecated", True), False, False, ("deprecated",)),
)
