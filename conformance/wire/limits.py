"""Default limits of a check that the command line shows in `--help`: a module of its own, so that printing the
options does not import the HTTP layer (`pixelpact check --help` stays fast)."""

from __future__ import annotations

#: The default cap on a response body: far above what the suite asks for (small images, n <= a few), far below what
#: would exhaust memory at --concurrency requests in flight.
MAX_BODY = 32 * 1024 * 1024
#: How the transport error of an answer beyond the cap starts (the answer was refused unread, or cut at the cap).
TOO_LARGE = "BodyTooLarge"


def cap_text(max_body: int) -> str:
    """The body cap as --max-body-mb says it: "32 MB", "0.5 MB"."""
    return f"{max_body / 2**20:g} MB"
