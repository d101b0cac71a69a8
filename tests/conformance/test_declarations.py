"""Each requirement is declared once, in one style (`catalogue.requirements.declare`), and what is derived from the
declarations follows them: the spec-diff mapping (specdiff/affects.py) re-runs a requirement on a change of what it
concerns. (The catalogue and REQUIREMENTS.md: tests/conformance/ci/test_selection.py.)"""

from __future__ import annotations

import re

import pytest

from pixelpact.conformance.catalogue import concerns as spec
from pixelpact.conformance.catalogue.requirements import declare
from pixelpact.conformance.model import Origin, Requirement, Severity
from pixelpact.conformance.specdiff import affects
from pixelpact.conformance.specdiff.compare import Change
from pixelpact.conformance.suite import catalogue, declared
from tests.conftest import ROOT

CONFORMANCE = ROOT / "conformance"
#: Where a Requirement is built other than by `declare`: merge.py reads back one a JSON report names that this
#: version of the catalogue does not know.
READ_BACK = {"ci/merge.py"}


def test_requirements_are_built_only_by_declare() -> None:
    builders = {
        str(path.relative_to(CONFORMANCE))
        for path in CONFORMANCE.rglob("*.py")
        if re.search(r"\bRequirement\(", path.read_text(encoding="utf-8"))
    }
    assert builders == {"catalogue/requirements.py", *READ_BACK}


def test_each_id_is_declared_once() -> None:
    ids = [requirement.id for requirement in declared()]
    assert sorted(ids) == sorted(set(ids))
    assert len(catalogue()) == len(ids)


def _declare(*concerns: str) -> Requirement:
    return declare("valid", "x-y", Severity.MINOR, "title", "source", origin=Origin.CONVENTION, concerns=concerns)


def test_declare_refuses_a_requirement_without_concerns_or_with_an_unknown_one() -> None:
    with pytest.raises(ValueError, match="'x-y': concerns missing"):
        _declare()
    with pytest.raises(ValueError, match="colour"):
        _declare(spec.REQUEST, "colour")
    with pytest.raises(ValueError, match="field:"):
        _declare(spec.field(""))
    assert _declare(spec.field("style")).concerns == ("field:style",)


def _change(*key: str) -> Change:
    return Change("createImage", key, "changed", "", clients=True, gateways=True)


#: Per concern, the ids a change of that part of the spec re-runs.
RERUN: dict[str, frozenset[str]] = {
    spec.REQUEST: frozenset(affects.REQUEST),
    spec.FILES: affects.requirements_for(_change("request", "multipart/form-data", "encoding"), ()),
    spec.REQUEST_MEDIA_TYPE: affects.requirements_for(_change("request", "application/json", "@exists"), ()),
    spec.BODY: affects.requirements_for(_change("request", "@required"), ()),
    spec.REQUIRED: affects.requirements_for(_change("parameter", "api-version"), ()),
    spec.FIELDS: frozenset(affects.BY_KEYWORD["additionalProperties"]),
    spec.ENUM: frozenset(affects.BY_KEYWORD["enum"]),
    spec.TYPE: frozenset(affects.BY_KEYWORD["type"]),
    spec.RANGE: frozenset(affects.BY_KEYWORD["range"]),
    spec.AUTH: affects.requirements_for(_change("security", "alternatives"), ()),
    spec.SUCCESS_STATUS: affects.requirements_for(_change("response", "201", "@exists"), ()),
    spec.RESPONSE: affects.requirements_for(_change("response", "200", "application/json", "@schema", "created"), ()),
    spec.RESPONSE_MEDIA_TYPE: affects.requirements_for(_change("response", "200", "application/json", "@exists"), ()),
    spec.IMAGES: frozenset(affects.IMAGES),
    spec.STREAMING: affects.requirements_for(_change("response", "200", "text/event-stream", "@exists"), ()),
    spec.ERRORS: affects.requirements_for(_change("response", "400", "application/json"), ()),
}


def test_every_part_of_the_spec_a_requirement_may_concern_has_its_changes() -> None:
    assert set(RERUN) == spec.KNOWN


def test_a_change_of_what_a_requirement_concerns_re_runs_it() -> None:
    for requirement in catalogue():
        for concern in requirement.concerns:
            field = spec.field_of(concern)
            rerun = affects.BY_FIELD[field] if field else RERUN[concern]
            assert requirement.id in rerun, (requirement.id, concern)
