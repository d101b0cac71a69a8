"""The spec's error body (Bifrost's `BifrostError` envelope) and the exceptions that produce it."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from starlette.responses import Response

#: Where the stub's HTTP layer leaves (status, message) in a request's ASGI scope when it answered the client itself
#: (e.g. 408 for a body that stopped coming), so the recording says what the client got.
WIRE_ERROR = "pixelpact.wire_error"


class GatewayError(Exception):
    """A request the gateway refuses: answered with the spec's error body and `status`; `param` names the field."""

    def __init__(
        self,
        status: int,
        message: str,
        param: str | None = None,
        error_type: str = "invalid_request_error",
        *,
        code: str | None = None,
        extra_fields: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        is_bifrost_error: bool = True,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.error_type = error_type
        self.code = code
        self.extra_fields = extra_fields or {}
        self.headers = headers or {}
        self.is_bifrost_error = is_bifrost_error

    def body(self) -> dict[str, Any]:
        """The BifrostError JSON: OpenAI clients read `error`, Bifrost clients also `status_code`."""
        error: dict[str, Any] = {"message": self.message, "type": self.error_type, "param": self.param}
        if self.code is not None:
            error["code"] = self.code
        return {
            # Bifrost marks errors of its own making true and errors relayed from a provider false.
            "is_bifrost_error": self.is_bifrost_error,
            "status_code": self.status,
            "error": error,
            "extra_fields": self.extra_fields,
        }

    def response(self) -> Response:
        return Response(
            json.dumps(self.body(), separators=(",", ":")),
            status_code=self.status,
            media_type="application/json",
            headers=self.headers,
        )


def _wire_name(loc: tuple[int | str, ...]) -> str | None:
    """The request field an error is about: the first element of pydantic's location (aliases are wire names)."""
    for part in loc:
        if isinstance(part, str) and part not in {"body", "query", "path"}:
            return part
    return None


def from_validation_error(exc: ValidationError) -> GatewayError:
    """A 400 naming the first offending field by its wire name; the message lists every problem, without echoing input.

    Input values are left out on purpose: they may be megabytes of image bytes or contain control characters.
    """
    problems: list[str] = []
    param: str | None = None
    for err in exc.errors(include_url=False, include_input=False):
        loc = tuple(err.get("loc", ()))
        name = _wire_name(loc)
        if param is None:
            param = name
        where = ".".join(str(p) for p in loc) if loc else "body"
        problems.append(f"{where}: {err.get('msg', 'invalid value')}")
    message = "; ".join(problems) if problems else "the request is invalid"
    return GatewayError(400, message, param)
