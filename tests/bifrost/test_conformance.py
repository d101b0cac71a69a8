"""`pixelpact check` two-sided through Bifrost's gateway, on its native, OpenAI-compatible and Azure routes.

baseline.toml lists the deviations found and confirmed by hand (DEVIATIONS.md: the curl and the place in Bifrost's
source), and the run is `--baseline baseline.toml --strict-baseline`: it exits 0 only while Bifrost deviates exactly
there. A new failure fails it, and so does a listed deviation that is fixed; the tests name the pair either way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pixelpact.conformance.ci import baseline
from tests.bifrost.conftest import BASELINE, Run, Tier
from tests.bifrost.gateway import config
from tests.bifrost.tier import OPERATIONS
from tests.conformance.claims import untrue_claims

pytestmark = pytest.mark.bifrost

EXPECTED = json.loads((Path(__file__).parent / "expected.json").read_text())

Pair = tuple[str, str]


def baseline_pairs() -> dict[Pair, str]:
    return {
        (entry.requirement or "", op): entry.why for entry in baseline.load(BASELINE).entries for op in entry.operations
    }


def statuses(report: dict[str, Any], *wanted: str) -> dict[Pair, str]:
    return {(r["id"], r["operation"]): r["message"] for r in report["requirements"] if r["status"] in wanted}


def test_every_route_bifrost_serves_is_checked(run: Run) -> None:
    assert set(run.report["operations"]) == set(OPERATIONS)
    assert not run.report["errors"], run.report["errors"]


def test_findings_match_the_confirmed_deviations(run: Run) -> None:
    failed = statuses(run.report, "failed", "blocked")
    expected = baseline_pairs()
    new = [f"{rid} on {op}: {failed[(rid, op)]}" for rid, op in sorted(failed.keys() - expected.keys())]
    gone = [f"{rid} on {op}" for rid, op in sorted(expected.keys() - failed.keys())]
    assert not new and not gone, (
        "Bifrost's conformance changed; confirm by hand and update tests/bifrost/baseline.toml\n"
        + "".join(f"  new failure: {line}\n" for line in new)
        + "".join(f"  no longer failing: {line}\n" for line in gone)
    )
    assert run.report["baseline"]["fixed"] == []
    assert run.status == 0, run.stdout[-3000:]
    assert run.report["verdict"] == "pass"


def test_every_baseline_entry_says_where_in_bifrost_and_how_it_was_seen() -> None:
    for entry in baseline.load(BASELINE).entries:
        why = entry.why
        assert ".go:" in why and "curl" in why, f"{entry.requirement}: {why[:120]}"


def test_one_finding_per_confirmed_cause(run: Run) -> None:
    found = {finding["id"]: finding for finding in run.report["findings"]}
    expected = {entry["id"]: entry for entry in EXPECTED["findings"]}
    assert found.keys() == expected.keys(), {
        "new": {key: found[key]["title"] for key in found.keys() - expected.keys()},
        "gone": sorted(expected.keys() - found.keys()),
    }
    for finding_id, finding in found.items():
        assert sorted({pair["id"] for pair in finding["pairs"]}) == expected[finding_id]["requirements"], finding_id


def test_each_finding_is_true_of_every_pair_it_explains(run: Run) -> None:
    """Issue 21: a title's status, route families, invalid input, stream requests and what it says the provider saw,
    and its `where`, hold of each of its pairs (tests/conformance/claims.py); the client errors answered 500 on the
    OpenAI-compatible and Azure routes are one finding naming those routes, whatever each error message says."""
    assert untrue_claims(run.report) == []
    found = {finding["id"]: finding for finding in run.report["findings"]}
    assert found["F-server-error-500-invalid-input"]["title"].startswith(
        "generations, edits and variations (azure and openai routes): invalid input ends in a 500 server error"
    )


def test_fields_openais_api_does_not_take_are_reported_filtered_not_failed(run: Run) -> None:
    """Bifrost drops seed, negative_prompt, num_inference_steps (and an edit's type) on the way to OpenAI, whose image
    API takes none of them (core/providers/openai/images.go:47-50): filtered, which passes, with the fields named."""
    passed = statuses(run.report, "passed")
    for operation in ("createImage", "createImageEdit", "openaiCreateImageEdit"):
        message = passed[("request-forwarded-intact", operation)]
        assert "filtered by the gateway" in message and "seed (sent 42)" in message, message


def test_only_the_expected_requirements_go_unjudged(run: Run) -> None:
    expected = {(e["requirement"], op) for e in EXPECTED["not_judged"] for op in e["operations"]}
    skipped = statuses(run.report, "not-judged")
    assert skipped.keys() == expected, {pair: skipped.get(pair) for pair in skipped.keys() ^ expected}


def test_the_summary_leads_with_the_verdict_and_the_known_deviations(run: Run) -> None:
    assert run.summary.startswith("## pixelpact check: ✅ PASS (exit 0)\n"), run.summary[:200]
    assert "### New failures" not in run.summary
    known = run.summary.split("### Known deviations")[1].split("###")[0]
    for requirement_id in {rid for rid, _ in baseline_pairs()}:
        assert f"`{requirement_id}`" in known, requirement_id


def test_the_banner_gives_the_base_url_bifrost_wants(run: Run, tier: Tier) -> None:
    """Bifrost appends /v1 to its OpenAI provider's base URL itself: the banner's root line is what its config holds."""
    base_url = config(tier.upstream_port)["providers"]["openai"]["network_config"]["base_url"]  # type: ignore[index]
    line = next(line for line in run.stderr.splitlines() if "when the gateway appends /v1 itself" in line)
    assert line.endswith(f": {base_url}") and not base_url.endswith("/v1")
