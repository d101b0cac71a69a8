"""Bifrost's own OpenAPI files for the image routes (tests/spec/bifrost_openapi/, docs/openapi of maximhq/bifrost at
5978108db0fd, Apache-2.0, copied from ../shared/bifrost/openapi) as one document `pixelpact diff`'s facts can read.

Bifrost's files are modular (relative $refs across files) and name their operations their own way; `bundle()` keeps
the image routes only, inlines every $ref, and names each operation as spec/openapi.yaml does, so that the facts
of both documents line up operation by operation and field by field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent / "bifrost_openapi"
#: Bifrost's image routes and the operation id spec/openapi.yaml gives each.
ROUTES = {
    "/v1/images/generations": "createImage",
    "/v1/images/edits": "createImageEdit",
    "/v1/images/variations": "createImageVariation",
    "/openai/v1/images/generations": "openaiCreateImage",
    "/openai/openai/deployments/{deployment-id}/images/generations": "azureCreateImage",
}


def _load(path: Path, cache: dict[Path, Any]) -> Any:
    if path not in cache:
        cache[path] = yaml.safe_load(path.read_text())
    return cache[path]


def _resolve(node: Any, here: Path, cache: dict[Path, Any]) -> Any:
    """`node` with every $ref (`file#/a/b` relative to `here`, or `#/a/b`) replaced by what it points at."""
    if isinstance(node, list):
        return [_resolve(item, here, cache) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target, _, pointer = str(node["$ref"]).partition("#")
        path = (here.parent / target).resolve() if target else here
        found = _load(path, cache)
        for part in filter(None, pointer.split("/")):
            found = found[part]
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        return _resolve({**found, **siblings} if siblings else found, path, cache)
    resolved = {key: _resolve(value, here, cache) for key, value in node.items()}
    if list(resolved) == ["allOf"] and len(resolved["allOf"]) == 1:
        # Bifrost wraps its generation request in a one-member allOf: the same schema, said another way
        only: dict[str, Any] = resolved["allOf"][0]
        return only
    return resolved


def bundle(root: Path = ROOT) -> dict[str, Any]:
    """Bifrost's documented image routes, $refs inlined, operations named as in spec/openapi.yaml."""
    cache: dict[Path, Any] = {}
    top_path = (root / "openapi.yaml").resolve()
    top = _load(top_path, cache)
    paths: dict[str, Any] = {}
    for route, operation_id in ROUTES.items():
        item = _resolve(top["paths"][route], top_path, cache)
        item["post"]["operationId"] = operation_id
        paths[route] = item
    return {"openapi": "3.1.0", "info": {"title": "Bifrost (image routes)", "version": "1"}, "paths": paths}
