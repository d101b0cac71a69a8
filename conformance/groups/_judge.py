"""Small judgements shared by the groups: turning a reply into observations, with messages saying what was expected."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator

from conformance.contract import OperationContract
from conformance.http import BudgetExhausted, Reply
from conformance.images import thumbnail
from conformance.model import Exchange, Observation, Unjudged

#: Thumbnails kept per exchange, for the HTML report.
MAX_THUMBNAILS = 2


def observe(requirement_id: str, operation: OperationContract, problem: str | None, reply: Reply | None) -> Observation:
    """An observation that passed when `problem` is None, else failed with `problem` as its message."""
    return Observation(
        requirement_id=requirement_id,
        operation_id=operation.operation_id,
        passed=problem is None,
        message=problem or "",
        exchange=reply.exchange if reply is not None else None,
    )


def skip(
    requirement_id: str, operation: OperationContract, why: str, reason: Unjudged = Unjudged.NO_EVIDENCE
) -> Observation:
    """The requirement was not judged on this operation: `why` in words, `reason` as the reports count it."""
    return Observation(requirement_id, operation.operation_id, passed=False, message=why, skipped=True, reason=reason)


def guarded(
    requirement_ids: tuple[str, ...], operation: OperationContract, probe: Callable[[], list[Observation]]
) -> list[Observation]:
    """Run a probe; when the budget is spent (or the target keeps answering 429) its requirements are not judged."""
    try:
        return probe()
    except BudgetExhausted as exc:
        return [skip(requirement_id, operation, str(exc), exc.reason) for requirement_id in requirement_ids]


def with_images(reply: Reply, images: list[bytes]) -> None:
    """Attach thumbnails of returned images to the reply's evidence."""
    thumbs = tuple(t for t in (thumbnail(image) for image in images[:MAX_THUMBNAILS]) if t is not None)
    if thumbs:
        reply.exchange = replace(reply.exchange, images=reply.exchange.images + thumbs)


def transport_problem(reply: Reply) -> str | None:
    """The reason there is no usable response (dropped connection, timeout), or None."""
    if reply.error is not None:
        got = f"status {reply.status} then " if reply.status is not None else ""
        return f"{got}no complete response: {reply.error}"
    return None


def expect_4xx(reply: Reply, sent: str) -> str | None:
    """None when the reply is a 4xx; else what was sent, what was expected and what came back."""
    problem = transport_problem(reply)
    if problem is not None:
        return f"{sent}: expected a 4xx, got {problem}"
    assert reply.status is not None
    if 400 <= reply.status < 500:
        return None
    return f"{sent}: expected a 4xx, got {reply.status}"


def error_body_problem(reply: Reply, operation: OperationContract) -> str | None:
    """None when an error reply carries the spec's error body: JSON, `error` object, non-empty string `message`."""
    if reply.status is None:
        return None  # no response at all: judged by the status requirement, not here
    body = reply.json()
    where = f"the {reply.status} body"
    if not isinstance(body, dict):
        return f"{where} is not a JSON object (Content-Type {reply.content_type or 'missing'})"
    if reply.content_type != "application/json":
        return f"{where} is JSON but its Content-Type is {reply.content_type or 'missing'!r}, not application/json"
    error = body.get("error")
    if not isinstance(error, dict):
        return f"{where} has no `error` object"
    message = error.get("message")
    if not isinstance(message, str) or not message.strip():
        return f"{where}: error.message is {message!r}, expected a non-empty string"
    if operation.error_schema is not None:
        problem = schema_problem(operation.error_schema, body)
        if problem is not None:
            return f"{where} does not match the spec's error schema: {problem}"
    return None


def schema_problem(schema: Mapping[str, Any], instance: Any) -> str | None:
    """The first way `instance` breaks `schema` (with its JSON path), or None."""
    error = next(iter(_validator(_Frozen(schema)).iter_errors(instance)), None)
    if error is None:
        return None
    path = "".join(f"[{p!r}]" if isinstance(p, str) else f"[{p}]" for p in error.absolute_path)
    return f"at body{path}: {error.message[:300]}"


class _Frozen:
    """Hashable wrapper by identity, so one validator is built per schema object (schemas are built once per run)."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = schema

    def __hash__(self) -> int:
        return id(self.schema)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Frozen) and other.schema is self.schema


@lru_cache(maxsize=128)
def _validator(schema: _Frozen) -> Any:
    return Draft202012Validator(schema.schema)


def exchange_of(reply: Reply | None) -> Exchange | None:
    return reply.exchange if reply is not None else None
