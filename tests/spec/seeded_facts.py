"""The facts the seed documents state (/work/shared/seeds: Bifrost's API reference pages for "Create image variation",
seed 000, and "Create image (Azure OpenAI)", seed 003), each as a named check over the spec: names and types.

A fact returns the list of ways the spec disagrees with it; an empty list means the spec states it. Only what the
seeds say is here; the spec's own conventions (routes from Bifrost's code, the edit sizes, minLength 1, the header
names of the key schemes, the stream events, the error envelope, the encodings) are in tests/spec/conventions.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

Spec = dict[str, Any]
Fact = Callable[[Spec], list[str]]

SIZES = ["256x256", "512x512", "1024x1024", "1792x1024", "1024x1792", "1536x1024", "1024x1536", "auto"]
EDIT_SIZES = ["256x256", "512x512", "1024x1024", "1536x1024", "1024x1536", "auto"]

OPERATIONS = {
    "createImage": ("post", "/v1/images/generations", "application/json"),
    "createImageEdit": ("post", "/v1/images/edits", "multipart/form-data"),
    "createImageVariation": ("post", "/v1/images/variations", "multipart/form-data"),
    "openaiCreateImage": ("post", "/openai/v1/images/generations", "application/json"),
    "openaiCreateImageEdit": ("post", "/openai/v1/images/edits", "multipart/form-data"),
    "openaiCreateImageVariation": ("post", "/openai/v1/images/variations", "multipart/form-data"),
    "azureCreateImage": ("post", "/openai/openai/deployments/{deployment-id}/images/generations", "application/json"),
    "azureCreateImageEdit": ("post", "/openai/openai/deployments/{deployment-id}/images/edits", "multipart/form-data"),
    "azureCreateImageVariation": (
        "post",
        "/openai/openai/deployments/{deployment-id}/images/variations",
        "multipart/form-data",
    ),
}


def deref(spec: Spec, node: Any) -> Any:
    """Follow local $refs until a node that is not a reference (siblings of a $ref are ignored)."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def operation(spec: Spec, operation_id: str) -> Spec:
    for item in spec["paths"].values():
        for op in item.values():
            if isinstance(op, dict) and op.get("operationId") == operation_id:
                return op
    raise KeyError(operation_id)


def body_schema(spec: Spec, operation_id: str) -> Spec:
    content = deref(spec, operation(spec, operation_id)["requestBody"])["content"]
    media = next(iter(content.values()))
    return deref(spec, media["schema"])


def prop(spec: Spec, operation_id: str, name: str) -> Spec:
    return deref(spec, body_schema(spec, operation_id)["properties"][name])


def ops_with(spec: Spec, name: str) -> list[str]:
    return [op for op in OPERATIONS if name in body_schema(spec, op).get("properties", {})]


def expect(label: str, actual: Any, wanted: Any) -> list[str]:
    return [] if actual == wanted else [f"{label}: expected {wanted!r}, found {actual!r}"]


#: The operations the two seed pages document.
VARIATION, AZURE = "createImageVariation", "azureCreateImage"

#: Seed 000's response example, verbatim: every field, its type shown by its example value.
SEED_000_RESPONSE = json.loads(
    """{"id": "<string>", "created": 123, "model": "<string>",
    "data": [{"url": "<string>", "b64_json": "<string>", "revised_prompt": "<string>", "index": 123}],
    "background": "<string>", "quality": "<string>",
    "usage": {"input_tokens": 123, "input_tokens_details": {"image_tokens": 123, "text_tokens": 123},
              "total_tokens": 123, "output_tokens": 123,
              "output_tokens_details": {"image_tokens": 123, "text_tokens": 123}},
    "extra_fields": {"request_type": "<string>", "model_requested": "<string>", "model_deployment": "<string>",
                     "latency": 123, "chunk_index": 123, "raw_request": {}, "raw_response": {},
                     "cache_debug": {"cache_hit": true, "cache_id": "<string>", "hit_type": "<string>",
                                     "requested_provider": "<string>", "requested_model": "<string>",
                                     "provider_used": "<string>", "model_used": "<string>", "input_tokens": 123,
                                     "threshold": 123, "similarity": 123}}}"""
)
#: Seed 003's response example (the Azure route), verbatim.
SEED_003_RESPONSE = json.loads(
    """{"created": 123,
    "data": [{"url": "<string>", "b64_json": "<string>", "revised_prompt": "<string>", "index": 123}],
    "background": "<string>", "output_format": "<string>", "quality": "<string>", "size": "<string>",
    "usage": {"input_tokens": 123, "input_tokens_details": {"image_tokens": 123, "text_tokens": 123},
              "total_tokens": 123, "output_tokens": 123,
              "output_tokens_details": {"image_tokens": 123, "text_tokens": 123}}}"""
)


def json_response(spec: Spec, operation_id: str) -> Spec:
    """The schema of an operation's 200 application/json answer."""
    response = deref(spec, operation(spec, operation_id)["responses"]["200"])
    return deref(spec, response["content"]["application/json"]["schema"])


def shape_problems(spec: Spec, schema: Any, example: Any, where: str) -> list[str]:
    """How `schema` fails to declare `example`'s fields with its types: "<string>" a string, 123 a number (integer
    or number: the seeds show 123 for a similarity too), true a boolean, {} an object, [x] an array of x's shape."""
    schema = deref(spec, schema)
    declared = schema.get("type")
    if isinstance(example, bool):
        return expect(f"{where} type", declared, "boolean")
    if isinstance(example, int):
        return [] if declared in ("integer", "number") else [f"{where} type: expected a number, found {declared!r}"]
    if isinstance(example, str):
        return expect(f"{where} type", declared, "string")
    if isinstance(example, list):
        problems = expect(f"{where} type", declared, "array")
        return problems or shape_problems(spec, schema.get("items", {}), example[0], f"{where}[]")
    problems = expect(f"{where} type", declared, "object")
    properties = schema.get("properties", {})
    for name, value in example.items():
        if name not in properties:
            problems.append(f"{where} lacks {name}")
        else:
            problems += shape_problems(spec, properties[name], value, f"{where}.{name}")
    return problems


def variation_is_multipart_with_model_and_image(spec: Spec) -> list[str]:
    """000: "Request must be sent as multipart/form-data with model and image (or image[])." "Use field name image
    for a single file or image[] for multiple"."""
    content = deref(spec, operation(spec, VARIATION)["requestBody"])["content"]
    errors = expect(f"{VARIATION} media type", list(content), ["multipart/form-data"])
    schema = body_schema(spec, VARIATION)
    image, images = prop(spec, VARIATION, "image"), prop(spec, VARIATION, "image[]")
    errors += expect(f"{VARIATION} image", (image.get("type"), image.get("format")), ("string", "binary"))
    item = deref(spec, images.get("items", {}))
    errors += expect(f"{VARIATION} image[]", (images.get("type"), item.get("format")), ("array", "binary"))
    errors += expect(f"{VARIATION} model required", "model" in schema.get("required", []), True)
    errors += expect(
        f"{VARIATION} image or image[] required",
        schema.get("anyOf"),
        [{"required": ["image"]}, {"required": ["image[]"]}],
    )
    return errors


def variation_does_not_stream(spec: Spec) -> list[str]:
    """000: "Does not support streaming." """
    errors = expect(f"{VARIATION} has a stream field", "stream" in body_schema(spec, VARIATION)["properties"], False)
    media = set(deref(spec, operation(spec, VARIATION)["responses"]["200"])["content"])
    return errors + expect(f"{VARIATION} 200 media types", media, {"application/json"})


def seeded_request_fields(spec: Spec) -> list[str]:
    """The request fields each page lists."""
    wanted = {
        VARIATION: {"model", "image", "image[]", "n", "size", "response_format", "user", "fallbacks"},
        AZURE: {"model", "prompt", "n", "size", "quality", "style", "response_format", "user", "stream", "fallbacks"},
    }
    errors = []
    for op_id, names in wanted.items():
        missing = sorted(names - set(body_schema(spec, op_id).get("properties", {})))
        errors += [f"{op_id} lacks {name}" for name in missing]
    return errors


def model_is_provider_slash_model(spec: Spec) -> list[str]:
    """000: "Model identifier in format provider/model"."""
    model = prop(spec, VARIATION, "model")
    errors = expect(f"{VARIATION} model type", model.get("type"), "string")
    if "provider/model" not in model.get("description", ""):
        errors.append(f"{VARIATION} model: the description must say the format is provider/model")
    return errors


def n_is_integer_1_to_10(spec: Spec) -> list[str]:
    """000 and 003: "Required range: 1 <= x <= 10"."""
    errors = []
    for op in (VARIATION, AZURE):
        n = prop(spec, op, "n")
        errors += expect(f"{op} n", (n.get("type"), n.get("minimum"), n.get("maximum")), ("integer", 1, 10))
    return errors


def size_enum(spec: Spec) -> list[str]:
    """000 and 003: "256x256, 512x512, 1024x1024, 1792x1024, 1024x1792, 1536x1024, 1024x1536, auto"."""
    return [e for op in (VARIATION, AZURE) for e in expect(f"{op} size", prop(spec, op, "size").get("enum"), SIZES)]


def response_format_enum(spec: Spec) -> list[str]:
    """000 and 003: "url, b64_json"."""
    return [
        e
        for op in (VARIATION, AZURE)
        for e in expect(f"{op} response_format", prop(spec, op, "response_format").get("enum"), ["url", "b64_json"])
    ]


def azure_generation_quality_and_style(spec: Spec) -> list[str]:
    """003: quality "standard, hd"; style "natural, vivid"."""
    return expect(f"{AZURE} quality", prop(spec, AZURE, "quality").get("enum"), ["standard", "hd"]) + expect(
        f"{AZURE} style", prop(spec, AZURE, "style").get("enum"), ["natural", "vivid"]
    )


def azure_route(spec: Spec) -> list[str]:
    """003: "POST /openai/openai/deployments/{deployment-id}/images/generations", "Path Parameters: Azure deployment
    ID", "Query Parameters: Azure API version", "Body application/json"."""
    path = "/openai/openai/deployments/{deployment-id}/images/generations"
    item = spec["paths"].get(path, {})
    errors = expect(f"POST {path}", item.get("post", {}).get("operationId"), AZURE)
    if errors:
        return errors
    params = [deref(spec, p) for p in [*item.get("parameters", []), *item["post"].get("parameters", [])]]
    found = {(p["name"], p["in"]) for p in params}
    errors += expect(f"{AZURE} parameters", found, {("deployment-id", "path"), ("api-version", "query")})
    errors += expect(
        f"{AZURE} media type", list(deref(spec, item["post"]["requestBody"])["content"]), ["application/json"]
    )
    return errors


def azure_stream_is_sse(spec: Spec) -> list[str]:
    """003: "Whether to stream the response. When true, images are sent as base64 chunks via SSE." """
    errors = expect(f"{AZURE} stream type", prop(spec, AZURE, "stream").get("type"), "boolean")
    media = set(deref(spec, operation(spec, AZURE)["responses"]["200"])["content"])
    return errors + expect(f"{AZURE} 200 media types", media, {"application/json", "text/event-stream"})


def auth_schemes(spec: Spec) -> list[str]:
    """003: "Authorizations: BearerAuth BasicAuth VirtualKeyAuth ApiKeyAuth"; 000: "Bearer token authentication".
    The header names of the two key schemes are not in the seeds (conventions.py)."""
    schemes = spec["components"]["securitySchemes"]
    found = {name: (s.get("type"), s.get("scheme")) for name, s in schemes.items()}
    errors = []
    for name, wanted in {
        "BearerAuth": ("http", "bearer"),
        "BasicAuth": ("http", "basic"),
        "VirtualKeyAuth": ("apiKey", None),
        "ApiKeyAuth": ("apiKey", None),
    }.items():
        errors += expect(f"security scheme {name}", found.get(name), wanted)
    for op_id, wanted_names in (
        (AZURE, {"BearerAuth", "BasicAuth", "VirtualKeyAuth", "ApiKeyAuth"}),
        (VARIATION, {"BearerAuth"}),
    ):
        security = operation(spec, op_id).get("security", spec.get("security", []))
        names = {name for requirement in security for name in requirement}
        missing = sorted(wanted_names - names)
        errors += [f"{op_id} security lacks {name}" for name in missing]
    return errors


def variation_response(spec: Spec) -> list[str]:
    """000's response: the example's fields and types; "Output image format png, webp, jpeg"; the size enum;
    "Unix timestamp when the image was created"."""
    schema = json_response(spec, VARIATION)
    errors = shape_problems(spec, schema, SEED_000_RESPONSE, f"{VARIATION} 200")
    properties = schema.get("properties", {})
    errors += expect(
        "output_format enum", deref(spec, properties.get("output_format", {})).get("enum"), ["png", "webp", "jpeg"]
    )
    errors += expect("response size enum", deref(spec, properties.get("size", {})).get("enum"), SIZES)
    if "Unix timestamp" not in deref(spec, properties.get("created", {})).get("description", ""):
        errors.append(f"{VARIATION} 200 created: the description must say it is a Unix timestamp")
    return errors


def azure_response(spec: Spec) -> list[str]:
    """003's response: the example's fields and types."""
    return shape_problems(spec, json_response(spec, AZURE), SEED_003_RESPONSE, f"{AZURE} 200")


FACTS: dict[str, Fact] = {
    "variation: multipart with model and image or image[]": variation_is_multipart_with_model_and_image,
    "variation: no streaming": variation_does_not_stream,
    "request fields": seeded_request_fields,
    "model is provider/model": model_is_provider_slash_model,
    "n is an integer 1..10": n_is_integer_1_to_10,
    "size enum": size_enum,
    "response_format is url | b64_json": response_format_enum,
    "Azure quality standard|hd, style natural|vivid": azure_generation_quality_and_style,
    "Azure route, deployment-id and api-version": azure_route,
    "Azure stream is SSE": azure_stream_is_sse,
    "auth schemes": auth_schemes,
    "variation response fields and types": variation_response,
    "Azure response fields and types": azure_response,
}
