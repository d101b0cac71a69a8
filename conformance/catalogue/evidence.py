"""Which answers are evidence about what was sent, and which only say the request never reached the operation.

A gateway that wants credentials answers 401 to every request, valid or not; one whose route is elsewhere answers
404; a rate limit answers 429; a redirect answers nothing yet. None of those says whether the request's content was
acceptable, so none counts as accepting a valid request or as rejecting an invalid one: the pair is not judged (or,
once findings explain it, blocked), never passed.
"""

from __future__ import annotations

#: Statuses a gateway gives before it reads the request's content: credentials, route, method, rate limit.
UNATTRIBUTABLE: dict[int, str] = {
    401: "the gateway wants credentials",
    403: "the gateway refuses these credentials",
    404: "the route is not served",
    405: "the method is not served on this route",
    407: "a proxy wants credentials",
    429: "the gateway is rate limiting",
}
#: Statuses that never count as accepting a valid request: the unattributable ones, a conflict, and 5xx (judged as
#: a server error on its own).
NOT_ACCEPTANCE = frozenset({*UNATTRIBUTABLE, 409})


def unattributable(status: int | None) -> str | None:
    """Why an answer with `status` says nothing about the content of the request, or None when it does."""
    if status is None:
        return None
    if 300 <= status < 400:
        return f"{status}: a redirect, not an answer"
    why = UNATTRIBUTABLE.get(status)
    return f"{status}: {why}" if why else None


def accepted(status: int | None) -> bool:
    """A 2xx: the only answer that shows a valid request was accepted."""
    return status is not None and 200 <= status < 300


def rejected(status: int | None) -> bool:
    """A 4xx attributable to the request's content (400, 413, 415, 422, ...): the only answer that shows an invalid
    request was rejected for being invalid."""
    return status is not None and 400 <= status < 500 and unattributable(status) is None


def reached(status: int | None) -> bool:
    """Whether an answer came from the operation itself (not a redirect, the auth layer, the router or a limiter)."""
    return status is not None and unattributable(status) is None
