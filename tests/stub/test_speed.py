"""What makes the stub fast keeps its answers the same: one write per small answer, pictures drawn once and off the
event loop, and answers encoded once per request shape (bench/RESULTS-stub.md has the figures)."""

from __future__ import annotations

import socket
import struct
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from pixelpact.generator.runtime import images, responses
from pixelpact.generator.runtime.config import StubConfig
from pixelpact.generator.runtime.fallbacks import Choice
from pixelpact.generator.runtime.serve import stub_server
from tests.stub.conftest import AppFactory
from tests.stub.test_gateway import conforms

JSON_REQUEST = b'{"model":"openai/dall-e-3","prompt":"a red fox","n":1,"size":"256x256"}'


def data_segments_received(sock: socket.socket) -> int:
    """Linux's count of TCP segments with data that reached `sock` (tcp_info.tcpi_data_segs_in)."""
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    if len(info) < 156:
        pytest.skip("this kernel's tcp_info has no tcpi_data_segs_in")
    return int(struct.unpack_from("I", info, 152)[0])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="tcp_info is Linux's")
def test_a_small_answer_is_one_write(stub_url: str) -> None:
    """Head and body in one write: one TCP segment per answer reaches the client, not two (uvicorn writes twice)."""
    host, port = stub_url.removeprefix("http://").rsplit(":", 1)
    request = (
        b"POST /v1/images/generations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%b" % (len(JSON_REQUEST), JSON_REQUEST)
    )
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        before = data_segments_received(sock)
        for _ in range(20):
            sock.sendall(request)
            answer = b""
            while b"\r\n\r\n" not in answer or len(answer.partition(b"\r\n\r\n")[2]) < length(answer):
                answer += sock.recv(65536)
            assert orjson.loads(answer.partition(b"\r\n\r\n")[2])["data"][0]["url"].endswith(".png")
        assert data_segments_received(sock) - before == 20


def length(raw: bytes) -> int:
    head = raw.partition(b"\r\n\r\n")[0].lower()
    return int(head.split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0])


@pytest.fixture
def slow_draw(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Drawing a picture takes 1 s (as a huge one might), and says which thread drew it."""
    threads: list[str] = []
    draw = images._draw

    def slow(spec: images.ImageSpec) -> bytes:
        threads.append(threading.current_thread().name)
        time.sleep(1.0)  # sleeps release the GIL, as Pillow does while it draws and encodes
        return draw(spec)

    monkeypatch.setattr(images, "_draw", slow)
    for spec in list(images.ENCODED):
        if spec.size == "1792x1024":
            monkeypatch.delitem(images.ENCODED, spec)
    yield threads


def test_a_picture_being_drawn_holds_up_no_other_connection(app_factory: AppFactory, slow_draw: list[str]) -> None:
    config = StubConfig()
    with stub_server(config, app=app_factory(config)) as url:
        answers: dict[str, Any] = {}

        def first_b64() -> None:
            body = {"model": "dall-e-3", "prompt": "a fox", "size": "1792x1024", "response_format": "b64_json"}
            answers["b64"] = httpx.post(f"{url}/v1/images/generations", json=body, timeout=10)

        drawing = threading.Thread(target=first_b64)
        drawing.start()
        while not slow_draw:
            time.sleep(0.01)
        start = time.perf_counter()
        health = httpx.get(f"{url}/_pixelpact/health", timeout=10)
        waited = time.perf_counter() - start
        drawing.join(10)
    assert health.status_code == 200
    assert waited < 0.5, f"a health check waited {waited:.2f} s for another request's picture"
    assert answers["b64"].status_code == 200
    conforms(answers["b64"].json(), "ImageResponse")
    assert slow_draw and all(not name.startswith("pixelpact-stub-") for name in slow_draw), slow_draw


def test_a_picture_is_encoded_once() -> None:
    spec = images.ImageSpec(512, 512, "webp", variant=4)
    first = images.encoded(spec)
    assert images.encoded(spec) is first
    assert first.b64 == images.render_b64(spec) and first.data == images.render(spec)
    assert orjson.loads(b"[" + orjson.dumps(first.json_b64) + b"]") == [first.b64]


@pytest.mark.parametrize("response_format", ["url", "b64_json"])
@pytest.mark.parametrize("prompt", ["a fox", None])
def test_an_answer_from_the_cache_is_the_answer_built_afresh(response_format: str, prompt: str | None) -> None:
    fields = {"size": "256x256", "n": 3, "response_format": response_format, "prompt": prompt}
    plan = responses.make_plan("generation", fields, "dall-e-3", Choice("openai/dall-e-3", 1), 0)
    for _ in range(2):  # encoded, then from the cache
        fresh = orjson.loads(orjson.dumps(responses.image_response(plan, "http://127.0.0.1:1/", time.perf_counter())))
        cached = orjson.loads(responses.image_response_body(plan, "http://127.0.0.1:1/", time.perf_counter()))
        assert list(cached) == list(fresh) and list(cached["extra_fields"]) == list(fresh["extra_fields"])
        conforms(cached, "ImageResponse")
        for answer in (cached, fresh):
            assert answer.pop("id").startswith("img-")
            assert abs(answer.pop("created") - time.time()) < 5
            assert answer["extra_fields"].pop("latency") >= 0
        assert cached == fresh
    ids = {orjson.loads(responses.image_response_body(plan, "http://x/", 0.0))["id"] for _ in range(50)}
    assert len(ids) == 50
