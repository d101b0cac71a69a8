"""JSON-schema plumbing for the parser: following $refs, inlining scalar schemas, lifting "one of these is required"
and "this is required unless that has this value" into rules."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Alternative:
    """One way to meet a required rule: these fields present, and these fields equal to these values."""

    required: tuple[str, ...]
    equals: tuple[tuple[str, Any], ...] = ()

    def holds(self, body: Mapping[str, Any]) -> bool:
        """Whether `body` (wire names to values) meets this alternative."""
        return all(name in body for name in self.required) and all(
            name in body and body[name] == value for name, value in self.equals
        )


@dataclass(frozen=True)
class RequiredRule:
    """Fields a body needs beyond `required`: at least one of the alternatives holds.

    `anyOf: [{required: [a]}, {required: [b]}]` is the rule "a or b"; `if: {properties: {t: {const: v}},
    required: [t]}, else: {required: [p]}` is the rule "p unless t is v" (the `if` holds, or the `else` does).
    """

    alternatives: tuple[Alternative, ...]

    @property
    def unconditional(self) -> tuple[Alternative, ...]:
        """The alternatives that only ask for fields (image, image[], prompt), not for a value."""
        return tuple(alt for alt in self.alternatives if not alt.equals)

    @property
    def conditions(self) -> tuple[Alternative, ...]:
        """The alternatives that ask for a value (type is background_removal): when one holds, the rest need not."""
        return tuple(alt for alt in self.alternatives if alt.equals)

    def message(self) -> str:
        """The rule in words, naming the fields at fault first: "prompt is required unless type is ..."."""
        needed = " or ".join(" and ".join(alt.required) for alt in self.unconditional)
        unless = " or ".join(
            " and ".join(f"{name} is {value}" for name, value in alt.equals) for alt in self.conditions
        )
        return f"{needed} is required" + (f" unless {unless}" if unless else "")


def lift_required_rules(schema: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[RequiredRule, ...]]:
    """Split the rules of "one of these is required" off an object schema: a top-level `anyOf` of `required` sets,
    and an `if` of `const` values with an `else` of `required` (no `then`).

    datamodel-code-generator turns an anyOf-required schema into a union of near-identical models and drops an
    `if`/`else` without a trace; we keep one model and emit the rules as a validator instead. Other forms stay in
    the schema as they are.
    """
    rest = dict(schema)
    rules: list[RequiredRule] = []
    alternatives = schema.get("anyOf")
    if (
        isinstance(alternatives, list)
        and alternatives
        and all(isinstance(alt, Mapping) and set(alt) == {"required"} for alt in alternatives)
    ):
        del rest["anyOf"]
        rules.append(RequiredRule(tuple(Alternative(tuple(alt["required"])) for alt in alternatives)))
    condition = _condition(schema.get("if"))
    otherwise = schema.get("else")
    if (
        condition is not None
        and "then" not in schema
        and isinstance(otherwise, Mapping)
        and set(otherwise) == {"required"}
    ):
        del rest["if"], rest["else"]
        rules.append(RequiredRule((Alternative(tuple(otherwise["required"])), condition)))
    return rest, tuple(rules)


def _condition(node: Any) -> Alternative | None:
    """`{properties: {t: {const: v}}, required: [t]}` as the alternative "t is v", else None."""
    if not isinstance(node, Mapping) or set(node) != {"properties", "required"}:
        return None
    properties = node["properties"]
    if not isinstance(properties, Mapping) or not all(
        isinstance(sub, Mapping) and set(sub) == {"const"} for sub in properties.values()
    ):
        return None
    if set(node["required"]) != set(properties):
        return None  # a const without required also holds when the field is absent: not "t is v"
    return Alternative((), tuple((name, sub["const"]) for name, sub in properties.items()))


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
