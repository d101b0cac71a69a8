"""spec/BIFROST-RECONCILIATION.md lists every difference between Bifrost's OpenAPI files and spec/openapi.yaml, with
which source wins and why: a spec change that moves away from Bifrost's documentation fails here until its row is
written, and a row whose difference is gone fails until it is removed."""

from __future__ import annotations

import re
from pathlib import Path

from pixelpact.conformance.model import Origin
from pixelpact.conformance.specdiff import compare, facts, report
from pixelpact.conformance.suite import ALL_GROUPS
from pixelpact.generator.loader import read_document
from tests.conftest import ROOT, SPEC
from tests.spec.bifrost_docs import ROUTES, bundle

TABLE = ROOT / "spec" / "BIFROST-RECONCILIATION.md"
ROW = re.compile(r"^\| `` (?P<difference>.*?) `` \| (?P<wins>[^|]+?) \| (?P<why>.+) \|$")
WINS = {"spec", "docs: to fix", "same"}
#: A row whose difference the spec removed by following Bifrost's docs: kept to say so, and checked to be gone.
RESOLVED = "resolved"


def differences(spec: Path = SPEC) -> set[str]:
    """Bifrost's docs (OLD) against the spec (NEW), as `pixelpact diff` headlines them."""
    changes = compare.compare(facts.operations(bundle()), facts.operations(read_document(spec)))
    return {f"{entry.subject}: {entry.detail}" if entry.subject else entry.detail for entry in report.entries(changes)}


def rows() -> dict[str, tuple[str, str]]:
    found = {}
    for line in TABLE.read_text().splitlines():
        match = ROW.match(line)
        if match:
            assert match["difference"] not in found, f"listed twice: {match['difference']}"
            found[match["difference"]] = (match["wins"], match["why"])
    return found


def test_bifrosts_documented_image_routes_are_all_compared() -> None:
    documented = bundle()["paths"]
    assert set(documented) == set(ROUTES)
    ours = read_document(SPEC)["paths"]
    assert all(route in ours for route in documented)


def test_every_difference_is_listed_with_who_wins_and_why() -> None:
    listed = {difference: row for difference, row in rows().items() if row[0] != RESOLVED}
    resolved = {difference for difference, row in rows().items() if row[0] == RESOLVED}
    found = differences()
    assert found, "the comparison found nothing: the bundle or the facts are broken"
    missing = sorted(found - listed.keys())
    stale = sorted(listed.keys() - found)
    back = sorted(resolved & found)
    assert not missing and not stale and not back, {
        "not in the table": missing,
        "no longer a difference": stale,
        "resolved, yet a difference again": back,
    }
    for difference, (wins, why) in listed.items():
        assert wins in WINS and why.strip(), difference


def test_a_spec_change_away_from_bifrosts_docs_needs_its_row(tmp_path: Path) -> None:
    """The check is not vacuous: narrowing n's range in a copy of the spec is a difference the table lacks."""
    changed = tmp_path / "openapi.yaml"
    text = SPEC.read_text()
    assert "maximum: 10\n" in text
    changed.write_text(text.replace("maximum: 10\n", "maximum: 8\n", 1))
    assert differences(changed) - rows().keys()


QUOTE = re.compile(r'^\| `(?P<requirement>[a-z0-9-]+)` \| "(?P<quote>.+)" \|$')


def documentation() -> str:
    """Bifrost's OpenAPI files and the seeds' quotes of its reference pages, as one text."""
    files = sorted((ROOT / "tests" / "spec" / "bifrost_openapi").rglob("*.yaml"))
    return "\n".join(path.read_text() for path in [*files, ROOT / "tests" / "spec" / "seeded_facts.py"])


def test_every_requirement_of_origin_bifrost_is_stated_by_bifrosts_documentation() -> None:
    quoted = {m["requirement"]: m["quote"] for m in map(QUOTE.match, TABLE.read_text().splitlines()) if m}
    bifrost = {r.id for group in ALL_GROUPS for r in group.requirements if r.origin is Origin.BIFROST}
    assert bifrost == quoted.keys(), {
        "not quoted": sorted(bifrost - quoted.keys()),
        "not bifrost": sorted(quoted.keys() - bifrost),
    }
    text = documentation()
    absent = {requirement: quote for requirement, quote in quoted.items() if quote not in text}
    assert not absent, absent
