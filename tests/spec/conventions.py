"""The spec's own conventions: what spec/openapi.yaml states beyond the seed documents, from Bifrost's code and spec
(/work/shared/reference/bifrost-image-api.md) or chosen by this project (spec/README.md). Tested apart from the
seeded facts (tests/spec/seeded_facts.py), so neither list claims more than its source says.

- every route of the nine operations (the seeds give only the Azure generation route);
- the seeded request facts (n's range, the size and response_format enums, user, fallbacks) on every operation, the
  edits' shorter size enum, minLength 1 on model, prompt and the fallback items, model required off Azure;
- fallbacks as {provider, model} objects on the native routes (an application/json part in multipart), as
  provider/model strings on the OpenAI-compatible and Azure ones;
- stream on generations and edits, the stream event types and fields;
- image / image[] with an image/png encoding on every multipart route;
- the error envelope on every operation's 400 and 401;
- the header names of the key schemes (x-bf-vk, x-api-key; api-key on Azure) and the deployment-id / api-version
  parameters on every Azure route.
"""

from __future__ import annotations

from tests.spec.seeded_facts import (
    EDIT_SIZES,
    OPERATIONS,
    SIZES,
    Fact,
    Spec,
    body_schema,
    deref,
    expect,
    operation,
    ops_with,
    prop,
)


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


def n_is_1_to_10_everywhere(spec: Spec) -> list[str]:
    errors = []
    for op in OPERATIONS:
        n = prop(spec, op, "n")
        errors += expect(f"{op} n", (n.get("type"), n.get("minimum"), n.get("maximum")), ("integer", 1, 10))
    return errors


def sizes_everywhere(spec: Spec) -> list[str]:
    errors = []
    for op in OPERATIONS:
        wanted = EDIT_SIZES if "Edit" in op else SIZES
        errors += expect(f"{op} size", prop(spec, op, "size").get("enum"), wanted)
    return errors


def response_format_everywhere(spec: Spec) -> list[str]:
    return [
        e
        for op in OPERATIONS
        for e in expect(f"{op} response_format", prop(spec, op, "response_format").get("enum"), ["url", "b64_json"])
    ]


def user_and_fallbacks_everywhere(spec: Spec) -> list[str]:
    """Fallbacks are {provider, model} objects on the native routes (the native variations seed's "Show child
    attributes", Bifrost's common.yaml#/Fallback), each multipart one an application/json part; provider/model
    strings on the OpenAI-compatible and Azure routes."""
    errors = []
    for op in OPERATIONS:
        errors += expect(f"{op} user", prop(spec, op, "user").get("type"), "string")
        fallbacks = prop(spec, op, "fallbacks")
        items = deref(spec, fallbacks["items"])
        native = operation(spec, op)["tags"] == ["native"]
        errors += expect(
            f"{op} fallbacks", (fallbacks.get("type"), items.get("type")), ("array", "object" if native else "string")
        )
        if native:
            errors += expect(f"{op} fallback fields", sorted(items.get("required") or ()), ["model", "provider"])
            lengths = {name: deref(spec, schema).get("minLength") for name, schema in items["properties"].items()}
            errors += expect(f"{op} fallback fields' minLength", lengths, {"provider": 1, "model": 1})
            if OPERATIONS[op][2] == "multipart/form-data":
                encoding = operation(spec, op)["requestBody"]["content"]["multipart/form-data"]["encoding"]
                errors += expect(f"{op} fallbacks part", encoding.get("fallbacks"), {"contentType": "application/json"})
        else:
            errors += expect(f"{op} fallback minLength", items.get("minLength"), 1)
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


#: Bifrost's docs: an edit's prompt is "Required unless `type` is `background_removal`".
PROMPT_UNLESS_BACKGROUND_REMOVAL = {
    "if": {"properties": {"type": {"const": "background_removal"}}, "required": ["type"]},
    "else": {"required": ["prompt"]},
}


def prompt_is_required_non_empty(spec: Spec) -> list[str]:
    errors = []
    for op in (op for op in OPERATIONS if "Variation" not in op):
        errors += expect(f"{op} prompt", prop(spec, op, "prompt").get("minLength"), 1)
        schema = body_schema(spec, op)
        conditional = "Edit" in op and {k: schema.get(k) for k in ("if", "else")} == PROMPT_UNLESS_BACKGROUND_REMOVAL
        errors += expect(f"{op} prompt required", "prompt" in schema.get("required", []) or conditional, True)
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


def stream_event(spec: Spec) -> list[str]:
    errors = []
    for kind, prefix in (("Generation", "image_generation"), ("Edit", "image_edit")):
        event = spec["components"]["schemas"][f"Image{kind}StreamEvent"]
        types = deref(spec, event["properties"]["type"]).get("enum", [])
        errors += [
            f"{kind.lower()} stream event type lacks {t}"
            for t in (f"{prefix}.partial_image", f"{prefix}.completed", "error")
            if t not in types
        ]
        for name in ("b64_json", "partial_image_index", "usage"):
            if name not in event["properties"]:
                errors.append(f"{kind.lower()} stream event lacks {name}")
        errors += expect(f"{kind.lower()} stream event required", event.get("required"), ["type"])
    return errors


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


def key_header_names(spec: Spec) -> list[str]:
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


CONVENTIONS: dict[str, Fact] = {
    "operations and routes": every_operation_is_routed,
    "n 1..10 on every operation": n_is_1_to_10_everywhere,
    "size enums (edits: fewer sizes)": sizes_everywhere,
    "response_format on every operation": response_format_everywhere,
    "user and fallbacks on every operation": user_and_fallbacks_everywhere,
    "stream on generations and edits, SSE answer": stream_on_generations_and_edits_only,
    "model non-empty, required off Azure": model_is_provider_model_and_required_off_azure,
    "prompt is a required non-empty string": prompt_is_required_non_empty,
    "multipart image or image[] with an encoding": image_or_image_array,
    "stream event": stream_event,
    "error envelope": error_envelope,
    "key header names": key_header_names,
    "Azure deployment-id and api-version": azure_deployment_and_api_version,
}
