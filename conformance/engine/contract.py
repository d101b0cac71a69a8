"""The contract as the suite sees it: small typed facts per operation, read from the spec at run time.

Nothing here is hard-coded: n's range, the enums, the required fields, the file parts, which operations stream and
the response schemas all come from spec/openapi.yaml, so editing the spec changes what the suite sends and expects.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pixelpact.generator.loader import DEFAULT_SPEC, load_spec
from pixelpact.generator.runtime.fallbacks import provider_of
from pixelpact.generator.runtime.part_encoding import is_json, part_content_type
from pixelpact.generator.schemas import lift_required_rules

Schema = Mapping[str, Any]
MediaType = Literal["application/json", "multipart/form-data"]

JSON = "application/json"
MULTIPART = "multipart/form-data"
EVENT_STREAM = "text/event-stream"


@dataclass(frozen=True)
class Parameter:
    """A path or query parameter of an operation."""

    name: str
    location: str
    required: bool
    schema: Schema
    example: Any = None


@dataclass(frozen=True)
class RequiredUnless:
    """`required` fields a body needs unless it has each of `unless`'s fields with that value."""

    required: frozenset[str]
    unless: Mapping[str, Any]

    def waived_by(self, body: Mapping[str, Any]) -> bool:
        return all(name in body and body[name] == value for name, value in self.unless.items())

    def describe(self) -> str:
        """E.g. "type=background_removal"."""
        return ", ".join(f"{name}={value}" for name, value in self.unless.items())


@dataclass(frozen=True)
class OperationContract:
    """What the spec promises about one operation, in the terms the requirement groups need."""

    operation_id: str
    method: str
    path: str
    """The spec's path template, e.g. "/openai/openai/deployments/{deployment-id}/images/edits"."""
    kind: str
    """The last path segment: "generations", "edits" or "variations"."""
    family: str
    """The first tag: "native", "openai" or "azure"."""
    media_type: str
    """The request body's media type (application/json or multipart/form-data)."""
    properties: Mapping[str, Schema]
    """Body properties by wire name, each schema with its $refs resolved (one level deep, siblings merged)."""
    required: frozenset[str]
    """Body properties every request must carry."""
    one_of_required: tuple[frozenset[str], ...]
    """`anyOf` alternatives of required sets, e.g. ({"image"}, {"image[]"}): a body needs one of them."""
    required_unless: tuple[RequiredUnless, ...]
    """Fields required unless others have a value (an `if`/`else`): prompt unless type is background_removal."""
    file_fields: frozenset[str]
    """Properties that are one binary file (format: binary)."""
    file_list_fields: frozenset[str]
    """Properties that are an array of binary files, sent as repeated parts (e.g. "image[]")."""
    parameters: tuple[Parameter, ...]
    streams: bool
    """The 200 response offers text/event-stream: `stream: true` is answered with server-sent events."""
    response_schema: Schema
    """A self-contained JSON Schema (components embedded) of the JSON 200 body."""
    error_schema: Schema | None
    """A self-contained JSON Schema of the 400 body, when the spec documents one."""
    stream_event_schema: Schema | None
    """A self-contained JSON Schema of one `data:` line of the stream, when the operation streams."""
    stream_event_types: tuple[str, ...] = ()
    """The allowed values of an event's `type` (empty when the operation does not stream)."""
    security_headers: tuple[str, ...] = field(default=())
    """Header names of the apiKey security schemes this operation accepts (e.g. x-bf-vk, api-key)."""
    extra_fields_allowed: bool = True
    """The request schema does not say additionalProperties: false (unknown fields and parts are tolerated)."""
    auth_schemes: tuple[str, ...] = field(default=())
    """How this operation accepts a key, in --auth terms: "bearer", "basic" and the apiKey header names."""
    json_parts: frozenset[str] = frozenset()
    """Multipart parts whose text is JSON (OpenAPI 3.1's part content type: the spec's encoding, else an object's
    default), e.g. "fallbacks" where its items are {provider, model} objects."""
    object_fallbacks: bool = False
    """`fallbacks` items are {provider, model} objects here (the native routes), not provider/model strings."""

    def fallback(self, model: str) -> str | dict[str, str]:
        """The `fallbacks` entry naming `model` (provider/model) in the form this operation takes."""
        return fallback_entry(model, as_object=self.object_fallbacks)

    def required_in(self, body: Mapping[str, Any]) -> frozenset[str]:
        """The fields `body` must carry given what else it holds: `required` and each `required_unless` whose
        condition the body does not meet."""
        needed = set(self.required)
        for rule in self.required_unless:
            if not rule.waived_by(body):
                needed |= rule.required
        return frozenset(needed)

    def accepts_auth(self, scheme: str) -> bool:
        """Whether the spec lets a client send its key this way here (no security listed: anything goes)."""
        return not self.auth_schemes or scheme in self.auth_schemes

    @property
    def is_multipart(self) -> bool:
        return self.media_type == MULTIPART

    @property
    def files(self) -> frozenset[str]:
        """Every property that carries files, single or repeated."""
        return self.file_fields | self.file_list_fields

    def enum(self, name: str) -> tuple[Any, ...] | None:
        """The allowed values of a body property, or None when it is not an enum."""
        schema = self.properties.get(name)
        values = schema.get("enum") if schema is not None else None
        return tuple(values) if values is not None else None

    def enum_properties(self) -> dict[str, tuple[Any, ...]]:
        """Every body property constrained by an enum, with its values."""
        return {name: values for name in self.properties if (values := self.enum(name)) is not None}

    def integer_range(self, name: str) -> tuple[int | None, int | None] | None:
        """(minimum, maximum) of an integer body property, or None when it is not an integer."""
        schema = self.properties.get(name)
        if schema is None or schema.get("type") != "integer":
            return None
        return schema.get("minimum"), schema.get("maximum")

    def default(self, name: str) -> Any:
        schema = self.properties.get(name)
        return schema.get("default") if schema is not None else None

    def example(self, name: str) -> Any:
        """The first example (or `example`) the spec gives for a body property, or None."""
        schema = self.properties.get(name) or {}
        examples = schema.get("examples")
        if examples:
            return examples[0]
        return schema.get("example")


@dataclass(frozen=True)
class Contract:
    """Every operation of a spec, in document order."""

    path: Path
    operations: tuple[OperationContract, ...]

    def operation(self, operation_id: str) -> OperationContract:
        for operation in self.operations:
            if operation.operation_id == operation_id:
                return operation
        raise KeyError(operation_id)

    @property
    def operation_ids(self) -> tuple[str, ...]:
        return tuple(operation.operation_id for operation in self.operations)


def load_contract(path: Path = DEFAULT_SPEC) -> Contract:
    """Load and validate the spec at `path` (raises pixelpact.generator.loader.SpecError) and extract its operations.

    Cached by content: validating an OpenAPI document takes about a second, and tests, the pytest plugin and the
    broken-gateway catalogue run the suite many times in one process. An edited file is a new key.
    """
    try:
        content = path.read_bytes()
    except OSError:
        return contract_from_document(load_spec(path), path)  # load_spec words the error
    return _load_cached(path, hashlib.sha256(content).hexdigest())


@lru_cache(maxsize=16)
def _load_cached(path: Path, digest: str) -> Contract:
    return contract_from_document(load_spec(path), path)


def contract_from_document(document: Mapping[str, Any], path: Path = DEFAULT_SPEC) -> Contract:
    return Contract(path=path, operations=tuple(_operations(document)))


def _operations(document: Mapping[str, Any]) -> Iterator[OperationContract]:
    components = document.get("components") or {}
    schemes = components.get("securitySchemes") or {}
    for path, item in (document.get("paths") or {}).items():
        shared_parameters = item.get("parameters") or []
        for method, operation in item.items():
            if method not in {"get", "put", "post", "delete", "patch"}:
                continue
            yield _operation(document, path, method, operation, shared_parameters, schemes)


def fallback_entry(model: str, *, as_object: bool) -> str | dict[str, str]:
    """`model` (provider/model; a bare name is an OpenAI one) as a fallback: the string, or {provider, model}."""
    if not as_object:
        return model
    return {"provider": provider_of(model), "model": model.partition("/")[2] or model}


def _operation(
    document: Mapping[str, Any],
    path: str,
    method: str,
    operation: Mapping[str, Any],
    shared_parameters: list[Any],
    schemes: Mapping[str, Any],
) -> OperationContract:
    content = _resolve(document, operation.get("requestBody") or {}).get("content") or {}
    media_type = next(iter(content), JSON)
    body_schema = _resolve(document, (content.get(media_type) or {}).get("schema") or {})
    properties = {name: _resolve(document, schema) for name, schema in (body_schema.get("properties") or {}).items()}
    file_fields = frozenset(name for name, schema in properties.items() if _is_binary(schema))
    file_list_fields = frozenset(
        name
        for name, schema in properties.items()
        if schema.get("type") == "array" and _is_binary(_resolve(document, schema.get("items") or {}))
    )
    encoding = (content.get(media_type) or {}).get("encoding") or {}
    json_parts = frozenset(
        name
        for name, schema in properties.items()
        if media_type == MULTIPART
        and name not in file_fields | file_list_fields
        and is_json(part_content_type(schema, encoding.get(name), lambda node: _resolve(document, node)))
    )
    fallback_items = _resolve(document, (properties.get("fallbacks") or {}).get("items") or {})
    # the generator's reading of anyOf-required and if/else, so that the suite and the stub agree on them
    rules = lift_required_rules(body_schema)[1]
    one_of_required = tuple(
        frozenset(alternative.required) for rule in rules if not rule.conditions for alternative in rule.alternatives
    )
    required_unless = tuple(
        RequiredUnless(frozenset(needed.required), dict(condition.equals))
        for rule in rules
        for needed in rule.unconditional
        for condition in rule.conditions
    )
    responses = operation.get("responses") or {}
    ok = _resolve(document, responses.get("200") or {}).get("content") or {}
    bad = _resolve(document, responses.get("400") or {}).get("content") or {}
    stream_ref = (ok.get(EVENT_STREAM) or {}).get("schema")
    stream_schema = _resolve(document, stream_ref) if stream_ref else None
    event_types: tuple[str, ...] = ()
    if stream_schema is not None:
        type_schema = _resolve(document, (stream_schema.get("properties") or {}).get("type") or {})
        event_types = tuple(type_schema.get("enum") or ())
    parameters = tuple(_parameter(document, raw) for raw in [*shared_parameters, *(operation.get("parameters") or [])])
    security = operation.get("security", document.get("security")) or []
    headers = tuple(
        dict.fromkeys(
            schemes[name]["name"]
            for requirement in security
            for name in requirement
            if (schemes.get(name) or {}).get("type") == "apiKey" and schemes[name].get("in") == "header"
        )
    )
    http_schemes = tuple(
        dict.fromkeys(
            str(schemes[name].get("scheme", "")).lower()
            for requirement in security
            for name in requirement
            if (schemes.get(name) or {}).get("type") == "http"
        )
    )
    tags = operation.get("tags") or ["default"]
    return OperationContract(
        operation_id=operation.get("operationId") or f"{method} {path}",
        method=method.upper(),
        path=path,
        kind=path.rstrip("/").rsplit("/", 1)[-1],
        family=tags[0],
        media_type=media_type,
        properties=properties,
        required=frozenset(body_schema.get("required") or ()),
        one_of_required=one_of_required,
        required_unless=required_unless,
        file_fields=file_fields,
        file_list_fields=file_list_fields,
        parameters=parameters,
        streams=EVENT_STREAM in ok,
        response_schema=_standalone(document, (ok.get(JSON) or {}).get("schema") or {}),
        error_schema=_standalone(document, bad[JSON]["schema"]) if JSON in bad else None,
        stream_event_schema=_standalone(document, stream_ref) if stream_ref else None,
        stream_event_types=event_types,
        security_headers=headers,
        auth_schemes=http_schemes + headers,
        extra_fields_allowed=body_schema.get("additionalProperties", True) is not False,
        json_parts=json_parts,
        object_fallbacks=fallback_items.get("type") == "object",
    )


def _parameter(document: Mapping[str, Any], raw: Mapping[str, Any]) -> Parameter:
    resolved = _resolve(document, raw)
    return Parameter(
        name=resolved["name"],
        location=resolved.get("in", "query"),
        required=bool(resolved.get("required", False)),
        schema=_resolve(document, resolved.get("schema") or {}),
        example=resolved.get("example"),
    )


def _is_binary(schema: Mapping[str, Any]) -> bool:
    return schema.get("type") == "string" and schema.get("format") == "binary"


def _resolve(document: Mapping[str, Any], node: Mapping[str, Any]) -> dict[str, Any]:
    """Follow local $refs, merging the referring node's sibling keywords over the target (OpenAPI 3.1 allows them)."""
    seen: set[str] = set()
    merged: dict[str, Any] = {}
    while "$ref" in node:
        ref = node["$ref"]
        if ref in seen or not ref.startswith("#/"):
            break
        seen.add(ref)
        merged = {**{k: v for k, v in node.items() if k != "$ref"}, **merged}
        node = _pointer(document, ref)
    return {**node, **merged}


def _pointer(document: Mapping[str, Any], ref: str) -> Mapping[str, Any]:
    target: Any = document
    for part in ref[2:].split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    return target  # type: ignore[no-any-return]


def _standalone(document: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON Schema that validates on its own: the spec's components ride along so local $refs resolve."""
    return {**schema, "components": document.get("components") or {}}
