"""Reading request bodies safely: a size limit enforced while streaming, strict JSON, hostile-proof multipart.

Everything here turns bad input into a GatewayError (a 4xx with the spec's error body): a body over the limit, a
malformed Content-Length, invalid JSON, a multipart body without a boundary, truncated, with too many parts, or with
part names no form would produce (`a;b`, empty, control characters).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from generator.runtime.errors import GatewayError

#: Beyond the limit a body is still read (and thrown away, never stored) up to this many bytes, so the client, which
#: usually sends the whole body before reading the answer, gets the 413 instead of a reset connection.
DRAIN_LIMIT = 256 * 1024 * 1024
#: RFC 2046 caps a boundary at 70 characters.
MAX_BOUNDARY = 70
#: A part name longer than this is not a form field.
MAX_NAME = 256
#: Characters no form field name of the spec contains and that break naive multipart parsers (Prism dies on `a;b`).
FORBIDDEN_NAME_CHARS = frozenset(';"\\')

# python-multipart logs a warning for every malformed body; the client already gets a 400 saying what was wrong, and a
# fuzzer sending thousands of them would otherwise flood the server's stderr.
logging.getLogger("python_multipart.multipart").setLevel(logging.ERROR)


@dataclass
class Part:
    """One part of a multipart body."""

    name: str
    data: bytes
    filename: str | None = None
    content_type: str | None = None


@dataclass
class _PartBuilder:
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    field_name: bytearray = field(default_factory=bytearray)
    field_value: bytearray = field(default_factory=bytearray)
    chunks: list[bytes] = field(default_factory=list)
    name: str = ""
    filename: str | None = None
    content_type: str | None = None


async def read_limited(
    content_length: str | None, stream: AsyncIterator[bytes], limit: int, drain_limit: int = DRAIN_LIMIT
) -> bytes:
    """The whole body, or a 413 once it is larger than `limit` bytes; what is over the limit is never kept."""
    declared: int | None = None
    if content_length is not None:
        if not content_length.strip().isdigit():
            raise GatewayError(400, f"Content-Length {content_length[:40]!r} is not a number", None)
        declared = int(content_length)
    too_large = GatewayError(
        413,
        f"the request body is larger than this gateway accepts ({limit} bytes)",
        None,
        "request_too_large",
        code="payload_too_large",
    )
    if declared is not None and declared > drain_limit:
        raise too_large
    chunks: list[bytes] = []
    total = 0
    try:
        async for chunk in stream:
            total += len(chunk)
            if total > limit:
                # Keep reading, keep nothing: see DRAIN_LIMIT.
                async for rest in stream:
                    total += len(rest)
                    if total > drain_limit:
                        break
                raise too_large
            if chunk:
                chunks.append(chunk)
    except ClientDisconnect:
        raise GatewayError(400, "the client closed the connection before the body was complete", None) from None
    return b"".join(chunks)


def media_type_of(content_type: str) -> tuple[str, dict[bytes, bytes]]:
    """The lower-case media type of a Content-Type header and its parameters."""
    mtype, params = parse_options_header(content_type.encode("latin-1", "replace"))
    return mtype.decode("latin-1").strip().lower(), params


def parse_json(raw: bytes, content_type: str) -> dict[str, Any]:
    """A JSON object body; anything else (wrong content type, bad JSON, an array ...) is a 400."""
    mtype, _ = media_type_of(content_type)
    if mtype != "application/json" and not mtype.endswith("+json"):
        shown = mtype or "none"
        raise GatewayError(400, f"the body must be application/json, not {shown}", None, code="unsupported_media_type")
    if not raw.strip():
        raise GatewayError(400, "the body is empty; a JSON object is required", None)

    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    try:
        value = json.loads(raw, parse_constant=no_constants)
    except (ValueError, RecursionError) as exc:
        # ValueError covers JSONDecodeError, bad UTF-8 and integers beyond Python's digit limit.
        reason = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
        raise GatewayError(400, f"the body is not valid JSON: {reason[:200]}", None, code="invalid_json") from None
    if not isinstance(value, dict):
        raise GatewayError(400, f"the body must be a JSON object, not a JSON {type(value).__name__}", None)
    return value


def _check_name(raw_name: bytes | None, index: int) -> str:
    if raw_name is None:
        raise GatewayError(400, f"multipart part {index} has no name in its Content-Disposition", None)
    try:
        name = raw_name.decode("utf-8")
    except UnicodeDecodeError:
        raise GatewayError(400, f"multipart part {index} has a name that is not UTF-8", None) from None
    if not name:
        raise GatewayError(400, f"multipart part {index} has an empty name", None)
    if len(name) > MAX_NAME:
        raise GatewayError(400, f"multipart part {index} has a name longer than {MAX_NAME} characters", None)
    if any(ord(c) < 32 or ord(c) == 127 for c in name) or FORBIDDEN_NAME_CHARS.intersection(name):
        # repr() shows the control characters instead of sending them back raw.
        raise GatewayError(400, f"multipart part {index} has a malformed name {name[:60]!r}", None)
    return name


def parse_multipart(raw: bytes, content_type: str, max_parts: int) -> list[Part]:
    """The parts of a multipart/form-data body, in order; a 400 for anything a browser form would not send."""
    mtype, params = media_type_of(content_type)
    if mtype != "multipart/form-data":
        shown = mtype or "none"
        raise GatewayError(
            400, f"the body must be multipart/form-data, not {shown}", None, code="unsupported_media_type"
        )
    boundary = params.get(b"boundary", b"")
    if not boundary or len(boundary) > MAX_BOUNDARY:
        raise GatewayError(400, "the multipart/form-data Content-Type has no usable boundary parameter", None)

    parts: list[Part] = []
    current = _PartBuilder()
    ended = False

    def on_part_begin() -> None:
        nonlocal current
        if len(parts) >= max_parts:
            raise GatewayError(400, f"the multipart body has more than {max_parts} parts", None, code="too_many_parts")
        current = _PartBuilder()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        current.field_name += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        current.field_value += data[start:end]

    def on_header_end() -> None:
        current.headers.append((bytes(current.field_name).strip().lower(), bytes(current.field_value).strip()))
        current.field_name.clear()
        current.field_value.clear()

    def on_headers_finished() -> None:
        index = len(parts)
        disposition = next((v for k, v in current.headers if k == b"content-disposition"), None)
        if disposition is None:
            raise GatewayError(400, f"multipart part {index} has no Content-Disposition header", None)
        kind, options = parse_options_header(disposition)
        if kind.lower() != b"form-data":
            raise GatewayError(400, f"multipart part {index} is not form-data", None)
        current.name = _check_name(options.get(b"name"), index)
        filename = options.get(b"filename")
        current.filename = filename.decode("utf-8", "replace") if filename is not None else None
        ctype = next((v for k, v in current.headers if k == b"content-type"), None)
        current.content_type = ctype.decode("latin-1") if ctype is not None else None

    def on_part_data(data: bytes, start: int, end: int) -> None:
        current.chunks.append(data[start:end])

    def on_part_end() -> None:
        parts.append(Part(current.name, b"".join(current.chunks), current.filename, current.content_type))

    def on_end() -> None:
        nonlocal ended
        ended = True

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_end": on_end,
        },
    )
    try:
        parser.write(raw)
    except MultipartParseError as exc:
        raise GatewayError(400, f"the multipart body is malformed: {str(exc)[:200]}", None) from None
    if not ended:
        raise GatewayError(400, "the multipart body ends before its closing boundary (truncated?)", None)
    return parts


def multipart_fields(parts: list[Part], file_fields: frozenset[str], list_fields: frozenset[str]) -> dict[str, Any]:
    """Parts keyed by wire name: files as bytes, text as str; lists for list fields (a JSON array text counts too)."""
    out: dict[str, Any] = {}
    for part in parts:
        name = part.name
        value: Any
        if name in file_fields:
            value = part.data
        else:
            try:
                value = part.data.decode("utf-8")
            except UnicodeDecodeError:
                raise GatewayError(400, f"the form field {name!r} is not UTF-8 text", name) from None
        if name in list_fields:
            items = out.setdefault(name, [])
            if isinstance(value, str) and value.lstrip().startswith("["):
                # `fallbacks` may come as one JSON array text instead of repeated fields.
                try:
                    decoded = json.loads(value)
                except ValueError:
                    raise GatewayError(400, f"the form field {name!r} is not a valid JSON array", name) from None
                if not isinstance(decoded, list):
                    raise GatewayError(400, f"the form field {name!r} must be a JSON array", name)
                items.extend(decoded)
            else:
                items.append(value)
        elif name in out:
            plural = f"; send several as {name}[]" if f"{name}[]" in list_fields else ""
            raise GatewayError(400, f"the form field {name!r} is given more than once{plural}", name)
        else:
            out[name] = value
    return out


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
