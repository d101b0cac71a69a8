"""Build the IR's models: the spec's object schemas, plus those the parser synthesises for operations."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from pixelpact.generator import schemas
from pixelpact.generator.ir import Field, Model, ModelRole
from pixelpact.generator.naming import python_name


def build_model(name: str, raw: Mapping[str, Any], components: Mapping[str, Any], role: ModelRole) -> Model:
    """A model from an object schema; scalar references are inlined and the required rules are lifted into the model."""
    schema, required_rules = schemas.lift_required_rules(schemas.inline_scalars(raw, components))
    additional = schema.pop("additionalProperties", None)
    extra: Literal["ignore", "allow", "forbid"]
    if additional is False:
        extra = "forbid"
    elif role == "response":
        extra = "allow"  # gateways add fields; keep them visible in model_extra
    else:
        extra = "ignore"  # the spec: requests tolerate unknown fields (Bifrost passes them on)
    if isinstance(additional, Mapping):
        schema["additionalProperties"] = additional  # a typed map, not a policy: let dcg model it
    required = set(schema.get("required") or ())
    fields = tuple(
        build_field(wire, prop if isinstance(prop, Mapping) else {}, wire in required)
        for wire, prop in (schema.get("properties") or {}).items()
    )
    return Model(name=name, role=role, schema=schema, fields=fields, required_rules=required_rules, extra=extra)


def build_field(wire_name: str, prop: Mapping[str, Any], required: bool) -> Field:
    items = prop.get("items")
    return Field(
        wire_name=wire_name,
        python_name=python_name(wire_name),
        required=required,
        nullable=schemas.is_nullable(prop),
        is_file=schemas.is_binary(prop) or (schemas.is_array(prop) and schemas.is_binary(items)),
        is_list=schemas.is_array(prop),
    )


def component_roles(document: Mapping[str, Any], request_roots: Iterable[str]) -> dict[str, ModelRole]:
    """Role of each object component: "request" when reachable from a request body (validated strictly), else
    "response" (read leniently)."""
    components: Mapping[str, Any] = (document.get("components") or {}).get("schemas") or {}
    request: set[str] = set()
    pending = [name for name in request_roots if name in components]
    while pending:
        name = pending.pop()
        if name in request:
            continue
        request.add(name)
        pending.extend(n for n in schemas.referenced_components(components[name]) if n in components)
    return {
        name: ("request" if name in request else "response")
        for name, schema in components.items()
        if schemas.is_object(schema)
    }


def parameter_schema(parameters: Sequence[tuple[str, bool, Mapping[str, Any]]]) -> dict[str, Any]:
    """The object schema of an operation's path and query parameters, keyed by wire name."""
    properties = {wire: dict(schema) for wire, _, schema in parameters}
    required = [wire for wire, is_required, _ in parameters if is_required]
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema
