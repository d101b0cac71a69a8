"""`pixelpact check` in two-sided mode against a real LiteLLM proxy, its providers pointed at the recording upstream.

The run uses the project's own baseline feature: baseline.toml lists the deviations found and confirmed by hand
(DEVIATIONS.md), and the run is `--baseline baseline.toml --strict-baseline`, so it exits 0 only while LiteLLM
deviates exactly there: a new failure fails it (exit 1), and so does a listed deviation that is fixed. The tests name
the requirement either way, so a change in the suite's findings or in LiteLLM's behaviour cannot pass unnoticed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pixelpact.conformance.ci import baseline
from pixelpact.conformance.engine.contract import load_contract
from pixelpact.conformance.engine.upstream import FAILING_MODEL
from pixelpact.conformance.groups.forwarding import applicable
from pixelpact.conformance.suite import ALL_GROUPS
from tests.conformance.claims import untrue_claims
from tests.litellm.conftest import Tier
from tests.litellm.proxy import ROOT

pytestmark = pytest.mark.litellm

EXPECTED = json.loads((Path(__file__).parent / "expected-deviations.json").read_text())
BASELINE = Path(__file__).parent / "baseline.toml"
OPERATIONS: list[str] = EXPECTED["operations"]
#: LiteLLM serves the OpenAI-compatible routes at /v1 and Azure deployments at /openai/deployments; it has no
#: variations route, so only generations and edits are selected.
PREFIXES = ("/openai/v1=/v1", "/openai/openai/deployments=/openai/deployments")
SEED = 6

Pair = tuple[str, str]


def pairs(section: str) -> dict[Pair, str]:
    return {(entry["requirement"], op): entry["why"] for entry in EXPECTED[section] for op in entry["operations"]}


def baseline_pairs() -> dict[Pair, str]:
    """Every (requirement, operation) the baseline lists; its entries name operations, no globs."""
    return {
        (entry.requirement or "", op): entry.why for entry in baseline.load(BASELINE).entries for op in entry.operations
    }


@pytest.fixture(scope="module")
def run(tier: Tier, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One `pixelpact check` run through the proxy, as a user would type it; its JSON report, stderr and status."""
    report = tmp_path_factory.mktemp("check") / "report.json"
    command = [sys.executable, "-m", "pixelpact.conformance.cli", "check", "--base-url", tier.proxy.url]
    command += ["--upstream-port", str(tier.upstream_port), "--deployment", "az-dalle3", "--seed", str(SEED)]
    for operation in OPERATIONS:
        command += ["--operation", operation]
    for group in EXPECTED["groups"]:
        command += ["--group", group]
    for prefix in PREFIXES:
        command += ["--prefix", prefix]
    summary = report.with_name("summary.md")
    command += ["--baseline", str(BASELINE), "--strict-baseline"]
    command += ["--json-report", str(report), "--markdown-report", str(summary)]
    # The master key travels in the environment, not on the command line.
    env = {**os.environ, "PIXELPACT_API_KEY": tier.proxy.master_key}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert report.exists(), f"no report (exit {done.returncode}):\n{done.stderr[-2000:]}"
    yield {
        "report": json.loads(report.read_text()),
        "summary": summary.read_text(),
        "stdout": done.stdout,
        "stderr": done.stderr,
        "status": done.returncode,
    }


def statuses(report: dict[str, Any], status: str) -> dict[Pair, str]:
    return {(r["id"], r["operation"]): r["message"] for r in report["requirements"] if r["status"] == status}


def test_findings_match_the_confirmed_deviations(run: dict[str, Any]) -> None:
    report = run["report"]
    assert not report["errors"], report["errors"]
    failed = statuses(report, "failed") | statuses(report, "blocked")
    known = {(r["id"], r["operation"]) for r in report["requirements"] if r["known"]}
    expected = baseline_pairs()
    new = [f"{rid} on {op}: {failed[(rid, op)]}" for rid, op in sorted(failed.keys() - known)]
    # stricter than --strict-baseline's "fixed" (judged and passed): a listed pair that went unjudged counts too
    gone = [f"{rid} on {op} (was: {expected[(rid, op)]})" for rid, op in sorted(expected.keys() - failed.keys())]
    assert not new and not gone, (
        "LiteLLM's conformance changed; confirm by hand and update tests/litellm/baseline.toml\n"
        + "".join(f"  new failure: {line}\n" for line in new)
        + "".join(f"  no longer failing: {line}\n" for line in gone)
    )
    assert report["baseline"]["fixed"] == []
    assert run["status"] == 0, "every failure is a known deviation: the baseline makes the verdict a pass"
    assert report["verdict"] == "pass"


def test_the_summary_reads_at_a_glance(run: dict[str, Any]) -> None:
    """The Markdown summary of the run: the verdict first, no new failures, every known deviation with its why."""
    summary = run["summary"]
    assert summary.startswith("## pixelpact check: ✅ PASS (exit 0)\n"), summary[:200]
    assert "### New failures" not in summary
    known_section = summary.split("### Known deviations")[1].split("###")[0]
    for requirement_id in {rid for rid, _ in baseline_pairs()}:
        assert f"`{requirement_id}`" in known_section, requirement_id
    assert summary.index("### Known deviations") < summary.index("### Coverage")


def test_one_finding_per_confirmed_cause(run: dict[str, Any]) -> None:
    """The deviations cluster into the root causes DEVIATIONS.md confirms, one finding each, none more."""
    report = run["report"]
    found = {finding["id"]: finding for finding in report["findings"]}
    expected = {entry["id"]: entry for entry in EXPECTED["findings"]}
    assert found.keys() == expected.keys(), {
        "new": {key: found[key]["title"] for key in found.keys() - expected.keys()},
        "gone": sorted(expected.keys() - found.keys()),
    }
    for finding_id, finding in found.items():
        assert sorted({pair["id"] for pair in finding["pairs"]}) == expected[finding_id]["requirements"], finding_id
        assert "***" in finding["reproduction"] or "Authorization" not in finding["reproduction"]
    # no pair fails whose precondition never held: those are blocked, each by a finding of the report
    blocked = [r for r in report["requirements"] if r["status"] == "blocked"]
    assert blocked and all(r["blocked_by"] in found for r in blocked)


def test_each_finding_is_true_of_every_pair_it_explains(run: dict[str, Any]) -> None:
    """Issue 21: a title's status, route families, invalid input, stream requests and what it says the provider saw,
    and its `where`, hold of each of its pairs (tests/conformance/claims.py)."""
    assert untrue_claims(run["report"]) == []


def test_only_the_expected_requirements_go_unjudged(run: dict[str, Any]) -> None:
    skipped, expected = statuses(run["report"], "not-judged"), pairs("not_judged")
    assert skipped.keys() == expected.keys(), {pair: skipped.get(pair) for pair in skipped.keys() ^ expected.keys()}


def test_every_forwarding_requirement_is_judged_through_the_upstream(run: dict[str, Any]) -> None:
    """The two-sided checks ran on every operation: none is missing, none failed for want of upstream records."""
    contract = load_contract()
    reported = {(r["id"], r["operation"]): r for r in run["report"]["requirements"]}
    for operation_id in OPERATIONS:
        for requirement_id in applicable(contract.operation(operation_id)):
            assert (requirement_id, operation_id) in reported, f"{requirement_id} not judged on {operation_id}"
    unreached = [key for key, r in reported.items() if "nothing reached the recording upstream" in r["message"]]
    assert not unreached, unreached


def test_report_says_the_provider_rejected_the_invalid_input(run: dict[str, Any]) -> None:
    """LiteLLM validates neither n nor size itself: it forwards them and passes the provider's 400 on."""
    for operation_id in OPERATIONS:
        message = statuses(run["report"], "passed")[("rejection-source-reported", operation_id)]
        for value in ("n=11", "size="):
            assert f"{value}" in message and "forwarded, rejected by the provider (400)" in message, message
        assert "rejected by the gateway" not in message, message


def test_fallback_is_tried_after_the_primary_fails(run: dict[str, Any]) -> None:
    message = statuses(run["report"], "passed")[("fallback-after-primary-failure", "openaiCreateImage")]
    attempts = message.removeprefix("the upstream saw: ").split(" -> ")
    # LiteLLM's inner OpenAI client retries the failing primary before the router moves on to the fallback.
    assert attempts[-1] == "dall-e-3 (200)" and set(attempts[:-1]) == {f"{FAILING_MODEL} (503)"}, message


def test_cli_says_how_to_point_the_gateway_at_the_upstream(run: dict[str, Any], tier: Tier) -> None:
    assert "the API base with /v1, as the openai SDK's base_url" in run["stderr"]
    assert f": http://127.0.0.1:{tier.upstream_port}/v1\n" in run["stderr"]
    assert f"Azure OpenAI provider: endpoint http://127.0.0.1:{tier.upstream_port}" in run["stderr"]
    assert tier.proxy.master_key not in run["stderr"]


def test_every_requirement_group_is_pinned_or_explained() -> None:
    """A new group of the suite must have its LiteLLM findings confirmed and pinned, or say here why not yet."""
    explained = {entry["group"] for entry in EXPECTED["groups_not_pinned"]}
    assert {group.name for group in ALL_GROUPS} == set(EXPECTED["groups"]) | explained
