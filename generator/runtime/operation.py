"""What the generated server tells the stub runtime about one operation; every field is derived from the spec."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

OperationKind = Literal["generation", "edit", "variation"]


@dataclass(frozen=True)
class Operation:
    """One operation of the spec, as the generated server declares it to the runtime."""

    operation_id: str
    """The spec's operationId, e.g. "azureCreateImageEdit"."""
    method: str
    """HTTP method in upper case."""
    path: str
    """The spec's path template, e.g. "/openai/openai/deployments/{deployment-id}/images/edits"."""
    kind: OperationKind
    """From the last path segment: generations, edits or variations."""
    family: str
    """The operation's tag: "native", "openai" or "azure"."""
    media_type: str
    """The request body's media type: "application/json" or "multipart/form-data"."""
    body_model: type[BaseModel]
    """The generated model of the request body (fields aliased to their wire names, e.g. "image[]")."""
    params_model: type[BaseModel] | None
    """The generated model of the path and query parameters (aliased to wire names), or None when there are none."""
    response_model: type[BaseModel]
    """The generated model of the JSON 200 response."""
    file_fields: frozenset[str]
    """Wire names of the binary parts of a multipart body, e.g. {"image", "image[]", "mask"}."""
    list_fields: frozenset[str]
    """Wire names of array fields, e.g. {"image[]", "fallbacks"}: repeated parts in multipart."""
    streams: bool
    """The 200 response lists text/event-stream: `stream: true` is answered with server-sent events."""
    json_parts: frozenset[str] = frozenset()
    """Wire names of the multipart parts whose text is JSON, e.g. {"fallbacks"} when its items are objects."""
