"""Default limits of a check that the command line shows in `--help`: a module of its own, so that printing the
options does not import the HTTP layer (`pixelpact check --help` stays fast)."""

from __future__ import annotations

#: The default cap on a response body: far above what the suite asks for (small images, n <= a few), far below what
#: would exhaust memory at --concurrency requests in flight.
MAX_BODY = 32 * 1024 * 1024
