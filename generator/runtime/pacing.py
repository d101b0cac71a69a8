"""A stub that behaves like a slow, rate-limited provider: latency per request and per image, and a request rate limit.

    pixelpact serve --latency 2000/image --rate-limit 5/min
    stub_server(StubConfig(latency_per_image_ms=2000, rate_limit_requests=5, rate_limit_period=60))

Latency: every answered image request waits `latency_per_request_ms`, plus `latency_per_image_ms` for each image it
generates, before its answer (or its event stream) starts. Rate limit: a token bucket of `rate_limit_requests` tokens
refilled over `rate_limit_period` seconds; a request on an image route when it is empty gets 429 with the error body
and `Retry-After` (whole seconds until a token is back), as OpenAI does. With `--workers N` each worker has its own
bucket.
"""

from __future__ import annotations

import asyncio
import math
import re
import time

from pixelpact.generator.runtime.errors import GatewayError

_LATENCY = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(?:ms)?\s*(?:/\s*(request|req|image|img))?\s*", re.IGNORECASE)
_RATE = re.compile(r"\s*([0-9]+)\s*/\s*(s|sec|second|m|min|minute|h|hour)\s*", re.IGNORECASE)
_PERIODS = {"s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0, "h": 3600.0, "hour": 3600.0}


def parse_latency(text: str) -> tuple[float, float]:
    """`MS`, `MS/request` or `MS/image` as (per-request ms, per-image ms); ValueError names the accepted forms."""
    match = _LATENCY.fullmatch(text)
    if match is None:
        raise ValueError(f"latency {text!r} is not MS, MS/request or MS/image (e.g. 2000/image)")
    ms = float(match[1])
    return (0.0, ms) if (match[2] or "").lower() in {"image", "img"} else (ms, 0.0)


def parse_rate(text: str) -> tuple[int, float]:
    """`N/s`, `N/min` or `N/h` as (requests, period in seconds); ValueError names the accepted forms."""
    match = _RATE.fullmatch(text)
    if match is None or int(match[1]) < 1:
        raise ValueError(f"rate limit {text!r} is not N/s, N/min or N/h with N at least 1 (e.g. 5/min)")
    return int(match[1]), _PERIODS[match[2].lower()]


def delay_seconds(per_request_ms: float, per_image_ms: float, images: int) -> float:
    """How long an answer generating `images` images waits."""
    return (per_request_ms + per_image_ms * images) / 1000


async def wait(seconds: float) -> None:
    """Sleep at least `seconds`: the event loop's timers may fire a little early (uvloop keeps them in whole
    milliseconds), and a provider said to take 550 ms must not answer in 549."""
    deadline = time.perf_counter() + seconds
    while (left := deadline - time.perf_counter()) > 0:
        await asyncio.sleep(left)


class RateLimiter:
    """A token bucket: `requests` per `period` seconds, bursts up to `requests`."""

    def __init__(self, requests: int, period: float) -> None:
        self.capacity = float(requests)
        self.rate = requests / period
        self.tokens = self.capacity
        self.updated = time.monotonic()

    def take(self) -> None:
        """Use a token, or raise the 429 GatewayError with Retry-After."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return
        wait = math.ceil((1 - self.tokens) / self.rate)
        raise GatewayError(
            429,
            f"rate limit reached: {self.capacity:g} requests per {self.capacity / self.rate:g} s; retry after {wait} s",
            None,
            "rate_limit_error",
            code="rate_limit_exceeded",
            headers={"Retry-After": str(max(1, wait))},
        )
