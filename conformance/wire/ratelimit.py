"""Pacing for providers with low rate limits: a client-side `--rate-limit N/s` (or N/min), and 429 handling.

A 429 is the provider (or the gateway) asking the suite to slow down, not a verdict on the request: the Sender waits
as Retry-After says (seconds or an HTTP date; RETRY_WAIT when absent), capped by the time left in the run's retry
allowance, and tries again within the budget. When the allowance or the retries are spent the probe raises
`RateLimited`, and its pairs end as not judged (rate-limited), never as failures.
"""

from __future__ import annotations

import email.utils
import re
import threading
import time
from collections.abc import Callable

from pixelpact.conformance.model import Unjudged
from pixelpact.conformance.wire.spend import BudgetExhausted

#: Retries of one request after a 429.
MAX_RETRIES = 3
#: Seconds to wait after a 429 that names no Retry-After.
RETRY_WAIT = 2.0
#: The longest single wait a Retry-After may ask for; longer ones end the request as rate limited at once.
MAX_WAIT = 60.0
#: Seconds a whole run may spend waiting on 429s (default; --rate-limit-wait).
RUN_WAIT = 300.0
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(s|sec|second|m|min|minute)\s*$", re.IGNORECASE)


class RateLimited(BudgetExhausted):
    """The target kept answering 429: the request's pairs are not judged (rate-limited)."""

    reason = Unjudged.RATE_LIMITED


def parse_rate(text: str) -> float:
    """Requests per second from "N/s" or "N/min"; ValueError naming the expected form."""
    match = _RATE.match(text)
    if match is None or float(match.group(1)) <= 0:
        raise ValueError(f"expected a rate like 2/s or 30/min, got {text!r}")
    per_second = float(match.group(1))
    return per_second / 60 if match.group(2).lower().startswith("m") else per_second


def retry_after(value: str | None, now: Callable[[], float] = time.time) -> float:
    """Seconds a Retry-After header asks for (delta seconds or an HTTP date); RETRY_WAIT when absent or unreadable."""
    if value is None or not value.strip():
        return RETRY_WAIT
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return RETRY_WAIT
    return max(0.0, when.timestamp() - now())


class Pacer:
    """Spaces requests to at most `per_second` (all threads together) and keeps the run's 429 waiting allowance."""

    def __init__(
        self,
        per_second: float | None = None,
        run_wait: float = RUN_WAIT,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._interval = 1.0 / per_second if per_second else 0.0
        self._next = 0.0
        self._wait_left = run_wait
        self._lock = threading.Lock()
        self._sleep = sleep
        self._clock = clock

    def before_request(self) -> None:
        """Block until this thread's request may go, keeping `interval` between request starts."""
        if not self._interval:
            return
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self._interval
        if start > now:
            self._sleep(start - now)

    def after_429(self, header: str | None, attempt: int) -> None:
        """Wait as the 429 asks before retry `attempt` (1-based); raises RateLimited when it may not retry."""
        wait = retry_after(header)
        with self._lock:
            if attempt > MAX_RETRIES:
                raise RateLimited(f"the target answered 429 (rate limited) {attempt} times in a row")
            if wait > MAX_WAIT or wait > self._wait_left:
                raise RateLimited(
                    f"the target answered 429 asking to wait {wait:.0f}s, more than the run may still wait "
                    f"({min(MAX_WAIT, self._wait_left):.0f}s)"
                )
            self._wait_left -= wait
            # later requests of every thread wait too: the limit is the target's, not this request's
            self._next = max(self._next, self._clock() + wait)
        self._sleep(wait)
