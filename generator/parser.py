"""Spec dict -> ir.Api. Never raises on a bad spec: every problem becomes a GeneratorError with its location."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Literal, cast

from pixelpact.generator import schemas
from pixelpact.generator.errors import GeneratorError, pointer
from pixelpact.generator.ir import (
    Api,
    Body,
    ErrorResponse,
    Model,
    ModelRole,
    Operation,
    Parameter,
    SchemeKind,
    SecurityScheme,
)
from pixelpact.generator.models_ir import build_model, component_roles, parameter_schema
from pixelpact.generator.naming import pascal_case, python_name, snake_case
from pixelpact.generator.runtime.operation import OperationKind
from pixelpact.generator.runtime.part_encoding import is_json, part_content_type

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
KINDS: dict[str, OperationKind] = {"generations": "generation", "edits": "edit", "variations": "variation"}
BODY_MEDIA_TYPES = ("application/json", "multipart/form-data")
SCALAR_HINTS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}


class _Parser:
    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.components: Mapping[str, Any] = (document.get("components") or {}).get("schemas") or {}
        self.errors: list[GeneratorError] = []
        self.synthesised: dict[str, Model] = {}
        self.request_roots: list[str] = []
        self.schemes = self._security_schemes()

    def error(self, where: str, message: str, operation: str | None = None) -> None:
        self.errors.append(GeneratorError(where, message, operation))

    def api(self) -> Api:
        operations = []
        for path, item in (self.document.get("paths") or {}).items():
            for method in HTTP_METHODS:
                if isinstance(item, Mapping) and method in item:
                    operation = self._operation(path, method, item)
                    if operation is not None:
                        operations.append(operation)
        self._check_unique(operations)
        roles = component_roles(self.document, self.request_roots)
        models = [build_model(name, self.components[name], self.components, role) for name, role in roles.items()]
        models += self.synthesised.values()
        errors = sorted({e.model for op in operations for e in op.errors})
        servers = self.document.get("servers") or [{}]
        return Api(
            title=str((self.document.get("info") or {}).get("title", "")),
            base_url=str(servers[0].get("url", "http://127.0.0.1:8080")),
            operations=tuple(operations),
            models=tuple(sorted(models, key=lambda m: m.name)),
            security_schemes=tuple(self.schemes.values()),
            error_models=tuple(errors),
        )

    def _operation(self, path: str, method: str, item: Mapping[str, Any]) -> Operation | None:
        raw = item[method]
        where = pointer("paths", path, method)
        op_id = raw.get("operationId")
        if not isinstance(op_id, str) or not op_id:
            self.error(where, "has no operationId; the client's method and the server's route are named after it")
            return None
        before = len(self.errors)
        kind = KINDS.get(path.rstrip("/").rsplit("/", 1)[-1])
        if kind is None:
            self.error(where, f"the last path segment must be one of {', '.join(KINDS)}", op_id)
        tags = raw.get("tags") or []
        if not tags:
            self.error(pointer("paths", path, method, "tags"), "needs a tag naming its route family", op_id)
        parameters, params_model = self._parameters(path, method, item, op_id)
        body = self._body(path, method, raw, op_id)
        response_model, stream_model, errors = self._responses(path, method, raw, op_id)
        security = self._security(path, method, raw, op_id)
        if len(self.errors) > before or kind is None or body is None or response_model is None:
            return None
        route_path = path
        for parameter in parameters:
            route_path = route_path.replace("{" + parameter.wire_name + "}", "{" + parameter.python_name + "}")
        return Operation(
            operation_id=op_id,
            python_name=snake_case(op_id),
            constant=snake_case(op_id).upper(),
            method=method.upper(),
            path=path,
            route_path=route_path,
            kind=kind,
            family=str(tags[0]),
            summary=str(raw.get("summary") or op_id),
            description=str(raw.get("description") or "").strip(),
            parameters=parameters,
            params_model=params_model,
            body=body,
            response_model=response_model,
            stream_model=stream_model,
            errors=errors,
            security=security,
        )

    def _parameters(
        self, path: str, method: str, item: Mapping[str, Any], op_id: str
    ) -> tuple[tuple[Parameter, ...], str | None]:
        merged: dict[tuple[str, str], Mapping[str, Any]] = {}
        for raw in [*(item.get("parameters") or []), *(item[method].get("parameters") or [])]:
            parameter = schemas.resolve(self.document, raw)
            merged[(parameter["name"], parameter["in"])] = parameter
        result: list[Parameter] = []
        entries: list[tuple[str, bool, Mapping[str, Any]]] = []
        for (name, location), parameter in merged.items():
            if location not in ("path", "query"):
                where = pointer("paths", path, method, "parameters")
                self.error(where, f"{location} parameter {name!r} is not supported (only path and query)", op_id)
                continue
            schema = schemas.inline_scalars(parameter.get("schema") or {}, self.components)
            required = bool(parameter.get("required")) or location == "path"
            hint = _type_hint(schema)
            result.append(Parameter(name, python_name(name), cast(Literal["path", "query"], location), required, hint))
            entries.append((name, required, schema))
        if not result:
            return (), None
        model_name = pascal_case(op_id) + "Params"
        self._synthesise(model_name, parameter_schema(entries), "params")
        return tuple(result), model_name

    def _body(self, path: str, method: str, raw: Mapping[str, Any], op_id: str) -> Body | None:
        where = pointer("paths", path, method, "requestBody")
        request_body = schemas.resolve(self.document, raw.get("requestBody"))
        if not isinstance(request_body, Mapping):
            self.error(where, "has no request body; every image operation takes one", op_id)
            return None
        content = request_body.get("content") or {}
        media_type = next((m for m in BODY_MEDIA_TYPES if m in content), None)
        if media_type is None:
            self.error(
                where, f"content must be one of {', '.join(BODY_MEDIA_TYPES)}, found {', '.join(content)}", op_id
            )
            return None
        media = content[media_type]
        model = self._model_for(media.get("schema"), pascal_case(op_id) + "Request", where, op_id, "request")
        if model is None:
            return None
        # Components the body refers to are validated as strictly as the body itself.
        self.request_roots += [model.name, *schemas.referenced_components(model.schema)]
        encoding = media.get("encoding") or {}
        files = tuple(
            replace(f, content_type=(encoding.get(f.wire_name) or {}).get("contentType"))
            for f in model.fields
            if f.is_file
        )
        lists = tuple(f.wire_name for f in model.fields if f.is_list)
        json_parts: tuple[str, ...] = ()
        if media_type == "multipart/form-data":
            properties = model.schema.get("properties") or {}
            json_parts = tuple(
                f.wire_name
                for f in model.fields
                if not f.is_file
                and is_json(
                    part_content_type(
                        schemas.resolve(self.document, properties.get(f.wire_name) or {}),
                        encoding.get(f.wire_name),
                        lambda node: schemas.resolve(self.document, node),
                    )
                )
            )
        kind = cast(Literal["application/json", "multipart/form-data"], media_type)
        return Body(model.name, kind, files, lists, json_parts)

    def _responses(
        self, path: str, method: str, raw: Mapping[str, Any], op_id: str
    ) -> tuple[str | None, str | None, tuple[ErrorResponse, ...]]:
        response_model = stream_model = None
        errors: list[ErrorResponse] = []
        for status, response in (raw.get("responses") or {}).items():
            where = pointer("paths", path, method, "responses", status)
            content = (schemas.resolve(self.document, response) or {}).get("content") or {}
            code = str(status)
            if code.startswith("2") and response_model is None:
                if "application/json" not in content:
                    self.error(where, "a successful response needs an application/json body", op_id)
                    continue
                json_model = self._model_for(
                    content["application/json"].get("schema"), pascal_case(op_id) + "Response", where, op_id, "response"
                )
                response_model = json_model.name if json_model else None
                if "text/event-stream" in content:
                    event = self._model_for(
                        content["text/event-stream"].get("schema"),
                        pascal_case(op_id) + "StreamEvent",
                        where,
                        op_id,
                        "response",
                    )
                    stream_model = event.name if event else None
            elif (code[:1] in "45" or code == "default") and "application/json" in content:
                error_model = self._model_for(
                    content["application/json"].get("schema"), pascal_case(op_id) + "Error", where, op_id, "response"
                )
                if error_model is not None:
                    errors.append(
                        ErrorResponse(0 if code == "default" else int(code[:3].replace("X", "0")), error_model.name)
                    )
        if response_model is None and not any(e.operation == op_id for e in self.errors):
            self.error(pointer("paths", path, method, "responses"), "needs a 2xx response with a JSON body", op_id)
        return response_model, stream_model, tuple(errors)

    def _model_for(self, schema: Any, fallback_name: str, where: str, op_id: str, role: ModelRole) -> Model | None:
        """The model of a body's schema: its component when it references an object schema, else a synthesised one."""
        name = schemas.ref_name(schema)
        if name is not None and schemas.is_object(self.components.get(name)):
            target = self.components[name]
            return build_model(name, target, self.components, role)
        resolved = schemas.resolve(self.document, schema)
        if not schemas.is_object(resolved):
            self.error(where, "the schema must be an object schema (a model with properties)", op_id)
            return None
        return self._synthesise(fallback_name, resolved, role)

    def _synthesise(self, name: str, schema: Mapping[str, Any], role: ModelRole) -> Model:
        if name in self.components:
            name += "Model"
        model = build_model(name, schema, self.components, role)
        self.synthesised[name] = model
        return model

    def _security_schemes(self) -> dict[str, SecurityScheme]:
        result: dict[str, SecurityScheme] = {}
        raw_schemes = (self.document.get("components") or {}).get("securitySchemes") or {}
        for name, raw in raw_schemes.items():
            scheme = schemas.resolve(self.document, raw)
            where = pointer("components", "securitySchemes", name)
            arg = snake_case(name).removesuffix("_auth") or snake_case(name)
            description = " ".join(str(scheme.get("description") or "").split())
            kind, header = scheme.get("type"), "Authorization"
            if kind == "http" and str(scheme.get("scheme", "")).lower() in ("bearer", "basic"):
                kind = str(scheme["scheme"]).lower()
            elif kind == "apiKey" and scheme.get("in") == "header":
                kind, header = "header", str(scheme["name"])
            else:
                self.error(where, "only http bearer, http basic and apiKey-in-header schemes are supported")
                continue
            result[name] = SecurityScheme(name, cast(SchemeKind, kind), arg, header, description)
        return result

    def _security(self, path: str, method: str, raw: Mapping[str, Any], op_id: str) -> tuple[str, ...]:
        requirements = raw.get("security", self.document.get("security")) or []
        names: list[str] = []
        for requirement in requirements:
            for name in requirement or {}:
                if name not in self.schemes:
                    self.error(pointer("paths", path, method, "security"), f"unknown security scheme {name!r}", op_id)
                elif name not in names:
                    names.append(name)
        return tuple(names)

    def _check_unique(self, operations: list[Operation]) -> None:
        seen: dict[str, str] = {}
        for operation in operations:
            other = seen.setdefault(operation.python_name, operation.operation_id)
            if other is not operation.operation_id:
                where = pointer("paths", operation.path, operation.method.lower(), "operationId")
                message = f"its Python name {operation.python_name} is already taken by {other!r}"
                self.error(where, message, operation.operation_id)


def _type_hint(schema: Mapping[str, Any]) -> str:
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return "Literal[" + ", ".join(repr(value) for value in enum) + "]"
    kind = schema.get("type")
    return SCALAR_HINTS.get(kind, "str") if isinstance(kind, str) else "str"


def parse(document: Mapping[str, Any]) -> tuple[Api, list[GeneratorError]]:
    """Turn a validated OpenAPI document into the IR; the errors say what could not be turned, and where."""
    parser = _Parser(document)
    api = parser.api()
    return api, parser.errors
