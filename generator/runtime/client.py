"""The hand-written support the generated httpx client imports: requests out, responses and errors back.

The generated client holds what the spec derives: one `Endpoint` per operation, the error body models, the
credentials its security schemes accept, and one method per operation. Everything here is the same for any spec:
building the request (JSON or multipart/form-data, with the credentials an endpoint accepts), parsing an error
body into `ApiError`, and decoding a text/event-stream response into models.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

ErrorT = TypeVar("ErrorT", bound=BaseModel)
ModelT = TypeVar("ModelT", bound=BaseModel)


class ApiError(Exception, Generic[ErrorT]):
    """A non-2xx answer. `body` is the parsed error body, or None when the answer does not match the spec's."""

    def __init__(self, response: httpx.Response, body: ErrorT | None) -> None:
        self.response = response
        self.status_code = response.status_code
        self.body = body
        super().__init__(
            f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text[:500]}"
        )


@dataclass(frozen=True)
class Endpoint(Generic[ErrorT]):
    """One operation as the client sends it."""

    method: str
    path: str
    """The route path, with `{name}` placeholders for the path parameters."""
    multipart: bool
    files: Mapping[str, str]
    """Wire names of the file parts and their content types."""
    security: tuple[str, ...]
    """Names of the security schemes the operation accepts."""
    errors: Mapping[int, type[ErrorT]]
    """Error body model per status; 0 stands for the spec's `default` response."""
    json_parts: frozenset[str] = frozenset()
    """Wire names of the parts sent as application/json, one per item of an array (the spec's encoding)."""


class ClientBase:
    """Builds requests; the generated subclass fills `_credentials` from its security schemes' arguments."""

    _credentials: dict[str, tuple[str, str]]
    """Header name and value per security scheme name."""

    def _build(
        self,
        http: httpx.Client | httpx.AsyncClient,
        endpoint: Endpoint[Any],
        body: BaseModel | Mapping[str, Any],
        path_params: Mapping[str, Any],
        query_params: Mapping[str, Any],
        headers: Mapping[str, str] | None,
        stream: bool,
    ) -> httpx.Request:
        all_headers: dict[str, str] = {}
        for scheme in endpoint.security:
            if scheme in self._credentials:
                name, value = self._credentials[scheme]
                all_headers.setdefault(name, value)
        all_headers.update(headers or {})
        if isinstance(body, BaseModel):
            payload = body.model_dump(
                mode="python" if endpoint.multipart else "json", by_alias=True, exclude_unset=True
            )
        else:
            payload = dict(body)
        if stream:
            payload["stream"] = True
        path = endpoint.path.format(**{name: quote(str(value), safe="") for name, value in path_params.items()})
        params = {name: value for name, value in query_params.items() if value is not None}
        if endpoint.multipart:
            content, content_type = encode_multipart(payload, endpoint.files, endpoint.json_parts)
            all_headers["Content-Type"] = content_type
            return http.build_request(endpoint.method, path, content=content, params=params, headers=all_headers)
        return http.build_request(endpoint.method, path, json=payload, params=params, headers=all_headers)


def error_body(response: httpx.Response, endpoint: Endpoint[ErrorT]) -> ErrorT | None:
    """The error body of a non-2xx `response` as the endpoint's model for its status, or None if it does not parse."""
    model = endpoint.errors.get(response.status_code) or endpoint.errors.get(0)
    if model is None:
        return None
    try:
        return model.model_validate_json(response.content)
    except ValidationError:
        return None


def check_event_stream(response: httpx.Response) -> None:
    """Raise ValueError (and close the response) unless it is a text/event-stream."""
    content_type = response.headers.get("content-type", "")
    if not content_type.startswith("text/event-stream"):
        response.close()
        raise ValueError(f"asked for a stream, got {response.status_code} with content type {content_type!r}")


class SseDecoder:
    """Server-sent events, line by line: `:` lines are comments, `data: [DONE]` ends the stream."""

    def __init__(self) -> None:
        self._data: list[str] = []
        self.done = False

    def feed(self, line: str) -> str | None:
        """Take one line; return the data of the event it completes, if any."""
        if not line:
            return self.flush()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name != "data":
            return None
        if value.strip() == "[DONE]":
            self.done = True
            return self.flush()
        self._data.append(value)
        return None

    def flush(self) -> str | None:
        """The data of the event under way, if any, and start afresh."""
        data, self._data = self._data, []
        return "\n".join(data) if data else None


def iter_events(response: httpx.Response, model: type[ModelT]) -> Iterator[ModelT]:
    """The stream's events parsed as `model`; closes the response when done."""
    decoder = SseDecoder()
    try:
        for line in response.iter_lines():
            data = decoder.feed(line)
            if data is not None:
                yield model.model_validate_json(data)
            if decoder.done:
                return
        data = decoder.flush()
        if data is not None:
            yield model.model_validate_json(data)
    finally:
        response.close()


async def aiter_events(response: httpx.Response, model: type[ModelT]) -> AsyncIterator[ModelT]:
    """`iter_events` for an async response."""
    decoder = SseDecoder()
    try:
        async for line in response.aiter_lines():
            data = decoder.feed(line)
            if data is not None:
                yield model.model_validate_json(data)
            if decoder.done:
                return
        data = decoder.flush()
        if data is not None:
            yield model.model_validate_json(data)
    finally:
        await response.aclose()


def encode_multipart(
    payload: Mapping[str, Any], files: Mapping[str, str], json_parts: frozenset[str] = frozenset()
) -> tuple[bytes, str]:
    """multipart/form-data with file parts for `files` (a list gives repeated parts, as `image[]` needs) and
    `json_parts` as application/json parts, one JSON value per item."""
    boundary = os.urandom(16).hex()
    chunks: list[bytes] = []
    for name, value in payload.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        for index, item in enumerate(values):
            if item is None:
                continue
            disposition = f'form-data; name="{_quote_header(name)}"'
            if name in files:
                extension = files[name].rsplit("/", 1)[-1]
                suffix = index if isinstance(value, (list, tuple)) else ""
                filename = f"{name.removesuffix('[]')}{suffix}.{extension}"
                disposition += f'; filename="{_quote_header(filename)}"'
                head = f"Content-Disposition: {disposition}\r\nContent-Type: {files[name]}"
                content = item if isinstance(item, bytes) else str(item).encode()
            elif name in json_parts:
                head = f"Content-Disposition: {disposition}\r\nContent-Type: application/json"
                content = json.dumps(item).encode()
            else:
                head = f"Content-Disposition: {disposition}"
                content = _form_text(item).encode()
            chunks.append(f"--{boundary}\r\n{head}\r\n\r\n".encode() + content + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def _form_text(value: Any) -> str:
    """A non-file form field as text: booleans as JSON does, objects and lists as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return str(value)


def _quote_header(value: str) -> str:
    """A name or filename made safe inside a quoted Content-Disposition parameter."""
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
