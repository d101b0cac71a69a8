"""The Sender's bounds, in-process: a total deadline per request, a body cap, the run's time, an abort, and the
Redactor removing the key from header names."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path
from types import FrameType

import pytest

from pixelpact.conformance.model import Exchange, Observation, Status, Unjudged, Verdict
from pixelpact.conformance.reporting import render, to_html, to_json, to_junit
from pixelpact.conformance.wire.http import Redactor, Reply, Sender, TimeUp, WireRequest, body_excerpt
from pixelpact.conformance.wire.interrupts import in_finalizer
from pixelpact.generator.runtime.credentials import KEY_HEADERS
from tests.conformance.conftest import API_KEY, run
from tests.conformance.hostile import servers


def sender(**options: object) -> Sender:
    settings: dict[str, object] = {"timeout": 5.0, "concurrency": 2, "max_requests": None, "redactor": Redactor()}
    settings.update(options)
    return Sender(**settings)  # type: ignore[arg-type]


def get(url: str) -> WireRequest:
    return WireRequest("POST", url + "/v1/images/generations", json_body={"prompt": "x"})


@pytest.mark.parametrize(
    "behaviour", [servers.trickle, servers.endless_sse, servers.slow_headers, servers.never_answers]
)
def test_a_request_ends_at_its_total_deadline(behaviour: servers.Behaviour) -> None:
    with servers.serve(behaviour) as url:
        client = sender(timeout=0.6)
        started = time.monotonic()
        reply = client.send(get(url))
        took = time.monotonic() - started
        client.close()
    assert 0.5 < took < 1.2, took
    assert reply.error is not None and reply.error.startswith("Timeout: no complete response within 0.6 s")


def received_within(behaviour: servers.Behaviour, cap: int) -> tuple[Reply, int, float]:
    """The reply to one request, the peak of memory Python allocated meanwhile, and the seconds it took."""
    with servers.serve(behaviour) as url:
        client = sender(max_body=cap)
        tracemalloc.start()
        started = time.monotonic()
        try:
            reply = client.send(get(url))
            took = time.monotonic() - started
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
            client.close()
    return reply, peak, took


def test_a_body_declared_beyond_the_cap_is_refused_unread() -> None:
    cap = 2 * 2**20
    reply, peak, took = received_within(servers.huge_body, cap)  # Content-Length: 50 MB
    assert reply.status == 200 and reply.content == b""
    assert reply.error == (
        f"BodyTooLarge: the answer declares {servers.HUGE} bytes (Content-Length), more than the 2 MB cap "
        "(--max-body-mb): not read"
    )
    assert peak < cap / 4, peak  # not a byte of the body held
    assert took < 0.5, took


def test_a_chunked_body_beyond_the_cap_stops_at_the_cap_and_is_not_held_twice() -> None:
    cap = 2 * 2**20
    reply, peak, _ = received_within(servers.huge_chunked, cap)  # no Content-Length: only reading tells
    assert reply.error == "BodyTooLarge: the answer is larger than the 2 MB cap (--max-body-mb): read up to it"
    # read up to the cap, shown in the excerpt, and not kept after: a run of many such answers holds none of them
    assert reply.status == 200 and reply.content == b""
    assert f"<{cap} bytes in all>" in reply.exchange.body_excerpt and len(reply.exchange.body_excerpt) < 1400
    # the body once while it is read (a growing buffer handed over, not chunks joined): never the 50 MB sent
    assert peak < 1.6 * cap, peak


def test_the_run_time_cuts_a_request_in_flight_and_refuses_the_next() -> None:
    with servers.serve(servers.never_answers) as url:
        client = sender(timeout=30.0, max_time=0.5)
        started = time.monotonic()
        with pytest.raises(TimeUp):  # a request cut by --max-time is no evidence: the probe is skipped (time)
            client.send(get(url))
        assert time.monotonic() - started < 1.0
        with pytest.raises(TimeUp):
            client.send(get(url))
        client.close()
    assert client.stopped is not None and client.stopped.reason is Unjudged.TIME


def test_interrupt_ends_a_request_blocked_in_another_thread() -> None:
    with servers.serve(servers.never_answers) as url:
        client = sender(timeout=30.0)
        outcome: list[BaseException] = []

        def send() -> None:
            try:
                client.send(get(url))
            except BaseException as exc:  # the KeyboardInterrupt is the point
                outcome.append(exc)

        thread = threading.Thread(target=send)
        thread.start()
        time.sleep(0.3)
        interrupted = time.monotonic()
        client.interrupt()
        thread.join(5)
        assert time.monotonic() - interrupted < 0.6
        client.close()
    assert len(outcome) == 1 and isinstance(outcome[0], KeyboardInterrupt)


def test_the_redactor_masks_header_names_messages_and_bytes() -> None:
    redact = Redactor([API_KEY])
    exchange = Exchange("GET", "http://x", "curl", 200, ((f"X-Echo-{API_KEY}", f"Bearer {API_KEY}"),), API_KEY)
    observation = redact.observation(Observation("r", "op", False, f"got {API_KEY}", exchange=exchange))
    assert API_KEY not in repr(observation)
    assert observation.exchange is not None and observation.exchange.response_headers == (("X-Echo-***", "Bearer ***"),)
    assert API_KEY not in body_excerpt(b'{"k": "' + API_KEY.encode() + b'"}' + b"A" * 10_000, redact)
    redact.add("custom-header-secret")
    assert redact("x custom-header-secret y") == "x *** y"


def test_max_time_leaves_the_rest_not_judged_time_and_the_run_incomplete(stub_url: str) -> None:
    started = time.monotonic()
    report = run(stub_url, max_time=1.0)
    assert time.monotonic() - started < 4.0
    assert report.verdict is Verdict.INCOMPLETE and report.exit_status == 3
    assert report.coverage().not_judged.get(Unjudged.TIME, 0) > 0
    assert not any(result.status is Status.FAILED for result in report.results)
    # where the clock stopped it depends on the machine: the report says the seed does not repeat it
    assert any(note.startswith("the clock cut this run short (not judged: time)") for note in report.notes)


def test_a_password_in_the_base_url_is_redacted_like_the_key() -> None:
    secret = "pw-in-the-url-5e1d"
    with servers.serve(servers.echoes_credentials) as url:
        report = run(
            url.replace("http://", f"http://me:{secret}@"), groups=("valid",), operations=("createImage",), timeout=2.0
        )
    assert report.requests_sent > 0 and "***@127.0.0.1" in report.target
    for text in (to_json(report), to_junit(report), to_html(report), render(report, color=False)):
        assert secret not in text


def test_a_key_in_any_header_a_key_travels_in_is_redacted_like_the_key() -> None:
    """Each of credentials.KEY_HEADERS given with --header: the gateway echoes every one of them in header names,
    header values and its body, and no output holds any."""
    secrets = {name: f"kh{index}-{name}-5e1d0c9a" for index, name in enumerate(KEY_HEADERS)}
    headers = tuple(
        (name.title(), f"Bearer {value}" if "authorization" in name else value) for name, value in secrets.items()
    )
    with servers.serve(servers.echoes_credentials) as url:
        report = run(url, groups=("valid",), operations=("createImage",), timeout=2.0, headers=headers)
    echoed = {
        name.lower()
        for result in report.results
        for failure in result.failures
        if failure.exchange is not None
        for name, _ in failure.exchange.response_headers
    }
    assert report.requests_sent > 0 and "x-echo-***" in echoed, echoed  # the evidence was there to leak
    for text in (to_json(report), to_junit(report), to_html(report), render(report, color=False)):
        for secret in secrets.values():
            assert secret not in text, secret


def test_a_ctrl_c_during_a_finalizer_does_not_raise_where_python_would_drop_it() -> None:
    frames: list[FrameType] = []

    class Dying:
        def __del__(self) -> None:
            frame = sys._getframe()
            frames.append(frame)

    Dying()
    assert in_finalizer(frames[0])
    assert not in_finalizer(sys._getframe())


CTRL_C_INSIDE_EXEC = """
import os, signal, time
from pixelpact.conformance.wire.interrupts import on_interrupt

try:
    with on_interrupt(lambda: None):
        exec("os.kill(os.getpid(), signal.SIGINT)\\nfor _ in range(3): pass")
        print("exec returned", flush=True)
        time.sleep(10)
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


def test_a_ctrl_c_inside_code_run_from_a_string_is_caught_without_the_process_dying_of_sigint(tmp_path: Path) -> None:
    # dataclasses and namedtuple exec() their methods from strings; a KeyboardInterrupt leaving such code made CPython
    # end `pixelpact check` by SIGINT (-2) after it had written its interrupted reports, instead of exiting 130
    script = tmp_path / "ctrl_c_inside_exec.py"
    script.write_text(CTRL_C_INSIDE_EXEC)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout) == (0, "exec returned\ninterrupted\n"), done.stderr[-2000:]
