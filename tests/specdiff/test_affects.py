"""`check --changed-since`: the pairs a spec change touches, and a run that judges exactly those."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from pixelpact.conformance.api import CheckOptions, check
from pixelpact.conformance.engine.context import RunContext
from pixelpact.conformance.engine.contract import load_contract
from pixelpact.conformance.model import Observation, Origin, Requirement, Severity, Unjudged
from pixelpact.conformance.scope.selection import restrict
from pixelpact.conformance.specdiff import affects, facts
from pixelpact.conformance.specdiff.compare import compare
from pixelpact.conformance.suite import ALL_GROUPS
from pixelpact.conformance.wire.http import BudgetExhausted
from tests.conftest import ROOT, SPEC
from tests.specdiff.edits import EDITS, apply, original

EVERY = [requirement.id for group in ALL_GROUPS for requirement in group.requirements]
BASE = original()
OPERATIONS = list(facts.operations(BASE))
REQUEST = {
    "valid-request-accepted",
    "st-valid-request-accepted",
    "st-invalid-request-rejected",
    "st-no-server-error",
    "request-forwarded-intact",
}


def pairs_of(edit_name: str) -> frozenset[tuple[str, str]]:
    edited = apply(BASE, next(edit for edit in EDITS if edit.name == edit_name))
    new = facts.operations(edited)
    return affects.affected_pairs(compare(facts.operations(BASE), new), new, EVERY)


def test_every_requirement_the_mapping_names_exists() -> None:
    named = {
        *affects.REQUEST,
        *affects.FILES,
        *affects.MEDIA,
        *affects.STREAMING,
        *affects.AUTH,
        *affects.RESPONSE,
        *affects.RESPONSE_MEDIA,
        *affects.IMAGES,
        *affects.ERRORS,
        *(id_ for ids in affects.BY_KEYWORD.values() for id_ in ids),
        *(id_ for ids in affects.BY_FIELD.values() for id_ in ids),
    }
    assert named - set(EVERY) == set()
    assert set(EVERY) - named == set(), "a requirement no kind of spec change would re-run"


def test_a_new_style_value_touches_the_enum_checks_of_the_generations_with_style() -> None:
    edited = yaml.safe_load(yaml.safe_dump(BASE))
    edited["components"]["schemas"]["ImageStyle"]["enum"].append("cinematic")
    new = facts.operations(edited)
    pairs = affects.affected_pairs(compare(facts.operations(BASE), new), new, EVERY)
    expected = REQUEST | {"unknown-enum-rejected", "prop-invalid-rejected"}
    assert pairs == {
        (requirement, operation)
        for requirement in expected
        for operation in ("createImage", "openaiCreateImage", "azureCreateImage")
    }


def test_n_maximum_touches_n_requirements_on_every_operation_and_nothing_else() -> None:
    expected = REQUEST | {
        "prop-invalid-rejected",
        "n-out-of-range-rejected",
        "n-not-integer-rejected",
        "huge-number-rejected",
        "still-answering",
        "data-count-matches-n",
        "st-data-count-matches-n",
        "prop-valid-images-match",
        "forwarded-n",
        "rejection-source-reported",
    }
    assert pairs_of("n's maximum 10 -> 8") == {(r, op) for r in expected for op in OPERATIONS}


def test_auth_touches_only_auth() -> None:
    expected = {
        "auth-missing-rejected",
        "auth-wrong-key-rejected",
        "auth-scheme-accepted",
        "gateway-credentials-upstream",
    }
    assert pairs_of("x-bf-vk no longer accepted") == {(r, op) for r in expected for op in OPERATIONS}


def test_a_stream_change_touches_streaming_on_the_streaming_operations() -> None:
    pairs = pairs_of("stream events lose partial_image_index")
    assert {requirement for requirement, _ in pairs} == set(affects.STREAMING)
    assert {operation for _, operation in pairs} == {op for op in OPERATIONS if "Variation" not in op}


def test_a_new_operation_gets_every_requirement_and_a_removed_one_none() -> None:
    assert pairs_of("a new generations route") == {(r, "createImageV2") for r in EVERY}
    assert pairs_of("remove the variations route") == frozenset()


def test_a_new_field_brings_the_checks_of_its_constraints() -> None:
    expected = REQUEST | {
        "missing-required-rejected",
        "unknown-field-tolerated",
        "unknown-enum-rejected",
        "prop-invalid-rejected",
    }
    pairs = pairs_of("quality added to variations")
    assert pairs == {(r, op) for r in expected for op in ("createImageVariation", "openaiCreateImageVariation")}


def test_a_description_touches_nothing() -> None:
    assert pairs_of("a description reworded") == frozenset()


def test_check_judges_exactly_the_selected_pairs() -> None:
    pairs = pairs_of("remove user from variations")
    assert {operation for _, operation in pairs} == {"createImageVariation", "openaiCreateImageVariation"}
    # schemathesis and hypothesis left out to keep the test fast: their pairs are selected the same way
    groups = ("valid", "invalid", "robustness", "forwarding")
    in_groups = {requirement.id for group in ALL_GROUPS if group.name in groups for requirement in group.requirements}
    selected = frozenset(pair for pair in pairs if pair[0] in in_groups)
    assert {requirement for requirement, _ in selected} == {
        "valid-request-accepted",
        "missing-required-rejected",
        "unknown-field-tolerated",
        "forwarded-user",
        "request-forwarded-intact",
    }
    report = check(CheckOptions(seed=3, pairs=pairs, groups=groups))
    judged = {(result.requirement.id, result.operation_id) for result in report.results}
    assert judged == selected
    assert report.verdict == "pass", [(r.requirement.id, r.operation_id, r.message) for r in report.failed]


def test_changed_since_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pixelpact.conformance.cli import main

    edited = apply(original(), next(edit for edit in EDITS if edit.name == "a description reworded"))
    spec = tmp_path / "openapi.yaml"
    spec.write_text(yaml.safe_dump(edited), encoding="utf-8")
    assert main(["check", "--spec", str(spec), "--changed-since", str(SPEC)]) == 0
    assert "touches a requirement: nothing to check" in capsys.readouterr().out
    assert main(["check", "--changed-since", "git:no-such-ref:spec/openapi.yaml"]) == 2
    assert "--changed-since: git:no-such-ref:spec/openapi.yaml: invalid object name" in capsys.readouterr().err


def test_a_bare_git_ref_names_the_spec_at_that_ref_from_any_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    from pixelpact.conformance.specdiff.source import load_since

    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    monkeypatch.chdir(ROOT.parent)
    spec = load_since("HEAD", SPEC)
    assert spec.label == "git:HEAD:spec/openapi.yaml"
    assert spec.document["openapi"].startswith("3.1")


class CutShortGroup:
    """A group that judges one pair, then finds the budget spent (as an unguarded probe would)."""

    name = "cut-short"
    requirements = (
        Requirement("first", "", "", Severity.MAJOR, "cut-short", Origin.CONVENTION),
        Requirement("second", "", "", Severity.MAJOR, "cut-short", Origin.CONVENTION),
    )

    def run(self, ctx: RunContext) -> Iterator[Observation]:
        assert [operation.operation_id for operation in ctx.operations] == ["createImage", "createImageEdit"]
        yield Observation("first", "createImage", True)
        yield Observation("second", "createImage", True)  # not selected: dropped
        raise BudgetExhausted("the budget of 1 request(s) is spent")


def test_a_budget_cut_lists_only_the_selected_pairs_as_not_judged() -> None:
    contract = load_contract()
    ctx = RunContext(contract, contract.operations, None, None, 1, 1, 1)  # type: ignore[arg-type]
    pairs = frozenset({("first", "createImage"), ("second", "createImageEdit"), ("valid-request-accepted", "x")})
    groups, operations = restrict([CutShortGroup()], contract.operations, pairs)
    assert [operation.operation_id for operation in operations] == ["createImage", "createImageEdit"]
    observations = list(groups[0].run(replace(ctx, operations=operations)))
    assert [(o.requirement_id, o.operation_id, o.skipped, o.reason) for o in observations] == [
        ("first", "createImage", False, None),
        ("second", "createImageEdit", True, Unjudged.BUDGET),
    ]
