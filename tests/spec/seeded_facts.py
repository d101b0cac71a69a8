"""The facts the seed documents (Bifrost's API reference pages) state, each as a named check over the spec.

A fact returns the list of ways the spec disagrees with it; an empty list means the spec states it exactly.
"""

from __future__ import annotations

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


def every_operation_is_routed(spec: Spec) -> list[str]:
    errors = []
    for op_id, (method, path, media) in OPERATIONS.items():
        item = spec["paths"].get(path, {})
        op = item.get(method)
        if not op or op.get("operationId") != op_id:
            errors.append(f"{op_id}: expected {method.upper()} {path}")
            continue
        content = deref(spec, op["requestBody"])["content"]
        errors += expect(f"{op_id} body media type", list(content), [media])
    return errors


def n_is_integer_1_to_10(spec: Spec) -> list[str]:
    errors = []
    for op in OPERATIONS:
        n = prop(spec, op, "n")
        errors += expect(f"{op} n", (n.get("type"), n.get("minimum"), n.get("maximum")), ("integer", 1, 10))
    return errors


def size_enum(spec: Spec) -> list[str]:
    errors = []
    for op in OPERATIONS:
        wanted = EDIT_SIZES if "Edit" in op else SIZES
        errors += expect(f"{op} size", prop(spec, op, "size").get("enum"), wanted)
    return errors


def response_format_enum(spec: Spec) -> list[str]:
    return [
        e
        for op in OPERATIONS
        for e in expect(f"{op} response_format", prop(spec, op, "response_format").get("enum"), ["url", "b64_json"])
    ]


def azure_generation_quality_and_style(spec: Spec) -> list[str]:
    return expect(
        "azureCreateImage quality", prop(spec, "azureCreateImage", "quality").get("enum"), ["standard", "hd"]
    ) + expect("azureCreateImage style", prop(spec, "azureCreateImage", "style").get("enum"), ["natural", "vivid"])


def user_and_fallbacks_everywhere(spec: Spec) -> list[str]:
    errors = []
    for op in OPERATIONS:
        errors += expect(f"{op} user", prop(spec, op, "user").get("type"), "string")
        fallbacks = prop(spec, op, "fallbacks")
        errors += expect(
            f"{op} fallbacks", (fallbacks.get("type"), deref(spec, fallbacks["items"]).get("type")), ("array", "string")
        )
    return errors


def stream_on_generations_and_edits_only(spec: Spec) -> list[str]:
    streaming = {op for op in OPERATIONS if "Variation" not in op}
    errors = expect("operations with a stream field", set(ops_with(spec, "stream")), streaming)
    for op_id in streaming:
        responses = operation(spec, op_id)["responses"]
        media = set(deref(spec, responses["200"])["content"])
        errors += expect(f"{op_id} 200 media types", media, {"application/json", "text/event-stream"})
    return errors


def model_is_provider_model_and_required_off_azure(spec: Spec) -> list[str]:
    errors = []
    for op in OPERATIONS:
        model = prop(spec, op, "model")
        errors += expect(f"{op} model", (model.get("type"), model.get("minLength")), ("string", 1))
        if "provider/model" not in model.get("description", ""):
            errors.append(f"{op} model: description must say the format is provider/model")
        required = "model" in body_schema(spec, op).get("required", [])
        errors += expect(f"{op} model required", required, not op.startswith("azure"))
    return errors


def prompt_is_required_non_empty(spec: Spec) -> list[str]:
    errors = []
    for op in (op for op in OPERATIONS if "Variation" not in op):
        errors += expect(f"{op} prompt", prop(spec, op, "prompt").get("minLength"), 1)
        errors += expect(f"{op} prompt required", "prompt" in body_schema(spec, op).get("required", []), True)
    return errors


def image_or_image_array(spec: Spec) -> list[str]:
    errors = []
    for op in (op for op, (_, _, media) in OPERATIONS.items() if media == "multipart/form-data"):
        schema = body_schema(spec, op)
        image, images = prop(spec, op, "image"), prop(spec, op, "image[]")
        errors += expect(f"{op} image", (image.get("type"), image.get("format")), ("string", "binary"))
        item = deref(spec, images.get("items", {}))
        errors += expect(f"{op} image[]", (images.get("type"), item.get("format")), ("array", "binary"))
        errors += expect(
            f"{op} image or image[] required", schema.get("anyOf"), [{"required": ["image"]}, {"required": ["image[]"]}]
        )
        content = deref(spec, operation(spec, op)["requestBody"])["content"]["multipart/form-data"]
        for part in ("image", "image[]"):
            if "contentType" not in content.get("encoding", {}).get(part, {}):
                errors.append(f"{op} {part}: the multipart encoding must give a content type")
    return errors


def response_fields(spec: Spec) -> list[str]:
    schemas = spec["components"]["schemas"]
    native = deref(spec, schemas["ImageResponse"])["properties"]
    errors = expect(
        "ImageResponse fields",
        sorted(native),
        sorted(
            [
                "id",
                "created",
                "model",
                "data",
                "background",
                "output_format",
                "quality",
                "size",
                "usage",
                "extra_fields",
            ]
        ),
    )
    errors += expect(
        "ImageData fields", sorted(schemas["ImageData"]["properties"]), ["b64_json", "index", "revised_prompt", "url"]
    )
    errors += expect("output_format enum", deref(spec, native["output_format"]).get("enum"), ["png", "webp", "jpeg"])
    usage = schemas["ImageUsage"]["properties"]
    errors += expect(
        "ImageUsage fields",
        sorted(usage),
        ["input_tokens", "input_tokens_details", "output_tokens", "output_tokens_details", "total_tokens"],
    )
    details = deref(spec, usage["input_tokens_details"])["properties"]
    errors += expect("token details", sorted(details), ["image_tokens", "text_tokens"])
    extra = schemas["BifrostResponseExtraFields"]["properties"]
    for name in [
        "request_type",
        "model_requested",
        "model_deployment",
        "latency",
        "chunk_index",
        "raw_request",
        "raw_response",
        "cache_debug",
    ]:
        if name not in extra:
            errors.append(f"extra_fields lacks {name}")
    cache = schemas["BifrostCacheDebug"]["properties"]
    errors += expect(
        "cache_debug fields",
        sorted(cache),
        sorted(
            [
                "cache_hit",
                "cache_id",
                "hit_type",
                "requested_provider",
                "requested_model",
                "provider_used",
                "model_used",
                "input_tokens",
                "threshold",
                "similarity",
            ]
        ),
    )
    azure = deref(spec, schemas["OpenAIImageResponse"])["properties"]
    errors += expect(
        "OpenAIImageResponse fields",
        sorted(azure),
        sorted(["created", "data", "background", "output_format", "quality", "size", "usage"]),
    )
    return errors


def stream_event(spec: Spec) -> list[str]:
    event = spec["components"]["schemas"]["ImageStreamEvent"]
    types = deref(spec, event["properties"]["type"]).get("enum", [])
    errors = [
        f"stream event type lacks {t}"
        for t in ("image_generation.partial_image", "image_generation.completed", "error")
        if t not in types
    ]
    for name in ("b64_json", "partial_image_index", "usage"):
        if name not in event["properties"]:
            errors.append(f"stream event lacks {name}")
    return errors + expect("stream event required", event.get("required"), ["type"])


def error_envelope(spec: Spec) -> list[str]:
    schemas = spec["components"]["schemas"]
    envelope, field = schemas["BifrostError"], schemas["ErrorField"]
    errors = expect("BifrostError required", envelope.get("required"), ["error"])
    errors += expect("ErrorField required", field.get("required"), ["message"])
    errors += expect("error.message minLength", field["properties"]["message"].get("minLength"), 1)
    for name in ("type", "code", "param"):
        if name not in field["properties"]:
            errors.append(f"ErrorField lacks {name}")
    for name in ("is_bifrost_error", "status_code", "extra_fields"):
        if name not in envelope["properties"]:
            errors.append(f"BifrostError lacks {name}")
    for op_id in OPERATIONS:
        for status in ("400", "401"):
            response = deref(spec, operation(spec, op_id)["responses"].get(status, {}))
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            errors += expect(f"{op_id} {status} body", schema.get("$ref"), "#/components/schemas/BifrostError")
    return errors


def auth_schemes(spec: Spec) -> list[str]:
    schemes = spec["components"]["securitySchemes"]
    found = {name: (s["type"], s.get("scheme") or s.get("name")) for name, s in schemes.items()}
    errors = expect(
        "security schemes",
        found,
        {
            "BearerAuth": ("http", "bearer"),
            "BasicAuth": ("http", "basic"),
            "VirtualKeyAuth": ("apiKey", "x-bf-vk"),
            "ApiKeyAuth": ("apiKey", "x-api-key"),
            "AzureApiKeyAuth": ("apiKey", "api-key"),
        },
    )
    for op_id in OPERATIONS:
        security = operation(spec, op_id).get("security", spec.get("security", []))
        names = {name for requirement in security for name in requirement}
        wanted = {"BearerAuth", "BasicAuth", "VirtualKeyAuth", "ApiKeyAuth"} | (
            {"AzureApiKeyAuth"} if op_id.startswith("azure") else set()
        )
        errors += expect(f"{op_id} security", names, wanted)
    return errors


def azure_deployment_and_api_version(spec: Spec) -> list[str]:
    errors = []
    for op_id, (_, path, _) in OPERATIONS.items():
        if not op_id.startswith("azure"):
            continue
        params = [deref(spec, p) for p in spec["paths"][path].get("parameters", [])]
        found = {(p["name"], p["in"]) for p in params}
        errors += expect(f"{op_id} parameters", found, {("deployment-id", "path"), ("api-version", "query")})
    return errors


FACTS: dict[str, Fact] = {
    "operations and routes": every_operation_is_routed,
    "n is an integer 1..10": n_is_integer_1_to_10,
    "size enum": size_enum,
    "response_format is url | b64_json": response_format_enum,
    "Azure quality standard|hd, style natural|vivid": azure_generation_quality_and_style,
    "user and fallbacks": user_and_fallbacks_everywhere,
    "stream on generations and edits, SSE answer": stream_on_generations_and_edits_only,
    "model is provider/model, optional on Azure": model_is_provider_model_and_required_off_azure,
    "prompt is a required non-empty string": prompt_is_required_non_empty,
    "multipart image or image[]": image_or_image_array,
    "response fields": response_fields,
    "stream event": stream_event,
    "error envelope": error_envelope,
    "auth schemes": auth_schemes,
    "Azure deployment-id and api-version": azure_deployment_and_api_version,
}
