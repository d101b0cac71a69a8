"""The edit catalogue: each spec edit gets the classification the catalogue states (tests/specdiff/edits.py)."""

from __future__ import annotations

from typing import Any

import pytest

from pixelpact.conformance.specdiff import facts, report
from pixelpact.conformance.specdiff.compare import compare
from tests.spec.conventions import CONVENTIONS
from tests.spec.seeded_facts import FACTS
from tests.specdiff.edits import EDITS, Edit, apply, original

BASE = original()
BASE_OPERATIONS = facts.operations(BASE)


def diff(edit: Edit) -> list[report.Entry]:
    return report.entries(compare(BASE_OPERATIONS, facts.operations(apply(BASE, edit))))


def test_the_catalogue_has_at_least_30_edits_and_one_per_seeded_fact() -> None:
    assert len(EDITS) >= 30
    assert len({edit.name for edit in EDITS}) == len(EDITS)
    named = {edit.fact for edit in EDITS if edit.fact}
    assert set(FACTS) <= named
    assert named <= set(FACTS) | set(CONVENTIONS)


@pytest.mark.parametrize("edit", EDITS, ids=lambda edit: edit.name)
def test_edit_is_classified(edit: Edit) -> None:
    found = diff(edit)
    kinds = {entry.kind for entry in found}
    summary = [f"{entry.impact}: {entry.subject}: {entry.detail}" for entry in found]
    assert set(edit.kinds) <= kinds, summary
    assert any(entry.clients for entry in found) is edit.clients, summary
    assert any(entry.gateways for entry in found) is edit.gateways, summary
    if not edit.kinds and not edit.clients and not edit.gateways:
        assert found == [], summary


@pytest.mark.parametrize("edit", [edit for edit in EDITS if edit.fact], ids=lambda edit: edit.name)
def test_seeded_fact_edit_breaks_the_fact_and_clients(edit: Edit) -> None:
    assert edit.fact is not None
    assert violations(edit.fact, BASE) == []
    assert violations(edit.fact, apply(BASE, edit)), f"the edit does not break the seeded fact {edit.fact!r}"
    assert any(entry.clients for entry in diff(edit)), "a seeded fact's edit must break clients"


def violations(fact: str, spec: dict[str, Any]) -> list[str]:
    """How the spec disagrees with a seeded fact; a fact that finds what it checks missing counts as one."""
    try:
        return {**FACTS, **CONVENTIONS}[fact](spec)
    except KeyError as exc:
        return [f"{exc} is missing"]


def edit_named(name: str) -> Edit:
    return next(edit for edit in EDITS if edit.name == name)


def test_a_shared_schema_change_is_reported_once_with_every_operation() -> None:
    (entry,) = diff(edit_named("n's maximum 10 -> 8"))
    assert (entry.subject, entry.detail, entry.where) == ("ImageCount", "maximum 10 -> 8", ("request field `n`",))
    assert len(entry.operations) == 9
    assert entry.operations[0] == "createImage"


def test_one_schema_used_on_both_sides_is_reported_per_side() -> None:
    found = diff(edit_named("drop size 1792x1024"))
    by_side = {entry.side: entry for entry in found}
    assert set(by_side) == {"request", "response"}
    request = by_side["request"]
    assert (request.clients, request.gateways) == (True, False)
    assert set(request.operations) == {
        "createImage",
        "createImageVariation",
        "openaiCreateImage",
        "openaiCreateImageVariation",
        "azureCreateImage",
        "azureCreateImageVariation",
    }
    # the answer's size and a generation stream event's size share ImageSize (Bifrost's docs bind both to it)
    assert by_side["response"].where == ("response 200 field `size`", "stream event field `size`")


def test_a_removed_field_is_one_change_not_one_per_keyword() -> None:
    # the edit removes image[] from the native and the OpenAI-compatible edit schemas: one change in each
    found = diff(edit_named("remove image[] from edits"))
    assert sorted(entry.kind for entry in found) == 2 * ["field-removed"] + 2 * ["required-alternative-removed"]
    removed = {entry.subject: entry.operations for entry in found if entry.kind == "field-removed"}
    assert removed == {
        "ImageEditRequest.image[]": ("createImageEdit",),
        "OpenAIImageEditRequest.image[]": ("openaiCreateImageEdit",),
    }
