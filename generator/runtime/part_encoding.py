"""The content type of a multipart/form-data part, as OpenAPI 3.1 defines it (Encoding Object, `contentType`).

The spec's `encoding` entry wins; without one, the default follows the property's type: an object is sent as
`application/json`, a binary string as `application/octet-stream`, any other primitive as `text/plain`, and an
array's parts are typed by its items (each item one part). The generator (client and stub) and the conformance
suite read part types through this one function, so a JSON part is sent and parsed the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

JSON = "application/json"


def part_content_type(
    schema: Mapping[str, Any], encoding: Mapping[str, Any] | None, resolve: Callable[[Any], Any] = lambda node: node
) -> str:
    """The content type of the parts of a property with this (resolved) schema; `resolve` follows its items' $ref."""
    declared = (encoding or {}).get("contentType")
    if isinstance(declared, str) and declared:
        return declared
    kind = schema.get("type")
    if kind == "array":
        items = resolve(schema.get("items") or {})
        return part_content_type(items if isinstance(items, Mapping) else {}, None, resolve)
    if kind == "object" or (kind is None and "properties" in schema):
        return JSON
    if kind == "string" and schema.get("format") == "binary":
        return "application/octet-stream"
    return "text/plain"


def is_json(content_type: str) -> bool:
    """`application/json` or a `+json` type: the part's text is JSON."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == JSON or media.endswith("+json")
