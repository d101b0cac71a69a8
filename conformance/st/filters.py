"""schemathesis's known false positives on this API, recognised so they are not reported as gateway failures.

Each rule looks at what actually reached the wire, not at what schemathesis meant to send:

- multipart text is untyped (and a file part is valid when it holds an image, as ImageFile says): a null or boolean
  mutation of a string field arrives as the text "null" / "false", a valid string; an object arrives as "{}", a
  valid one-element array of strings; a one-element array is the same parts as a scalar; an integer 0 for a boolean
  arrives as "0", which form parsers read as false. If the form, read back as a form parser must read it, satisfies
  the schema, the request was valid and accepting it is right.
- a part name with control characters, quotes, `;` or nothing at all may be refused: the seed allows "a 4xx, or a
  2xx where the spec allows an extra part".
- a negative case may not be negative at all: removing `image` from one `anyOf` branch leaves a body that satisfies
  the other (`image[]`); unknown query parameters are not forbidden by the spec. The request as sent is judged.
- JSON Schema counts 32.0 as an integer, and integers have no bound; typed decoders (Go's encoding/json behind
  Bifrost, pydantic) refuse 32.0 and numbers beyond 64 bits, and nothing in the contract asks a gateway to accept them.
- an unknown multipart field given a list (repeated parts) may be refused as a duplicate; an array item whose text
  starts like a JSON array is ambiguous where gateways accept the array as JSON text too.
- schemathesis validates an event stream's `{event, data}` envelope against the stream schema, which the spec
  defines as the JSON of one `data:` line; the events are re-judged as the spec means them.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from pixelpact.conformance.engine.contract import OperationContract
from pixelpact.conformance.engine.images import NotAnImage, decode_image
from pixelpact.conformance.groups._judge import schema_problem
from pixelpact.conformance.groups.invalid import AZURE_SEEDED_ENUMS

_INTEGER = re.compile(r"^-?[0-9]+$")
_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$")
#: A file part's value, as the body schema sees it (`type: string, format: binary`).
_FILE = "<file>"
#: Stands for a part of the wrong kind (text where a file belongs, or the reverse): it matches no schema type.
_WRONG_KIND: Any = None
_HOSTILE_CHARACTERS = frozenset('";\\')
#: Form text has no booleans; these are the spellings form parsers (pydantic, HTML checkboxes) read as one.
_FORM_BOOLEANS = {
    "true": True,
    "false": False,
    "1": True,
    "0": False,
    "on": True,
    "off": False,
    "yes": True,
    "no": False,
}


def false_positive(check: str, operation: OperationContract, case: Any, response: Any) -> str | None:
    """Why a failure of `check` on this case is one of schemathesis's false positives, or None when it stands."""
    if check == "negative_data_rejection" and request_problem(operation, case) is None:
        return "the request as it reached the gateway is valid (the mutation did not survive encoding)"
    if check == "negative_data_rejection" and operation.family == "azure":
        unlisted = frozenset(operation.enum_properties()) - AZURE_SEEDED_ENUMS
        if unlisted and request_problem(operation, case, ignoring=unlisted) is None:
            fields = ", ".join(sorted(unlisted))
            return f"only fields seed 003 does not list ({fields}) are invalid: an Azure route need not reject them"
    if check == "positive_data_acceptance":
        reason = _ambiguous(operation, _body(case))
        if reason is not None:
            return reason
    if (
        check == "response_schema_conformance"
        and operation.stream_event_schema is not None
        and _is_stream(response)
        and stream_problem(operation, response.content) is None
    ):
        return "every data: line of the stream matches the spec's event schema"
    return None


def request_problem(operation: OperationContract, case: Any, ignoring: frozenset[str] = frozenset()) -> str | None:
    """None when the request as sent satisfies the spec: its body (a multipart form read back as a form parser reads
    it), and the path and query parameters the spec declares. Unknown query parameters are not a violation: the spec
    declares parameters, it does not forbid others (gateways ignore them). Body fields in `ignoring` are left out."""
    if case.method.upper() != operation.method or (case.media_type or operation.media_type) != operation.media_type:
        return f"sent as {case.method} {case.media_type}, not {operation.method} {operation.media_type}"
    headers = case.headers if isinstance(case.headers, dict) else {}
    declared = next((str(value) for name, value in headers.items() if name.lower() == "content-type"), None)
    if declared is not None and not declared.startswith(operation.media_type):
        return f"sent with Content-Type {declared!r}"
    for parameter in operation.parameters:
        container = case.path_parameters if parameter.location == "path" else case.query
        values = container if isinstance(container, dict) else {}
        if parameter.name not in values:
            if parameter.required:
                return f"{parameter.name} is missing"
            continue
        value = values[parameter.name]
        if not isinstance(value, str):
            value = _text(value)  # the URL carries text only
        problem = schema_problem(parameter.schema, value)
        if problem is not None:
            return f"{parameter.name}: {problem}"
    if operation.is_multipart:
        form = wire_form(case)
        if form is None:
            return "the body could not be encoded"
        return body_problem(operation, {name: values for name, values in form.items() if name not in ignoring})
    if not isinstance(case.body, dict):
        return "the body is not a JSON object"
    return schema_problem(_body_schema(operation), {k: v for k, v in case.body.items() if k not in ignoring})


def wire_form(case: Any) -> dict[str, Any] | None:
    """The multipart body as the gateway reads it: file parts as a marker, text parts typed only by the schema."""
    try:
        files = case.as_transport_kwargs().get("files") or []
    except Exception:  # a body schemathesis cannot serialise is nothing the gateway saw
        return None
    form: dict[str, list[Any]] = {}
    for name, value in files:
        filename, content = (value[0], value[1]) if isinstance(value, tuple) else (None, value)
        if filename is None:
            form.setdefault(name, []).append(_text(content))
        else:
            # The spec's files are images (ImageFile: PNG, JPEG or WebP): other bytes do not make a valid part.
            form.setdefault(name, []).append(_FILE if _is_image(content) else _WRONG_KIND)
    return form


def _is_image(content: Any) -> bool:
    try:
        decode_image(content if isinstance(content, bytes) else str(content).encode())
    except NotAnImage:
        return False
    return True


def body_problem(operation: OperationContract, form: Mapping[str, list[Any]]) -> str | None:
    """None when the form, each part coerced to its property's type as a form parser would, satisfies the schema."""
    body: dict[str, Any] = {}
    for name, values in form.items():
        schema = operation.properties.get(name)
        if name in operation.json_parts:
            # a JSON part holds one value (an item, for an array) or a whole array, as the stub reads it
            decoded = [_json_part(value) for value in values]
            if schema is not None and schema.get("type") == "array":
                body[name] = [item for value in decoded for item in (value if isinstance(value, list) else [value])]
            else:
                body[name] = decoded[-1] if len(decoded) == 1 else decoded
            continue
        if schema is None:
            body[name] = values[-1] if len(values) == 1 else values
        elif name in operation.file_list_fields or schema.get("type") == "array":
            items = [_coerce(name, operation, (schema.get("items") or {}), value) for value in values]
            body[name] = items
        elif len(values) > 1:
            return f"{name} sent {len(values)} times"
        else:
            body[name] = _coerce(name, operation, schema, values[0])
    return schema_problem(_body_schema(operation), body)


def stream_problem(operation: OperationContract, content: bytes) -> str | None:
    """None when every `data:` line of an event stream is `[DONE]` or JSON matching the event schema."""
    assert operation.stream_event_schema is not None
    # An SSE line ends at CR, LF or CRLF only (str.splitlines() also splits at U+0085, U+2028 ..., which a JSON
    # string may hold unescaped: an echoed prompt).
    text = content.decode("utf-8", "replace")
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            continue
        try:
            event = json.loads(data)
        except ValueError:
            return f"data line is not JSON: {data[:80]!r}"
        problem = schema_problem(operation.stream_event_schema, event)
        if problem is not None:
            return problem
    return None


_BODY_SCHEMAS: dict[int, dict[str, Any]] = {}


def _body_schema(operation: OperationContract) -> dict[str, Any]:
    """The request body's schema, standalone (built once per operation so its validator is cached)."""
    schema = _BODY_SCHEMAS.get(id(operation))
    if schema is None:
        schema = {
            "type": "object",
            "properties": {
                # A file is a marker string here: what matters is that a file part came, not its bytes.
                name: {"type": "string"} if name in operation.file_fields else dict(value)
                for name, value in operation.properties.items()
                if name not in operation.file_list_fields
            }
            | {
                name: {"type": "array", "items": {"const": _FILE}, "minItems": 1} for name in operation.file_list_fields
            },
            "required": sorted(operation.required),
            "components": operation.response_schema.get("components", {}),
        }
        if operation.one_of_required:
            schema["anyOf"] = [{"required": sorted(alternative)} for alternative in operation.one_of_required]
        if operation.required_unless:
            schema["allOf"] = [
                {
                    "anyOf": [
                        {"required": sorted(rule.required)},
                        {
                            "properties": {k: {"const": v} for k, v in rule.unless.items()},
                            "required": sorted(rule.unless),
                        },
                    ]
                }
                for rule in operation.required_unless
            ]
        _BODY_SCHEMAS[id(operation)] = schema
    return schema


def _coerce(name: str, operation: OperationContract, schema: Mapping[str, Any], value: Any) -> Any:
    if name in operation.file_fields or name in operation.file_list_fields:
        return value if value == _FILE else _WRONG_KIND
    if value == _FILE:
        return _WRONG_KIND  # a file where text is expected is not the text the schema describes
    kind = schema.get("type")
    if kind == "integer" and _INTEGER.match(value):
        return int(value)
    if kind == "number" and _NUMBER.match(value):
        return float(value)
    if kind == "boolean" and value.lower() in _FORM_BOOLEANS:
        return _FORM_BOOLEANS[value.lower()]
    return value


def _json_part(value: Any) -> Any:
    """The value of a JSON part's text; text that is not JSON is of the wrong kind."""
    try:
        return json.loads(value) if isinstance(value, str) else _WRONG_KIND
    except ValueError:
        return _WRONG_KIND


def _text(value: Any) -> str:
    """The text a non-file part carries, as schemathesis serialises it."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _body(case: Any) -> dict[str, Any]:
    return case.body if isinstance(case.body, dict) else {}


def _ambiguous(operation: OperationContract, body: Mapping[str, Any]) -> str | None:
    """Why a valid body may be refused without breaking the contract, or None."""
    if operation.is_multipart:
        extra = {name: value for name, value in body.items() if name not in operation.properties}
        if any(_hostile(name) for name in extra):
            return "a part with a hostile name may be refused (seed: a 4xx, or a 2xx where an extra part is allowed)"
        if any(isinstance(value, list | dict) for value in extra.values()):
            # Repeated parts (or JSON text) for a field the gateway does not know: it cannot tell a list from a mistake.
            return "an unknown field sent as several parts may be refused as a duplicate"
        for name, schema in operation.properties.items():
            values = body.get(name)
            # Gateways accept `fallbacks` as JSON array text too: an item that starts like one is ambiguous.
            if schema.get("type") == "array" and isinstance(values, list) and any(_array_like(v) for v in values):
                return f"an item of {name} reads as JSON array text on the wire"
    elif _integral_floats(operation, body):
        return "an integer sent as a whole float (32.0) may be refused by typed decoders"
    if any(_beyond_int64(value) for value in body.values()):
        return "an integer beyond 64 bits may be refused by typed decoders (the spec sets no format: int64)"
    return None


def _array_like(value: Any) -> bool:
    return isinstance(value, str) and value.lstrip().startswith("[")


def _beyond_int64(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63


def _hostile(name: str) -> bool:
    return not name or any(ch in _HOSTILE_CHARACTERS or unicodedata.category(ch)[0] == "C" for ch in name)


def _integral_floats(operation: OperationContract, body: Mapping[str, Any]) -> bool:
    return any(
        isinstance(value, float)
        and value.is_integer()
        and (operation.properties.get(name) or {}).get("type") == "integer"
        for name, value in body.items()
    )


def _is_stream(response: Any) -> bool:
    value = response.headers.get("content-type") or [""]
    return str(value[0] if isinstance(value, list) else value).startswith("text/event-stream")
