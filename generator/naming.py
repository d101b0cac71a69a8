"""Python names for the spec's names: operationIds, wire field names like `image[]` or `deployment-id`."""

from __future__ import annotations

import keyword
import re

# Attributes of pydantic.BaseModel a field may not shadow.
_RESERVED = frozenset({"copy", "dict", "json", "schema", "construct", "validate", "fields"})


def snake_case(name: str) -> str:
    """createImageEdit -> create_image_edit; deployment-id -> deployment_id."""
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower()


def pascal_case(name: str) -> str:
    """createImageEdit -> CreateImageEdit; deployment-id -> DeploymentId."""
    words = re.split(r"[^0-9a-zA-Z]+", name)
    return "".join(word[:1].upper() + word[1:] for word in words if word)


def python_name(wire_name: str) -> str:
    """The attribute name of a field: `image[]` -> image_list, `deployment-id` -> deployment_id, `from` -> from_."""
    base = wire_name[:-2] + "_list" if wire_name.endswith("[]") else wire_name
    name = re.sub(r"[^0-9a-zA-Z_]+", "_", base).strip("_") or "field"
    if name[0].isdigit():
        name = f"field_{name}"
    if keyword.iskeyword(name) or name in _RESERVED:
        name += "_"
    return name
