"""What part of the spec a requirement concerns: a change there re-runs it (`pixelpact check --changed-since`).

Each requirement lists its concerns where it is declared (`Requirement.concerns`); the spec-diff mapping
(pixelpact.conformance.specdiff.affects) maps each change of the spec to a concern and re-runs the requirements that
list it, so a new requirement names its concerns and nothing else has to change.
"""

from __future__ import annotations

REQUEST = "request"
"""Any constraint of the request: a field, a parameter, the body, a media type."""
FILES = "files"
"""The request's file parts (image, image[], mask) and their encoding."""
REQUEST_MEDIA_TYPE = "request-media-type"
"""The request's media types (JSON, multipart), beyond what REQUEST covers."""
BODY = "body"
"""Whether the request body may be omitted."""
REQUIRED = "required"
"""Which request fields (or parameters) are required."""
FIELDS = "fields"
"""Which request fields exist (a field added or dropped, additionalProperties)."""
ENUM = "enum"
"""A request field's enum values."""
TYPE = "type"
"""A request field's type, format, pattern or const."""
RANGE = "range"
"""A request field's range (minimum, maximum, multipleOf ...)."""
AUTH = "auth"
"""The operation's security: its schemes and their headers."""
SUCCESS_STATUS = "success-status"
"""Which success statuses the operation documents."""
RESPONSE = "response"
"""The 200 JSON answer's schema."""
RESPONSE_MEDIA_TYPE = "response-media-type"
"""The 200 answer's media type, beyond what RESPONSE covers."""
IMAGES = "images"
"""The images of the 200 answer (its `data`)."""
STREAMING = "streaming"
"""The stream: text/event-stream, its event schema, the request fields that ask for it."""
ERRORS = "errors"
"""The error answers (4xx, 5xx) and their schema."""

KNOWN = frozenset(
    {
        REQUEST,
        FILES,
        REQUEST_MEDIA_TYPE,
        BODY,
        REQUIRED,
        FIELDS,
        ENUM,
        TYPE,
        RANGE,
        AUTH,
        SUCCESS_STATUS,
        RESPONSE,
        RESPONSE_MEDIA_TYPE,
        IMAGES,
        STREAMING,
        ERRORS,
    }
)
_FIELD = "field:"


def field(name: str) -> str:
    """One request field by name (n, size, response_format ...): a change of its constraints."""
    return f"{_FIELD}{name}"


def field_of(concern: str) -> str | None:
    """The request field a concern names (`field(name)`), else None."""
    return concern.removeprefix(_FIELD) or None if concern.startswith(_FIELD) else None


def is_known(concern: str) -> bool:
    return concern in KNOWN or field_of(concern) is not None
