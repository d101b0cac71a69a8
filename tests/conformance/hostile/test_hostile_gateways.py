"""`pixelpact check` against hostile gateways (raw sockets on 127.0.0.1), as a real subprocess.

For each: the run ends within a stated bound, the three reports are written, the check's peak RSS stays under a
stated bound, nothing passes that was not judged, and the key (sent on every request) appears nowhere: not on the
console, not in any report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.conftest import API_KEY
from tests.conformance.hostile import servers
from tests.conformance.hostile.harness import REPORTS, Run, run_check

#: The check process holds ~90 MB once schemathesis, hypothesis and pydantic are imported; this leaves room for the
#: bodies in flight (2 x --max-body x --concurrency at most) without letting a leak through.
RSS_BOUND_MB = 250
#: Start-up (imports) is ~2 s on an idle machine; the bounds allow for a loaded one.
STARTUP = 10.0


def check(behaviour: servers.Behaviour, tmp_path: Path, *args: str, **options: Any) -> Run:
    with servers.serve(behaviour) as url:
        return run_check(url, "--seed", "1", *args, out=tmp_path, env={"PIXELPACT_API_KEY": API_KEY}, **options)


def assert_sound(run: Run, *, within: float, rss_mb: float = RSS_BOUND_MB) -> dict[str, Any]:
    """The run's JSON report, after checking what holds for every hostile gateway."""
    assert run.seconds < within, f"took {run.seconds:.1f} s, bound {within} s"
    assert sorted(run.reports) == sorted(REPORTS), run.stderr[-2000:]
    assert run.peak_rss_mb < rss_mb, f"peak RSS {run.peak_rss_mb:.0f} MB, bound {rss_mb} MB"
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    for form in (API_KEY, API_KEY[3:19], API_KEY[-16:]):
        assert form not in run.everything(), f"a form of the key ({form!r}) leaked"
    report: dict[str, Any] = json.loads(run.reports["report.json"])
    assert report["verdict"] != "pass"
    return report


def failure_messages(report: dict[str, Any]) -> str:
    return "\n".join(
        str(failure.get("message", "")) + str(failure.get("exchange", {}).get("error", ""))
        for result in report["requirements"]
        for failure in result["failures"]
    )


@pytest.mark.parametrize(
    "behaviour", [servers.never_answers, servers.resets, servers.garbage], ids=lambda b: b.__name__
)
def test_a_target_that_answers_nothing_stops_the_run_with_exit_2_and_one_line(
    behaviour: servers.Behaviour, tmp_path: Path
) -> None:
    # --timeout 1: a silent target is given up after SILENT_AFTER requests, not after every one of the run's hundreds
    run = check(behaviour, tmp_path, "--timeout", "1")
    report = assert_sound(run, within=STARTUP + 10)
    assert run.code == 2, run.stderr[-2000:]
    assert report["verdict"] == "error"
    lines = [line for line in run.stderr.splitlines() if "answered none of the first" in line]
    assert len(lines) == 1 and lines[0].startswith("pixelpact check: "), run.stderr


def test_a_run_the_clock_cuts_before_any_answer_is_incomplete_not_an_unreachable_target(tmp_path: Path) -> None:
    # each request may take 30 s, the run 1 s: the clock runs out before the target could answer or be called silent
    run = check(servers.never_answers, tmp_path, "--timeout", "30", "--max-time", "1")
    report = assert_sound(run, within=STARTUP + 10)
    assert run.code == 3, run.stderr[-2000:]
    assert report["verdict"] == "incomplete" and not report["errors"]
    reasons = {result.get("reason") for result in report["requirements"]}
    assert reasons == {"time"}, reasons
    assert "answered none of the first" not in run.everything()


def test_half_a_body_is_a_failure_not_a_hang(tmp_path: Path) -> None:
    run = check(servers.half_body, tmp_path, "--timeout", "2", "--group", "valid", "--operation", "createImage")
    report = assert_sound(run, within=STARTUP + 10)
    assert run.code == 1
    assert "no complete response" in failure_messages(report)


@pytest.mark.parametrize("behaviour", [servers.endless_sse, servers.trickle], ids=lambda b: b.__name__)
def test_an_answer_that_never_ends_is_cut_at_the_timeout(behaviour: servers.Behaviour, tmp_path: Path) -> None:
    """Every read succeeds (an event every 50 ms, a byte every 100 ms): only a total deadline ends the request."""
    run = check(behaviour, tmp_path, "--timeout", "1", "--group", "streaming", "--operation", "createImage")
    report = assert_sound(run, within=STARTUP + 8)
    assert run.code == 1
    # the stream asks for 2 images: --timeout is per image for a request asking for several (issue 10)
    assert "no complete response within 2 s (--timeout 1 s per image)" in failure_messages(report)


@pytest.mark.parametrize("behaviour", [servers.huge_body, servers.huge_chunked], ids=lambda b: b.__name__)
def test_a_50_mb_body_is_held_at_most_up_to_the_cap_and_is_a_finding_of_its_own(
    behaviour: servers.Behaviour, tmp_path: Path
) -> None:
    selection = ("--timeout", "10", "--profile", "quick", "--concurrency", "4")  # every group: ~250 requests
    # the same run against a gateway with small answers: what the process holds anyway (imports, ~120 MB)
    baseline = check(servers.yes_to_everything, tmp_path / "baseline", *selection).peak_rss_mb
    run = check(behaviour, tmp_path / "huge", *selection, "--max-body-mb", "4")
    # at most each of the 4 bodies in flight (4 MiB x 4), and some slack, however many answers were too large
    report = assert_sound(run, within=STARTUP + 30, rss_mb=baseline + 4 * 4 + 20)
    assert run.code == 1
    assert "BodyTooLarge" in failure_messages(report)
    # its own finding, saying what happened: the answers were too large, not dropped
    titles = {finding["id"]: finding["title"] for finding in report["findings"]}
    too_large = [title for finding_id, title in titles.items() if finding_id.startswith("F-too-large")]
    assert too_large and all("answers larger than 4 MB (the cap, --max-body-mb)" in title for title in too_large)
    assert not [finding_id for finding_id in titles if finding_id.startswith("F-no-response")], titles


def test_a_redirect_loop_is_an_answer_not_a_loop(tmp_path: Path) -> None:
    run = check(servers.redirect_loop, tmp_path, "--timeout", "2", "--group", "valid", "--group", "invalid")
    report = assert_sound(run, within=STARTUP + 15)
    assert run.code == 1
    assert "302" in failure_messages(report)


def test_yes_to_everything_fails(tmp_path: Path) -> None:
    run = check(servers.yes_to_everything, tmp_path, "--timeout", "2", "--group", "valid", "--group", "invalid")
    assert_sound(run, within=STARTUP + 15)
    assert run.code == 1


def test_credentials_echoed_in_header_names_and_values_never_reach_an_artefact(tmp_path: Path) -> None:
    run = check(
        servers.echoes_credentials,
        tmp_path,
        *("--timeout", "2", "--operation", "createImage", "--max-examples", "2"),
        *("--group", "auth", "--group", "valid", "--group", "schemathesis"),
    )
    report = assert_sound(run, within=STARTUP + 40)
    # the gateway did echo it, so the evidence was there to leak: header names and values carry the mask
    names = {
        name.lower()
        for result in report["requirements"]
        for failure in result["failures"]
        for name in (failure["exchange"] or {}).get("response_headers", {})
    }
    assert "x-echo-***" in names, names


def test_every_request_404_suggests_prefix(tmp_path: Path) -> None:
    run = check(servers.not_found, tmp_path, "--timeout", "2", "--group", "valid")
    assert_sound(run, within=STARTUP + 10)
    assert run.code == 1
    hints = [line for line in run.stderr.splitlines() if "every request got 404" in line]
    assert len(hints) == 1 and "--prefix" in hints[0], run.stderr


@pytest.mark.parametrize(
    ("behaviour", "group"),
    [
        (servers.yes_to_everything, "schemathesis"),  # schemathesis catches KeyboardInterrupt itself
        (servers.never_answers, "schemathesis"),  # ... while its worker thread waits on a silent socket
        (servers.yes_to_everything, "properties"),  # hypothesis in the main thread
    ],
    ids=["schemathesis", "schemathesis-hanging", "hypothesis"],
)
def test_ctrl_c_writes_interrupted_reports_and_exits_130(
    behaviour: servers.Behaviour, group: str, tmp_path: Path
) -> None:
    run = check(
        behaviour,
        tmp_path,
        *("--timeout", "30", "--group", group, "--max-examples", "200"),
        sigint_when=f"groups {group}",
        sigint_after=1.5,
    )
    report = assert_sound(run, within=STARTUP + 8)
    assert run.code == 130, run.stderr[-2000:]
    assert report["verdict"] == "interrupted" and report["interrupted"] is True
    assert "interrupted" in run.stderr
    assert 'name="run[interrupted]"' in run.reports["junit.xml"]
    assert ">INTERRUPTED<" in run.reports["report.html"]


def test_ctrl_c_while_starting_still_writes_the_reports(tmp_path: Path) -> None:
    run = check(servers.yes_to_everything, tmp_path, sigint_after=0.3)
    report = assert_sound(run, within=STARTUP + 5)
    assert run.code == 130
    assert report["verdict"] == "interrupted"
    assert 'name="run[interrupted]"' in run.reports["junit.xml"]
