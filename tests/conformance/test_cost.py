"""Checking a gateway without a surprise bill: images counted and capped, budgets spent breadth first, 429s waited
out (never a failure), profiles with safe defaults. Real stubs on loopback behind a provider meter (metering.Meter)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from pixelpact.conformance.api import CheckOptions, profile_of
from pixelpact.conformance.cli import main
from pixelpact.conformance.cli.plan import DRAWN_GROUPS, make_plan, needs_plan, planned_check
from pixelpact.conformance.engine.profiles import DEEP, QUICK, cheapest_cover
from pixelpact.conformance.model import Status, Unjudged, Verdict
from pixelpact.conformance.reporting.console import verdict_line
from pixelpact.conformance.wire.http import Part, Redactor, Sender, WireRequest
from pixelpact.conformance.wire.ratelimit import Pacer, RateLimited, parse_rate, retry_after
from pixelpact.conformance.wire.spend import Ask, Budget, BudgetExhausted, ask_of, body_fields
from pixelpact.generator.runtime.config import StubConfig
from pixelpact.generator.runtime.serve import default_app, stub_server
from tests.conformance.conftest import failing, run
from tests.conformance.metering import Meter

GENERATIONS = "http://gw/v1/images/generations"


@contextmanager
def metered(**meter: object) -> Iterator[tuple[str, Meter]]:
    """The stub behind a provider meter, on loopback."""
    wrapper = Meter(default_app(StubConfig()), **meter)  # type: ignore[arg-type]
    with stub_server(app=wrapper) as url:
        yield url, wrapper


# --- counting ---------------------------------------------------------------------------------------------------


def test_images_asked_are_read_from_json_multipart_and_raw_bodies() -> None:
    assert ask_of("POST", GENERATIONS, body_fields({"n": 3, "size": "256x256"}, None, None, None)) == Ask(3, 0.196608)
    parts = (Part("n", "2"), Part("image", b"\x89PNG", filename="a.png"))
    assert ask_of("POST", "http://gw/v1/images/edits", body_fields(None, parts, None, None)).images == 2
    raw = b'--b\r\nContent-Disposition: form-data; name="n"\r\n\r\n4\r\n--b--\r\n'
    assert ask_of("POST", "http://gw/v1/images/variations", body_fields(None, None, raw, "multipart/form-data")) == Ask(
        4, 4 * 1024 * 1024 / 1e6
    )
    assert ask_of("POST", GENERATIONS, body_fields(None, None, b'{"prompt": "x"}', "application/json")).images == 1
    # a request the contract says must be refused asks for nothing; nor does a GET of a returned image
    for refused in ({"n": 0}, {"n": 11}, {"n": "abc"}, {"n": True}, {"size": "banana"}):
        assert ask_of("POST", GENERATIONS, body_fields(refused, None, None, None)).images == 0, refused
    assert ask_of("GET", GENERATIONS, {}).images == 0


def test_the_image_budget_refuses_the_request_that_would_go_over() -> None:
    budget = Budget(max_images=3)
    budget.spend(Ask(2, 0.5))
    budget.spend(Ask(0, 0.0))  # requests that make no image always go
    with pytest.raises(BudgetExhausted, match="image budget"):
        budget.spend(Ask(2, 0.5))
    budget.spend(Ask(1, 0.25))
    assert (budget.spent.requests, budget.spent.images) == (3, 3)


def test_max_images_caps_what_the_provider_generates(tmp_path: object) -> None:
    with metered() as (url, meter):
        report = run(url, groups=("valid",), operations=("createImage",), max_images=1)
    assert meter.images <= 1
    assert report.spent["images"] <= 1
    assert report.verdict is Verdict.INCOMPLETE
    budget = [r for r in report.results if r.status is Status.NOT_JUDGED and r.reason is Unjudged.BUDGET]
    assert budget and all("image budget" in r.message for r in budget)


def test_the_report_says_what_was_spent_per_group(stub_url: str) -> None:
    report = run(stub_url, groups=("valid", "invalid"), operations=("createImage",), profile="quick")
    groups = report.spent["groups"]
    assert set(groups) == {"valid", "invalid"}
    total = groups["valid"]["requests"] + groups["invalid"]["requests"]
    assert total == report.requests_sent == report.spent["requests"]
    assert groups["valid"]["images"] > 0
    assert f"{report.spent['images']} images asked" in verdict_line(report)


def test_a_bad_rate_limit_is_one_line_naming_the_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "--rate-limit", "fast"])
    assert exit_info.value.code == 2
    assert "--rate-limit: expected a rate like 2/s or 30/min, got 'fast'" in capsys.readouterr().err


# --- breadth first ----------------------------------------------------------------------------------------------


def test_a_budget_gives_every_pair_its_cheapest_exchange_before_any_depth(stub_url: str) -> None:
    selection = {"groups": ("valid", "invalid", "robustness"), "operations": ("createImage",)}
    quick = run(stub_url, profile="quick", **selection)
    judged = {(r.requirement.id, r.operation_id) for r in quick.results if r.status is Status.PASSED}
    # deep with the quick run's request count: depth alone would spend it all in the valid group
    report = run(stub_url, profile="deep", max_requests=quick.requests_sent + 5, **selection)
    assert report.requests_sent == quick.requests_sent + 5
    assert judged <= {(r.requirement.id, r.operation_id) for r in report.results if r.status is Status.PASSED}
    assert not failing(report)


def test_the_valid_control_is_sent_once_per_run_and_asks_for_the_smallest_image(stub_url: str) -> None:
    selection = {"operations": ("createImage",), "profile": "quick"}
    alone = {group: run(stub_url, groups=(group,), **selection) for group in ("invalid", "robustness")}
    together = run(stub_url, groups=("invalid", "robustness"), **selection)
    # each group alone sends the operation's control; run together, robustness reuses the one invalid sent
    assert together.requests_sent == sum(report.requests_sent for report in alone.values()) - 1
    assert together.spent["groups"]["robustness"]["requests"] == alone["robustness"].requests_sent - 1
    assert together.spent["groups"]["invalid"] == alone["invalid"].spent["groups"]["invalid"]
    judged = {(r.requirement.id, r.status) for report in alone.values() for r in report.results}
    assert {(r.requirement.id, r.status) for r in together.results} == judged
    assert not failing(together)
    plan = make_plan(CheckOptions(base_url=stub_url, groups=("invalid", "robustness"), seed=together.seed, **selection))
    assert plan.total["requests"] == together.requests_sent  # the plan counts the shared control once too
    with metered() as (url, meter):
        run(url, groups=("invalid",), **selection)
    # the control is the only request the stub makes an image for: one, at createImage's smallest size (256x256)
    assert (meter.images, meter.megapixels) == (1, 256 * 256 / 1e6)


# --- rate limits --------------------------------------------------------------------------------------------------


def test_429s_are_waited_out_and_retried() -> None:
    with metered(busy=2) as (url, meter):
        report = run(url, groups=("valid", "invalid"), operations=("createImage",), profile="quick", concurrency=1)
    assert meter.rejected == 2
    assert report.verdict is Verdict.PASS, report.coverage().line()
    assert report.requests_sent == meter.requests  # every retry is counted against the budget


def test_a_target_that_keeps_answering_429_leaves_pairs_rate_limited_never_failed() -> None:
    with metered(busy=-1) as (url, _):
        report = run(url, operations=("createImage",), profile="quick", groups=("valid", "invalid", "schemathesis"))
    assert not failing(report)
    limited = [r for r in report.results if r.reason is Unjudged.RATE_LIMITED]
    assert {r.requirement.group for r in limited} == {"valid", "invalid", "schemathesis"}
    assert all(r.status is Status.NOT_JUDGED for r in limited)
    assert report.verdict is not Verdict.PASS


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after("3") == 3.0
    assert retry_after("Wed, 02 Dec 2026 04:00:10 GMT", now=lambda: 1_796_184_000.0) == 10.0
    assert retry_after(None) == retry_after("soon") == 2.0


def test_a_long_retry_after_ends_the_request_as_rate_limited_without_waiting() -> None:
    waits: list[float] = []
    pacer = Pacer(sleep=waits.append)
    with pytest.raises(RateLimited, match="asking to wait 3600s"):
        pacer.after_429("3600", attempt=1)
    assert waits == []


def test_rate_limit_spaces_requests() -> None:
    assert parse_rate("2/s") == 2.0 and parse_rate("30/min") == 0.5
    with pytest.raises(ValueError, match="2/s or 30/min"):
        parse_rate("fast")
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)

    pacer = Pacer(4.0, sleep=sleep, clock=lambda: now[0])
    for _ in range(3):
        pacer.before_request()
    assert waits == [0.25, 0.5]


# --- profiles -----------------------------------------------------------------------------------------------------


def test_a_remote_target_gets_quick_unless_asked_and_local_ones_deep() -> None:
    assert profile_of(CheckOptions(base_url="https://gateway.example.com")) is QUICK
    assert profile_of(CheckOptions(base_url="http://10.0.0.7:8080")) is QUICK
    assert profile_of(CheckOptions(base_url="http://127.0.0.1:8080")) is DEEP
    assert profile_of(CheckOptions(base_url="http://localhost:8080")) is DEEP
    assert profile_of(CheckOptions()) is DEEP
    assert profile_of(CheckOptions(base_url="https://gateway.example.com", profile="deep")) is DEEP


def test_cheapest_cover_keeps_the_cheapest_item_per_judged_thing_in_order() -> None:
    items = [("big", {"a", "b"}, 4.0), ("small", {"a"}, 1.0), ("other", {"c"}, 0.0), ("b-only", {"b"}, 2.0)]
    kept = cheapest_cover(items, lambda item: item[1], lambda item: item[2])
    assert [name for name, _, _ in kept] == ["small", "other", "b-only"]


def test_quick_judges_nearly_every_pair_deep_does_at_a_fraction_of_the_images(stub_url: str) -> None:
    selection = {"operations": ("createImage", "createImageEdit"), "groups": ("valid", "invalid", "robustness")}
    deep = run(stub_url, profile="deep", **selection)
    quick = run(stub_url, profile="quick", **selection)
    judged = {(r.requirement.id, r.operation_id) for r in deep.results if r.status is Status.PASSED}
    quick_judged = {(r.requirement.id, r.operation_id) for r in quick.results if r.status is Status.PASSED}
    assert quick_judged == judged
    assert quick.spent["images"] * 3 <= deep.spent["images"]
    assert quick.requests_sent * 2 <= deep.requests_sent


# --- the plan -----------------------------------------------------------------------------------------------------


def test_plan_matches_what_the_run_then_sends() -> None:
    options = CheckOptions(seed=11, profile="quick", operations=("createImage", "createImageEdit"), timeout=15.0)
    with metered() as (url, meter):
        plan = make_plan(replace(options, base_url=url))
        assert meter.requests == 0  # planning sends nothing to the target
        report = planned_check(replace(options, base_url=url), plan)
    sent = report.spent["groups"]
    for group, figures in plan.groups.items():
        if group in DRAWN_GROUPS:  # drawn: bounded by the plan's total images, and here drawn alike
            assert sent[group]["images"] <= plan.total["images"]
        else:
            assert (sent[group]["requests"], sent[group]["images"]) == (figures["requests"], figures["images"]), group
    assert report.spent["images"] <= plan.total["images"]
    # schemathesis's own probe (one request, no image, sent around the Sender) is the only one the budget misses
    probes = sum(count for path, count in meter._seen.items() if path.startswith("/schemathesis-probe"))
    assert meter.requests - probes == report.requests_sent
    assert meter.images <= report.spent["images"]  # asked is an upper bound of what the provider made
    assert report.plan is not None and report.plan["total"] == plan.total
    judged = {f"{r.requirement.id}@{r.operation_id}" for r in report.results if r.status is Status.PASSED}
    assert judged == {pair for request in plan.requests for pair in request.judges}


def test_a_run_never_asks_for_more_images_than_its_plan() -> None:
    options = CheckOptions(seed=3, profile="quick", operations=("createImage",), groups=("valid",), timeout=15.0)
    with metered() as (url, _):
        plan = make_plan(replace(options, base_url=url))
        plan.groups["valid"]["images"] -= 2  # as if the gateway made the group draw more than planned
        report = planned_check(replace(options, base_url=url), plan)
    assert report.spent["images"] <= plan.total["images"]
    assert any(r.reason is Unjudged.BUDGET for r in report.results)


def test_plan_on_the_command_line_prints_per_group_and_sends_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "plan.json"
    with metered() as (url, meter):
        args = ["--plan", "--base-url", url, "--profile", "quick", "--seed", "5", "--json-report", str(path)]
        status = main(["check", *args])
    assert status == 0 and meter.requests == 0
    out = capsys.readouterr().out
    assert "plan: profile quick, seed 5" in out and "valid" in out and "total" in out
    document = json.loads(path.read_text())["plan"]
    assert document["total"]["requests"] > 0
    assert any("valid-request-accepted@createImage" in r["judges"] for r in document["requests"])


def test_a_remote_target_is_planned_first_and_a_loopback_one_is_not() -> None:
    assert needs_plan(CheckOptions(base_url="https://gateway.example.com"))
    assert not needs_plan(CheckOptions(base_url="http://127.0.0.1:8080"))
    assert not needs_plan(CheckOptions())


def test_timeout_is_per_image_for_a_request_asking_for_several() -> None:
    sender = Sender(timeout=0.6, concurrency=1, max_requests=None, redactor=Redactor([]))
    body = {"model": "openai/dall-e-3", "prompt": "a fox", "n": 3, "size": "256x256"}
    with metered(latency=0.4) as (url, _):  # 1.2 s for three images: over 0.6 s, within 3 x 0.6 s
        reply = sender.send(WireRequest("POST", f"{url}/v1/images/generations", json_body=body))
    sender.close()
    assert reply.error is None and reply.status == 200
    assert len(reply.json()["data"]) == 3


def test_the_stubs_own_rate_limit_is_waited_out_not_failed(stub_url: str) -> None:
    selection = {"groups": ("valid", "invalid"), "operations": ("createImage",), "profile": "quick", "concurrency": 2}
    unlimited = run(stub_url, **selection)
    # the stub as a provider allowing 4 requests a second (token bucket; 429 with Retry-After in whole seconds)
    with stub_server(StubConfig(rate_limit_requests=4, rate_limit_period=1.0)) as url:
        report = run(url, **selection)
    assert not failing(report)
    assert report.verdict is Verdict.PASS, report.coverage().line()
    assert report.requests_sent > unlimited.requests_sent  # the refused ones, waited out and sent again
