"""Reading request bodies safely: a size limit enforced while streaming, strict JSON, hostile-proof multipart.

Everything here turns bad input into a GatewayError (a 4xx with the spec's error body): a body over the limit, a
malformed Content-Length, invalid JSON, a multipart body without a boundary, truncated, with too many parts, or with
part names no form would produce (`a;b`, empty, control characters).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import orjson
from python_multipart.multipart import parse_options_header
from starlette.types import Message, Receive

from pixelpact.generator.runtime.errors import GatewayError
from pixelpact.generator.runtime.part_encoding import is_json

#: Beyond the limit a body is still read (and thrown away, never stored) up to this many bytes, so the client, which
#: usually sends the whole body before reading the answer, gets the 413 instead of a reset connection.
DRAIN_LIMIT = 256 * 1024 * 1024
#: RFC 2046 caps a boundary at 70 characters.
MAX_BOUNDARY = 70
#: A part name longer than this is not a form field.
MAX_NAME = 256
#: Characters no form field name of the spec contains and that break naive multipart parsers (Prism dies on `a;b`).
FORBIDDEN_NAME_CHARS = frozenset(';"\\')
#: Limits on the headers of one part; a form part has two or three short ones.
MAX_PART_HEADERS = 16
MAX_HEADER_LINE = 8192
#: A JSON object key: its closing quote, optional whitespace, the colon (also matches inside strings: an upper bound).
_JSON_KEY = re.compile(rb'"[ \t\r\n]*:')
#: Form text of a typed field, written as JSON writes the value: no spaces, no sign on positives, no "1.0" for 1.
_FORM_SCALARS: dict[str, tuple[re.Pattern[str], str]] = {
    "integer": (re.compile(r"-?[0-9]+"), "an integer"),
    "number": (re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?"), "a number"),
    "boolean": (re.compile(r"true|false"), "true or false"),
}
_COMMON_DISPOSITION = re.compile(rb'(?i:form-data); ?name="([^"\\]*)"(?:; ?filename="([^"\\]*)")?$')


@dataclass
class Part:
    """One part of a multipart body."""

    name: str
    data: bytes
    filename: str | None = None
    content_type: str | None = None
    _digest: str | None = None

    def digest(self) -> str:
        """The sha256 of the data, hex; computed once."""
        if self._digest is None:
            self._digest = sha256_hex(self.data)
        return self._digest


async def read_limited(
    content_length: str | None, receive: Receive, limit: int, drain_limit: int = DRAIN_LIMIT
) -> bytes:
    """The whole body, read from the ASGI `receive` callable, or a 413 once it is larger than `limit` bytes; what is
    over the limit is never kept. A client that leaves before the body is complete gets a 400 (it is recorded)."""
    declared: int | None = None
    if content_length is not None:
        if not content_length.strip().isdigit():
            raise GatewayError(400, f"Content-Length {content_length[:40]!r} is not a number", None)
        declared = int(content_length)
    if declared is not None and declared > drain_limit:
        raise _too_large(limit)
    # The ASGI messages read directly (not through Starlette's Request.stream(), an async generator): this runs for
    # every request.
    chunks: list[bytes] = []
    total = 0
    more = True
    while more:
        chunk, more = _body_message(await receive())
        total += len(chunk)
        if total > limit:
            # Keep reading, keep nothing: see DRAIN_LIMIT.
            while more and total <= drain_limit:
                chunk, more = _body_message(await receive())
                total += len(chunk)
            raise _too_large(limit)
        if chunk:
            chunks.append(chunk)
    return b"".join(chunks)


def _body_message(message: Message) -> tuple[bytes, bool]:
    """A piece of the body and whether more follows, from an ASGI message; a disconnect is a 400."""
    if message["type"] != "http.request":
        raise GatewayError(400, "the client closed the connection before the body was complete", None)
    return message.get("body", b""), message.get("more_body", False)


def _too_large(limit: int) -> GatewayError:
    return GatewayError(
        413,
        f"the request body is larger than this gateway accepts ({limit} bytes)",
        None,
        "request_too_large",
        code="payload_too_large",
    )


@functools.lru_cache(maxsize=256)
def media_type_of(content_type: str) -> tuple[str, dict[bytes, bytes]]:
    """The lower-case media type of a Content-Type header and its parameters (cached: clients repeat theirs; the
    parameters are read, never changed)."""
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
    try:
        # orjson: strict RFC 8259 (UTF-8 only, no NaN), a nesting limit instead of a RecursionError, and fast.
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise GatewayError(400, f"the body is not valid JSON: {str(exc)[:200]}", None, code="invalid_json") from None
    if not isinstance(value, dict):
        raise GatewayError(400, f"the body must be a JSON object, not a JSON {type(value).__name__}", None)
    # One "{" in the text: no nested object, so the keys parsed are the top level's (a "{" in a string: the long way).
    parsed_keys = len(value) if raw.count(b"{") == 1 else _count_keys(value)
    if len(_JSON_KEY.findall(raw)) != parsed_keys:
        # Fewer keys parsed than written (or a string holds `":`): look for a key given twice, which RFC 8259 leaves
        # to the parser; last-wins would let a body say two things at once, so it is refused.
        json.loads(raw, object_pairs_hook=_refuse_duplicates)
    return value


def _count_keys(value: Any) -> int:
    """Keys of every object in a parsed JSON value (type() checks: this runs for every JSON request)."""
    count = 0
    if type(value) is dict:
        count = len(value)
        value = value.values()
    for item in value:
        kind = type(item)
        if kind is dict or kind is list:
            count += _count_keys(item)
    return count


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, item in pairs:
        if key in seen:
            raise GatewayError(400, f"the JSON body gives the key {key[:60]!r} more than once", key[:256])
        seen[key] = item
    return seen


def typed_form_fields(fields: dict[str, Any], kinds: dict[str, str]) -> None:
    """Read the text of typed form fields as JSON reads them, in place: "10" is 10; "10 ", "+10" or "1.0" are a 400.

    `kinds` maps wire names to "integer", "number" or "boolean". One rule for both encodings: the JSON form refuses
    "10 " and 1.0 for an integer (strict validation), so the multipart form does too, rather than trim and coerce.
    """
    for name, kind in kinds.items():
        text = fields.get(name)
        if not isinstance(text, str):
            continue
        pattern, what = _FORM_SCALARS[kind]
        if not pattern.fullmatch(text):
            raise GatewayError(400, f"the form field {name!r} must be {what}, not {text[:40]!r}", name)
        fields[name] = text == "true" if kind == "boolean" else int(text) if kind == "integer" else float(text)


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
    # isprintable() first: true for almost every name, and it already rules out every category C character.
    if (not name.isprintable() and _has_control(name)) or FORBIDDEN_NAME_CHARS.intersection(name):
        # repr() shows the control characters instead of sending them back raw.
        raise GatewayError(400, f"multipart part {index} has a malformed name {name[:60]!r}", None)
    return name


def _has_control(name: str) -> bool:
    """Whether `name` holds a control, format, surrogate, private-use or unassigned character (category C).

    Other characters are allowed, spaces of every script included (U+1680 OGHAM SPACE MARK): the spec lets a request
    carry fields it does not name, and such a name is not malformed.
    """
    if name.isascii():
        return not name.isprintable()
    return any(unicodedata.category(ch)[0] == "C" for ch in name)


def _disposition(value: bytes, index: int) -> tuple[bytes | None, bytes | None]:
    """Name and filename of a `form-data` Content-Disposition.

    The shape every client sends is matched by a regular expression; anything else (unquoted values, other parameters,
    another order) goes through python-multipart's general parser, which is several times slower.
    """
    match = _COMMON_DISPOSITION.match(value)
    if match is not None:
        return match[1], match[2]
    kind, options = parse_options_header(value)
    if kind.lower() != b"form-data":
        raise GatewayError(400, f"multipart part {index} is not form-data", None)
    return options.get(b"name"), options.get(b"filename")


def _malformed(why: str) -> GatewayError:
    return GatewayError(400, f"the multipart body is malformed: {why}", None)


def _parse_part(segment: bytes, index: int) -> Part:
    """One part: the bytes between two delimiters, i.e. headers, an empty line, then the data."""
    head, sep, data = segment.partition(b"\r\n\r\n")
    if not sep:
        raise _malformed(f"part {index} has no empty line after its headers")
    lines = head.split(b"\r\n") if head else []
    if len(lines) > MAX_PART_HEADERS:
        raise _malformed(f"part {index} has more than {MAX_PART_HEADERS} headers")
    disposition: bytes | None = None
    content_type: str | None = None
    for line in lines:
        if len(line) > MAX_HEADER_LINE:
            raise _malformed(f"part {index} has a header line longer than {MAX_HEADER_LINE} bytes")
        hname, colon, value = line.partition(b":")
        if not colon:
            raise _malformed(f"part {index} has a header line without a colon")
        hname = hname.strip().lower()
        if hname == b"content-disposition":
            disposition = value.strip()
        elif hname == b"content-type":
            content_type = value.strip().decode("latin-1")
    if disposition is None:
        raise GatewayError(400, f"multipart part {index} has no Content-Disposition header", None)
    raw_name, filename = _disposition(disposition, index)
    name = _check_name(raw_name, index)
    return Part(name, data, filename.decode("utf-8", "replace") if filename is not None else None, content_type)


def parse_multipart(raw: bytes, content_type: str, max_parts: int) -> list[Part]:
    """The parts of a multipart/form-data body, in order; a 400 for anything a browser form would not send.

    The body is split at its delimiters with bytes.find (C speed) rather than fed through a byte-by-byte state machine;
    a delimiter cannot occur inside a part (RFC 2046 5.1.1), so splitting is exact.
    """
    mtype, params = media_type_of(content_type)
    if mtype != "multipart/form-data":
        shown = mtype or "none"
        raise GatewayError(
            400, f"the body must be multipart/form-data, not {shown}", None, code="unsupported_media_type"
        )
    boundary = params.get(b"boundary", b"")
    if not boundary or len(boundary) > MAX_BOUNDARY:
        raise GatewayError(400, "the multipart/form-data Content-Type has no usable boundary parameter", None)
    delimiter = b"--" + boundary
    # The first delimiter opens the body (a preamble before it is allowed and ignored); later ones follow a CRLF.
    if raw.startswith(delimiter):
        pos = len(delimiter)
    else:
        found = raw.find(b"\r\n" + delimiter)
        if found < 0:
            raise _malformed("the boundary given in Content-Type does not occur in the body")
        pos = found + 2 + len(delimiter)
    separator = b"\r\n" + delimiter
    parts: list[Part] = []
    while True:
        if raw.startswith(b"--", pos):
            return parts  # the closing delimiter; an epilogue after it is ignored
        # After a delimiter: optional transport padding, then CRLF.
        eol = raw.find(b"\r\n", pos)
        if eol < 0 or raw[pos:eol].strip(b" \t"):
            if eol < 0 and not raw[pos:].strip(b" \t\r\n"):
                break
            raise _malformed(f"no line break after delimiter {len(parts)}")
        if len(parts) >= max_parts:
            raise GatewayError(400, f"the multipart body has more than {max_parts} parts", None, code="too_many_parts")
        end = raw.find(separator, eol + 2)
        if end < 0:
            break
        parts.append(_parse_part(raw[eol + 2 : end], len(parts)))
        pos = end + len(separator)
    raise GatewayError(400, "the multipart body ends before its closing boundary (truncated?)", None)


def multipart_fields(
    parts: list[Part],
    file_fields: frozenset[str],
    list_fields: frozenset[str],
    known_fields: frozenset[str],
    json_parts: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Parts keyed by wire name: files as bytes, text as str; lists for list fields (a JSON array text counts too).

    The parts of `json_parts` (the spec's encoding says application/json: an object, one per part for an array of
    them) and any part that says `Content-Type: application/json` itself are read as JSON: a part that is not JSON
    is refused naming its field, and a JSON value of the wrong type is left for the body model to refuse.
    A known scalar field given twice is refused; an unknown field may repeat (the spec lets requests carry fields it
    does not name, and a form encodes an unknown array as repeated parts), and is kept as a list.
    """
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
            if name in json_parts or (part.content_type is not None and is_json(part.content_type)):
                try:
                    value = json.loads(value)
                except ValueError:
                    raise GatewayError(400, f"the form field {name!r} must be JSON (application/json)", name) from None
                if name in list_fields:
                    out.setdefault(name, []).extend(value if isinstance(value, list) else [value])
                    continue
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
        elif name in out and name not in known_fields:
            previous = out[name]
            out[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        elif name in out:
            plural = f"; send several as {name}[]" if f"{name}[]" in list_fields else ""
            raise GatewayError(400, f"the form field {name!r} is given more than once{plural}", name)
        else:
            out[name] = value
    return out


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
