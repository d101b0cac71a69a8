"""A fast first pass over a spec for `pixelpact generate`, with jsonschema-rs; the full validator runs when it objects.

openapi-spec-validator costs about a second per cold run (its import pulls pydantic-settings, requests and
jsonschema-path; its walk over every Schema Object is pure Python), more than the rest of the generator together.
This pass checks what generation depends on, in milliseconds: the document against the OpenAPI 3.1 schema (the one
openapi-spec-validator ships, read without importing it), every component schema against the JSON Schema 2020-12
meta-schema, unique operationIds, and a declared parameter for every `{name}` of a path. When it finds anything,
`load_spec` runs openapi-spec-validator as before, so problems are reported in its words (with their JSON pointers);
when it finds nothing, the generator's parser still checks everything it uses. What only the full validator sees
(for instance a default value its own schema refuses) is left to `pixelpact validate-spec`, which always runs it.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_TEMPLATE = re.compile(r"\{([^{}]+)\}")


def looks_valid(document: Mapping[str, Any]) -> bool:
    """True when the quick pass finds no problem (False: let the full validator say what is wrong)."""
    version = document.get("openapi")
    if not isinstance(version, str) or not version.startswith("3.1."):
        return False
    validator = _document_validator()
    if validator is None or not validator.is_valid(document):
        return False
    import jsonschema_rs

    schemas = (document.get("components") or {}).get("schemas") or {}
    if not all(jsonschema_rs.meta.is_valid(schema) for schema in schemas.values() if isinstance(schema, dict)):
        return False
    operation_ids = [operation.get("operationId") for _, _, operation in _operations(document)]
    named = [oid for oid in operation_ids if oid is not None]
    if len(named) != len(set(named)):
        return False
    return all(_path_parameters_declared(document, path, item) for path, item in (document.get("paths") or {}).items())


@functools.cache
def _document_validator() -> Any:
    """jsonschema-rs's validator for the OpenAPI 3.1 schema, or None when either is not installed."""
    if importlib.util.find_spec("jsonschema_rs") is None:
        return None
    package = importlib.util.find_spec("openapi_spec_validator")
    if package is None or not package.submodule_search_locations:
        return None
    schema_file = Path(package.submodule_search_locations[0], "resources", "schemas", "v3.1", "schema.json")
    try:
        schema = json.loads(schema_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    import jsonschema_rs

    return jsonschema_rs.validator_for(schema)


def _operations(document: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    for path, item in (document.get("paths") or {}).items():
        for method in HTTP_METHODS:
            operation = item.get(method) if isinstance(item, dict) else None
            if isinstance(operation, dict):
                yield path, method, operation


def _path_parameters_declared(document: Mapping[str, Any], path: str, item: Any) -> bool:
    wanted = set(_TEMPLATE.findall(path))
    if not wanted or not isinstance(item, dict):
        return True
    shared = _path_parameter_names(document, item.get("parameters"))
    for method in HTTP_METHODS:
        operation = item.get(method)
        if isinstance(operation, dict) and not wanted <= shared | _path_parameter_names(
            document, operation.get("parameters")
        ):
            return False
    return True


def _path_parameter_names(document: Mapping[str, Any], parameters: Any) -> set[Any]:
    names = set()
    for parameter in parameters or []:
        if isinstance(parameter, dict) and "$ref" in parameter:
            parameter = _local_ref(document, parameter["$ref"])
        if isinstance(parameter, dict) and parameter.get("in") == "path":
            names.add(parameter.get("name"))
    return names


def _local_ref(document: Mapping[str, Any], ref: Any) -> Any:
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return None
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node.get(part) if isinstance(node, dict) else None
    return node
