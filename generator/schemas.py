"""JSON-schema plumbing for the parser: following $refs, inlining scalar schemas, lifting "one of these is required"."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

SCHEMA_PREFIX = "#/components/schemas/"


def resolve(document: Mapping[str, Any], node: Any) -> Any:
    """Follow `$ref`s (local ones only; the loader has validated them) until a non-reference node."""
    seen: set[str] = set()
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if ref in seen or not ref.startswith("#/"):
            break
        seen.add(ref)
        target: Any = document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part) if isinstance(target, Mapping) else None
        if target is None:
            break
        node = target
    return node


def ref_name(node: Any) -> str | None:
    """The component name of a `#/components/schemas/...` reference, else None."""
    ref = node.get("$ref") if isinstance(node, Mapping) else None
    if isinstance(ref, str) and ref.startswith(SCHEMA_PREFIX):
        return ref[len(SCHEMA_PREFIX) :]
    return None


def is_object(schema: Any) -> bool:
    """An object schema becomes a model class; anything else (strings, enums, arrays) is inlined where used."""
    if not isinstance(schema, Mapping):
        return False
    kind = schema.get("type")
    return kind == "object" or (kind is None and "properties" in schema)


def inline_scalars(node: Any, components: Mapping[str, Any], depth: int = 0) -> Any:
    """Copy of `node` with references to non-object component schemas replaced by their content.

    Sibling keywords of the reference win (OpenAPI 3.1 lets a property override the description). Inlining is why
    `n: {$ref: ImageCount}` with a default comes out as `n: int = 1` rather than a nullable alias.
    """
    if isinstance(node, list):
        return [inline_scalars(item, components, depth) for item in node]
    if not isinstance(node, Mapping):
        return node
    name = ref_name(node)
    if name is not None and name in components and not is_object(components[name]) and depth < 32:
        target = inline_scalars(copy.deepcopy(components[name]), components, depth + 1)
        siblings = {key: inline_scalars(value, components, depth) for key, value in node.items() if key != "$ref"}
        return {**target, **siblings}
    return {key: inline_scalars(value, components, depth) for key, value in node.items()}


def lift_any_of_required(schema: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[tuple[str, ...], ...]]:
    """Split `anyOf: [{required: [a]}, {required: [b]}]` off an object schema.

    datamodel-code-generator turns such a schema into a union of near-identical models; we keep one model and emit
    the rule as a validator instead.
    """
    alternatives = schema.get("anyOf")
    if not isinstance(alternatives, list) or not alternatives:
        return dict(schema), ()
    if not all(isinstance(alt, Mapping) and set(alt) == {"required"} for alt in alternatives):
        return dict(schema), ()
    rest = {key: value for key, value in schema.items() if key != "anyOf"}
    return rest, tuple(tuple(alt["required"]) for alt in alternatives)


def referenced_components(node: Any) -> Iterator[str]:
    """Names of the component schemas `node` references, directly or in nested schemas (not transitively)."""
    if isinstance(node, Mapping):
        name = ref_name(node)
        if name is not None:
            yield name
        for value in node.values():
            yield from referenced_components(value)
    elif isinstance(node, list):
        for item in node:
            yield from referenced_components(item)


def is_nullable(schema: Mapping[str, Any]) -> bool:
    """The schema admits null: `type: [x, "null"]`, `const: null`, or a null alternative in anyOf/oneOf."""
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    if "const" in schema and schema["const"] is None:
        return True
    if isinstance(schema.get("enum"), list) and None in schema["enum"]:
        return True
    return any(
        isinstance(alt, Mapping) and is_nullable(alt) for key in ("anyOf", "oneOf") for alt in schema.get(key) or ()
    )


def is_binary(schema: Any) -> bool:
    return isinstance(schema, Mapping) and schema.get("type") == "string" and schema.get("format") == "binary"


def is_array(schema: Mapping[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "array" or (isinstance(kind, list) and "array" in kind)
