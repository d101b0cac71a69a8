"""The models module's body, from the IR's models, by datamodel-code-generator used as a library."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from pixelpact.generator.ir import Api, Model
from pixelpact.generator.schemas import RequiredRule

TEMPLATES = Path(__file__).resolve().parent / "templates" / "dcg"

#: Imports the pixelpact parts of the model template may need; ruff's autofix drops the unused ones.
EXTRA_IMPORTS = (
    "from typing import Any, Self\n\n"
    "from pydantic import ConfigDict, ValidationError, field_validator, model_validator\n"
    "from pydantic_core import InitErrorDetails, PydanticCustomError\n"
)


def model_source(api: Api) -> str:
    """The Python source of every model of `api` (imports included, not yet formatted)."""
    # Imported here: datamodel-code-generator is the slowest import of the generator and only this step needs it.
    from datamodel_code_generator import InputFileType, LiteralType, PythonVersion, generate
    from datamodel_code_generator.enums import DataModelType

    document = {
        "openapi": "3.1.0",
        "info": {"title": api.title, "version": "0"},
        "paths": {},
        "components": {"schemas": {model.name: model.schema for model in api.models}},
    }
    aliases = {f.wire_name: f.python_name for m in api.models for f in m.fields if f.wire_name != f.python_name}
    code = generate(
        json.dumps(document),
        input_file_type=InputFileType.OpenAPI,
        output_model_type=DataModelType.PydanticV2BaseModel,
        target_python_version=PythonVersion.PY_311,
        custom_template_dir=TEMPLATES,
        extra_template_data=defaultdict(dict, {model.name: _template_data(model) for model in api.models}),
        aliases=dict(sorted(aliases.items())),
        # strict_nullable: null only where the schema lists it; field_constraints + use_annotated: Field(ge=1, le=10)
        strict_nullable=True,
        field_constraints=True,
        use_annotated=True,
        enum_field_as_literal=LiteralType.All,
        collapse_root_models=True,
        use_type_alias=True,
        use_union_operator=True,
        use_standard_collections=True,
        use_schema_description=True,
        use_title_as_name=True,
        use_field_description=True,
        disable_timestamp=True,
        formatters=[],
    )
    if not isinstance(code, str):  # one input document without module paths always gives one module
        raise TypeError(f"datamodel-code-generator returned {type(code).__name__}, expected one module")
    return _strip_header(code)


def _template_data(model: Model) -> dict[str, Any]:
    return {
        "pp_extra": model.extra,
        "pp_not_null": list(model.not_null),
        "pp_required_rules": [_rule_data(model, rule) for rule in model.required_rules],
    }


def _rule_data(model: Model, rule: RequiredRule) -> dict[str, Any]:
    """A required rule as the model template checks it: per alternative, the Python condition that it is unmet; the
    message; and the field the error names (the first one asked for, by wire name as for a missing field)."""
    unmet = []
    for alternative in rule.alternatives:
        names = [name for name, _ in alternative.equals]
        values = [value for _, value in alternative.equals]
        missing = [f"self.{name} is None" for name in model.python_names(alternative.required)]
        other = [
            f"self.{name} != {value!r}" for name, value in zip(model.python_names(tuple(names)), values, strict=True)
        ]
        clauses = missing + other
        unmet.append(clauses[0] if len(clauses) == 1 else "(" + " or ".join(clauses) + ")")
    fields = [name for alternative in rule.alternatives for name in alternative.required]
    # as Python literals: a value or a field name may hold any character
    return {"unmet": unmet, "message": repr(rule.message()), "loc": repr(fields[0] if fields else "")}


def _strip_header(code: str) -> str:
    """Drop dcg's comment banner and its `from __future__` line: the models template writes its own."""
    lines = code.splitlines()
    while lines and (lines[0].startswith("#") or not lines[0].strip()):
        lines.pop(0)
    body = "\n".join(line for line in lines if line != "from __future__ import annotations")
    return EXTRA_IMPORTS + body.strip() + "\n"
