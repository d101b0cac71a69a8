"""A slow, rate-limited provider: `serve --latency` and `--rate-limit`, also from stub_server()."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from pixelpact.generator.runtime.config import StubConfig
from pixelpact.generator.runtime.pacing import parse_latency, parse_rate
from tests.stub.test_gateway import error_of

GEN = "/v1/images/generations"


def test_latency_and_rate_syntax() -> None:
    assert parse_latency("2000/image") == (0.0, 2000.0)
    assert parse_latency("150") == parse_latency("150ms/request") == (150.0, 0.0)
    assert parse_rate("5/s") == (5, 1.0) and parse_rate("60/min") == (60, 60.0)
    for bad in ("fast", "-1", "2000/pixel"):
        with pytest.raises(ValueError, match="MS/image"):
            parse_latency(bad)
    for bad in ("5", "0/s", "5/day"):
        with pytest.raises(ValueError, match="N/min"):
            parse_rate(bad)


def timed(client: httpx.Client, body: dict[str, Any]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = client.post(GEN, json=body)
    return response, time.monotonic() - started


def test_latency_per_request_and_per_image(run_stub: Callable[[StubConfig], Any]) -> None:
    config = StubConfig(latency_per_request_ms=100, latency_per_image_ms=150)
    with run_stub(config) as url, httpx.Client(base_url=url, timeout=10) as c:
        one, t1 = timed(c, {"model": "dall-e-2", "prompt": "p"})
        three, t3 = timed(c, {"model": "dall-e-2", "prompt": "p", "n": 3})
        assert one.status_code == three.status_code == 200
        assert 0.25 <= t1 < 1.5 and 0.55 <= t3 < 2.0
        assert three.json()["extra_fields"]["latency"] >= 550  # the answer reports the time it took
        invalid, t0 = timed(c, {"model": "dall-e-2"})  # refusals are not slowed: no image is generated
        assert invalid.status_code == 400 and t0 < 0.25


def test_slow_answers_do_not_queue_behind_each_other(run_stub: Callable[[StubConfig], Any]) -> None:
    with run_stub(StubConfig(latency_per_image_ms=500)) as url:

        async def burst() -> float:
            async with httpx.AsyncClient(base_url=url, timeout=10) as c:
                started = time.monotonic()
                answers = await asyncio.gather(*(c.post(GEN, json={"model": "m", "prompt": "p"}) for _ in range(8)))
                assert all(a.status_code == 200 for a in answers)
                return time.monotonic() - started

        assert asyncio.run(burst()) < 2.0  # eight half-second answers in parallel, not four seconds in a row


def test_rate_limit_answers_429_with_retry_after(run_stub: Callable[[StubConfig], Any]) -> None:
    with run_stub(StubConfig(rate_limit_requests=3, rate_limit_period=1.0)) as url, httpx.Client(base_url=url) as c:
        body = {"model": "dall-e-2", "prompt": "p"}
        assert [c.post(GEN, json=body).status_code for _ in range(3)] == [200, 200, 200]
        limited = c.post(GEN, json=body)
        error = error_of(limited, 429)
        assert error["error"]["type"] == "rate_limit_error" and error["error"]["code"] == "rate_limit_exceeded"
        assert limited.headers["retry-after"] == "1"
        assert c.get("/_pixelpact/health").status_code == 200  # the stub's own routes are not limited
        time.sleep(float(limited.headers["retry-after"]))
        assert c.post(GEN, json=body).status_code == 200
        statuses = [e["status"] for e in c.get("/_pixelpact/requests").json()["requests"]]
        assert statuses == [200, 200, 200, 429, 200]


def test_a_per_minute_limit_says_how_long_to_wait(run_stub: Callable[[StubConfig], Any]) -> None:
    with run_stub(StubConfig(rate_limit_requests=2, rate_limit_period=60)) as url, httpx.Client(base_url=url) as c:
        body = {"model": "dall-e-2", "prompt": "p"}
        assert [c.post(GEN, json=body).status_code for _ in range(2)] == [200, 200]
        limited = c.post(GEN, json=body)
        assert limited.status_code == 429 and 25 <= int(limited.headers["retry-after"]) <= 30
