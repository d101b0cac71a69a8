"""What a request asks, whatever encoded it: two requests with the same meaning get the same answer from a gateway.

The suite's own groups, schemathesis and the generated client each encode requests their own way (key order, the
multipart boundary, part file names and content types). `meaning` reduces a request to what a gateway acts on: the
method, the URL with its query sorted, and the body's fields, JSON by value and multipart parts by name and the
sha256 of their bytes. The Sender uses it to answer a request that asks exactly what the run's shared control
already asked with the control's answer (pixelpact.conformance.wire.http.Sender.send, `reuse`), so one exchange judges
every requirement it can instead of the provider making the same image again.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

if TYPE_CHECKING:
    from pixelpact.conformance.wire.http import WireRequest

_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_NAME = re.compile(rb'(?i)content-disposition:[^\r\n]*?\bname="([^"]*)"')


def meaning(request: WireRequest) -> str | None:
    """A key equal for requests that ask the same, or None when the body cannot be read (raw bytes of another kind)."""
    scheme, netloc, path, query, _ = urlsplit(request.url)
    url = urlunsplit((scheme, netloc, path, urlencode(sorted(parse_qsl(query, keep_blank_values=True))), ""))
    body = _body(request)
    if body is None:
        return None
    return json.dumps([request.method.upper(), url, body], sort_keys=True)


def _body(request: WireRequest) -> Any:
    if request.parts is not None:
        return sorted([part.name, _digest(part.value)] for part in request.parts)
    if request.raw is not None:
        content_type = request.content_type or ""
        if "multipart" in content_type.lower():
            return _raw_parts(request.raw, content_type)
        try:
            return {"json": json.loads(request.raw)}
        except ValueError:
            return None
    return {"json": request.json_body}


def _raw_parts(raw: bytes, content_type: str) -> list[list[str]] | None:
    found = _BOUNDARY.search(content_type)
    if found is None:
        return None
    parts: list[list[str]] = []
    for chunk in raw.split(b"--" + found.group(1).encode())[1:]:
        if chunk.startswith(b"--"):
            break  # the closing boundary
        head, separator, value = chunk.partition(b"\r\n\r\n")
        name = _NAME.search(head)
        if not separator or name is None:
            return None
        parts.append([name.group(1).decode("utf-8", "replace"), _digest(value.removesuffix(b"\r\n"))])
    return sorted(parts)


def _digest(value: str | bytes) -> str:
    return hashlib.sha256(value.encode() if isinstance(value, str) else value).hexdigest()
