"""The intermediate model: what the templates loop over. Built from the spec by `parser`, never re-reading the spec."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pixelpact.generator.runtime.operation import OperationKind
from pixelpact.generator.schemas import RequiredRule

ModelRole = Literal["request", "params", "response", "component"]
SchemeKind = Literal["bearer", "basic", "header"]


@dataclass(frozen=True)
class Field:
    """One property of a model."""

    wire_name: str
    """The name on the wire: a JSON key, a multipart part name (`image[]`) or a parameter name (`deployment-id`)."""
    python_name: str
    required: bool
    nullable: bool
    is_file: bool
    """Binary (`format: binary`), or an array of binaries: a file part in multipart."""
    is_list: bool
    content_type: str | None = None
    """The multipart encoding's content type of a file part, e.g. image/png."""


@dataclass(frozen=True)
class Model:
    """A pydantic model to emit: a component schema, or one synthesised for an operation (parameters, inline body)."""

    name: str
    role: ModelRole
    schema: dict[str, Any] = field(compare=False, repr=False)
    """The JSON schema handed to datamodel-code-generator (scalar $refs inlined, required rules lifted out)."""
    fields: tuple[Field, ...]
    required_rules: tuple[RequiredRule, ...] = ()
    """What a body needs beyond the required fields: `image` or `image[]`; `prompt` unless `type` is
    `background_removal`."""
    extra: Literal["ignore", "allow", "forbid"] = "ignore"

    @property
    def not_null(self) -> tuple[str, ...]:
        """Python names of the optional fields a request may omit but not send as null."""
        if self.role not in ("request", "params"):
            return ()
        return tuple(f.python_name for f in self.fields if not f.required and not f.nullable)

    def python_names(self, wire_names: tuple[str, ...]) -> tuple[str, ...]:
        """The attribute names of the fields with these wire names."""
        by_wire = {f.wire_name: f.python_name for f in self.fields}
        return tuple(by_wire[name] for name in wire_names)


@dataclass(frozen=True)
class Parameter:
    """A path or query parameter."""

    wire_name: str
    python_name: str
    location: Literal["path", "query"]
    required: bool
    type_hint: str
    """The Python type of the client's argument, e.g. `str` or `Literal['a', 'b']`."""


@dataclass(frozen=True)
class Body:
    """An operation's request body."""

    model: str
    media_type: Literal["application/json", "multipart/form-data"]
    file_fields: tuple[Field, ...]
    list_fields: tuple[str, ...]
    """Wire names of array fields: repeated parts in multipart."""
    json_parts: tuple[str, ...] = ()
    """Wire names of the multipart parts whose text is JSON (an object, or an array of objects: one part per item)."""

    @property
    def is_multipart(self) -> bool:
        return self.media_type == "multipart/form-data"


@dataclass(frozen=True)
class ErrorResponse:
    """A 4xx/5xx response with a JSON body; status 0 is the spec's `default`."""

    status: int
    model: str


@dataclass(frozen=True)
class SecurityScheme:
    """A way to send credentials; the client takes one constructor argument per scheme."""

    name: str
    kind: SchemeKind
    arg_name: str
    header: str
    """The header carrying it: Authorization for bearer and basic, else the apiKey header's name."""
    description: str


@dataclass(frozen=True)
class Operation:
    """One operation: a server route with its runtime.Operation, and a client method (sync and async)."""

    operation_id: str
    python_name: str
    constant: str
    """The server's module-level name of its runtime.Operation, e.g. CREATE_IMAGE."""
    method: str
    path: str
    route_path: str
    """`path` with parameter names Starlette can match, e.g. {deployment_id}."""
    kind: OperationKind
    family: str
    summary: str
    description: str
    parameters: tuple[Parameter, ...]
    params_model: str | None
    body: Body
    response_model: str
    stream_model: str | None
    errors: tuple[ErrorResponse, ...]
    security: tuple[str, ...]
    """Names of the schemes whose credentials this operation accepts."""

    @property
    def path_parameters(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.location == "path")

    @property
    def query_parameters(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.location == "query")


@dataclass(frozen=True)
class Api:
    """The whole spec as the templates see it; operations in the spec's order, models sorted by name."""

    title: str
    base_url: str
    operations: tuple[Operation, ...]
    models: tuple[Model, ...]
    security_schemes: tuple[SecurityScheme, ...]
    error_models: tuple[str, ...]
    """Every model an error response may carry, sorted: the type of ApiError.body."""

    @property
    def model_names(self) -> tuple[str, ...]:
        return tuple(sorted(m.name for m in self.models))
