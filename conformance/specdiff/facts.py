"""A spec flattened into typed facts, one map per operation: what the contract says, nothing about how it is written.

A fact is a (key, value) pair: the key locates it in the operation's terms, e.g.
`("request", "multipart/form-data", "schema", "properties", "n", "maximum")` -> 10, and its value is normalised
(types as sets, enums as tuples, required-ness per property), so two documents that say the same thing in different
words (a $ref or an inline schema, a different property order) have the same facts. $refs are resolved; each fact
keeps its `origin`, the component schema it was written in and where inside it, so one edit of a shared schema
(ImageCount, ImageSize) can be reported once with every operation it reaches.

Descriptions, summaries, examples and tags are not facts: they change no request or answer.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pixelpact.generator.schemas import lift_required_rules

Key = tuple[str, ...]
EXISTS = "@exists"
REQUIRED = "@required"
ANY_OF_REQUIRED = "@anyOf-required"
REQUIRED_UNLESS = "@required-unless"
SECURITY = "@alternatives"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
#: Schema keywords compared as values (the rest of a schema is structure: properties, items, anyOf ...).
KEYWORDS = (
    "type",
    "enum",
    "const",
    "format",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "default",
    "additionalProperties",
    "contentEncoding",
    "contentMediaType",
    "deprecated",
)


@dataclass(frozen=True)
class Origin:
    """Where a fact is written: a component schema and the path inside it (empty: the schema itself)."""

    schema: str
    path: Key = ()


@dataclass(frozen=True)
class Fact:
    value: Any
    origin: Origin | None = None


@dataclass(frozen=True)
class Operation:
    """One operation's facts."""

    operation_id: str
    facts: Mapping[Key, Fact]


def operations(document: Mapping[str, Any]) -> dict[str, Operation]:
    """Every operation of a (valid) document by operationId, in document order."""
    found: dict[str, Operation] = {}
    for path, item in (document.get("paths") or {}).items():
        for method in HTTP_METHODS:
            if isinstance(item, Mapping) and isinstance(item.get(method), Mapping):
                operation_id = item[method].get("operationId") or f"{method.upper()} {path}"
                facts = dict(_Flattener(document).operation(path, method, item))
                found[operation_id] = Operation(operation_id, facts)
    return found


class _Flattener:
    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.schemes: Mapping[str, Any] = (document.get("components") or {}).get("securitySchemes") or {}

    def operation(self, path: str, method: str, item: Mapping[str, Any]) -> Iterator[tuple[Key, Fact]]:
        raw = item[method]
        yield ("route",), Fact(f"{method.upper()} {path}")
        yield from self._parameters([*(item.get("parameters") or []), *(raw.get("parameters") or [])])
        yield from self._request_body(raw.get("requestBody"))
        for status, response in (raw.get("responses") or {}).items():
            yield from self._response(str(status), self._deref(response))
        yield from self._security(raw.get("security", self.document.get("security")))

    # --- parts of an operation ------------------------------------------------------------------------------
    def _parameters(self, raw: list[Any]) -> Iterator[tuple[Key, Fact]]:
        for parameter in (self._deref(p) for p in raw):
            key: Key = ("parameter", str(parameter.get("name")))
            yield (*key, EXISTS), Fact(True)
            yield (*key, "in"), Fact(parameter.get("in"))
            yield (*key, REQUIRED), Fact(bool(parameter.get("required", False)))
            yield from self._schema((*key, "schema"), parameter.get("schema") or {}, None, frozenset())

    def _request_body(self, raw: Any) -> Iterator[tuple[Key, Fact]]:
        if raw is None:
            return
        body = self._deref(raw)
        yield ("request", REQUIRED), Fact(bool(body.get("required", False)))
        for media_type, content in (body.get("content") or {}).items():
            key: Key = ("request", str(media_type))
            yield (*key, EXISTS), Fact(True)
            for part, encoding in (content.get("encoding") or {}).items():
                if "contentType" in encoding:
                    yield (*key, "encoding", str(part), "contentType"), Fact(encoding["contentType"])
            yield from self._schema((*key, "schema"), content.get("schema") or {}, None, frozenset())

    def _response(self, status: str, response: Mapping[str, Any]) -> Iterator[tuple[Key, Fact]]:
        key: Key = ("response", status)
        yield (*key, EXISTS), Fact(True)
        for media_type, content in (response.get("content") or {}).items():
            yield (*key, str(media_type), EXISTS), Fact(True)
            yield from self._schema((*key, str(media_type), "schema"), content.get("schema") or {}, None, frozenset())

    def _security(self, security: Any) -> Iterator[tuple[Key, Fact]]:
        alternatives = frozenset(frozenset(str(name) for name in requirement) for requirement in security or [])
        yield ("security", SECURITY), Fact(alternatives)
        for name in sorted({name for alternative in alternatives for name in alternative}):
            scheme = self.schemes.get(name) or {}
            yield ("security", name, EXISTS), Fact(True)  # its coming and going is the alternatives' change
            for field in ("type", "scheme", "in", "name"):
                if field in scheme:
                    value = str(scheme[field]).lower() if field == "scheme" else scheme[field]
                    yield ("security", name, field), Fact(value, Origin(f"securitySchemes.{name}"))

    # --- schemas -------------------------------------------------------------------------------------------
    def _schema(
        self, key: Key, node: Any, origin: Origin | None, visiting: frozenset[str]
    ) -> Iterator[tuple[Key, Fact]]:
        if not isinstance(node, Mapping):
            return
        own_origin = origin  # keywords beside a $ref are written where the reference is
        if "$ref" in node:
            ref = str(node["$ref"])
            if ref in visiting:
                yield (*key, "$recursive"), Fact(ref, origin)
                return
            visiting = visiting | {ref}
            target = self._deref({"$ref": ref})
            name = ref.rsplit("/", 1)[-1] if ref.startswith("#/components/schemas/") else None
            target_origin = Origin(name) if name else origin
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            yield from self._schema_node(
                key, {**target, **siblings}, target_origin, own_origin, set(siblings), visiting
            )
            return
        yield from self._schema_node(key, node, origin, origin, set(), visiting)

    def _schema_node(
        self,
        key: Key,
        node: Mapping[str, Any],
        origin: Origin | None,
        sibling_origin: Origin | None,
        siblings: set[str],
        visiting: frozenset[str],
    ) -> Iterator[tuple[Key, Fact]]:
        def at(keyword: str) -> Origin | None:
            return sibling_origin if keyword in siblings else origin

        for keyword in KEYWORDS:
            if keyword in node:
                value = _normalise(keyword, node[keyword], node)
                if value is not None:
                    yield (*key, keyword), Fact(value, at(keyword))
        required = set(node.get("required") or ())
        for name, child in (node.get("properties") or {}).items():
            child_key = (*key, "properties", str(name))
            child_origin = _inside(at("properties"), "properties", str(name))
            yield (*child_key, EXISTS), Fact(True, child_origin)
            yield (*child_key, REQUIRED), Fact(name in required, child_origin)
            yield from self._schema(child_key, child, child_origin, visiting)
        for structural in ("items", "additionalProperties"):  # an array's items, a typed map's values
            if isinstance(node.get(structural), Mapping):
                inner = _inside(at(structural), structural)
                yield from self._schema((*key, structural), node[structural], inner, visiting)
        for combinator in ("anyOf", "oneOf", "allOf"):
            branches = node.get(combinator) or []
            if branches and all(set(branch) == {"required"} for branch in branches):
                # `anyOf: [{required: [image]}, {required: [image[]]}]`: alternatives of required sets
                alternatives = frozenset(frozenset(branch["required"]) for branch in branches)
                yield (*key, ANY_OF_REQUIRED), Fact(alternatives, at(combinator))
                continue
            for index, branch in enumerate(branches):
                branch_key = (*key, combinator, str(index))
                yield from self._schema(branch_key, branch, _inside(at(combinator), combinator, str(index)), visiting)
        # `if: {properties: {type: {const: background_removal}}, required: [type]}, else: {required: [prompt]}`, read
        # as the generator and the suite read it: "prompt is required unless type is background_removal"
        conditional = frozenset(rule.message() for rule in lift_required_rules(node)[1] if rule.conditions)
        if conditional:
            yield (*key, REQUIRED_UNLESS), Fact(conditional, at("else"))

    def _deref(self, node: Any) -> dict[str, Any]:
        seen: set[str] = set()
        while isinstance(node, Mapping) and "$ref" in node and node["$ref"] not in seen:
            seen.add(node["$ref"])
            target: Any = self.document
            for part in str(node["$ref"]).removeprefix("#/").split("/"):
                target = target.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(target, Mapping) else None
            node = target
        return dict(node) if isinstance(node, Mapping) else {}


def _inside(origin: Origin | None, *path: str) -> Origin | None:
    return Origin(origin.schema, (*origin.path, *path)) if origin is not None else None


def _normalise(keyword: str, value: Any, node: Mapping[str, Any]) -> Any:
    if keyword == "type":
        types = {value} if isinstance(value, str) else set(value or ())
        if node.get("nullable") is True:
            types.add("null")
        return frozenset(types)
    if keyword == "enum":
        return tuple(value or ())
    if keyword == "additionalProperties":
        return False if value is False else None  # only "no unknown fields" changes what is valid
    return value
