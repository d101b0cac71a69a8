"""Gateways that misbehave the same way on every request, checked by the real suite over loopback: a requirement
passes only where the gateway's answers exercised it (pixelpact.conformance.catalogue.evidence,
pixelpact.conformance.st.evidence).

Each test names the exact set of requirements that may pass, and why they are honest passes: an error answer with
the spec's envelope is evidence for the error-shape requirements; a 200 with a valid-looking body is evidence for
the requirements about accepting valid requests and the shape of the answer, and nothing about images or streams.
"""

from __future__ import annotations

import pytest

from pixelpact.conformance.model import Report, Status
from pixelpact.generator.runtime.config import StubConfig
from pixelpact.generator.runtime.serve import default_app, stub_server
from tests.conformance.broken.toolkit import on_json_ok
from tests.conformance.conftest import API_KEY, run
from tests.conformance.misbehaving.gateways import GATEWAYS, serving

#: JSON, multipart and an Azure route: each kind of request the suite builds.
OPERATIONS = ("createImage", "createImageVariation", "azureCreateImage")

#: Every error answer carries a well-formed envelope: the error-shape requirements saw errors and judged them.
ERROR_SHAPE = {"error-body-shape", "st-error-envelope"}
#: A 400 is a documented status, answered by the operation, with a documented body: schemathesis's response checks
#: judged real answers (none of them a 5xx).
DOCUMENTED_ANSWERS = {"st-status-code-documented", "st-content-type-documented", "st-response-schema"}
#: 200 with {created, data: [{url}]} to every request: accepting, well-formed, urls absolute.
ACCEPTING = {
    "valid-request-accepted",
    "response-content-type",
    "response-schema",
    "url-is-absolute",
    "unknown-field-tolerated",
    "image-array-accepted",
    "hostile-part-names-survive",
    "still-answering",
    "st-valid-request-accepted",
    "st-no-server-error",
    *DOCUMENTED_ANSWERS,
}

MAY_PASS: dict[str, set[str]] = {
    "only-400": ERROR_SHAPE | DOCUMENTED_ANSWERS | {"st-no-server-error"},
    "only-401": ERROR_SHAPE,
    "only-404": ERROR_SHAPE,
    "only-302": set(),
    "only-200": ACCEPTING,
    "half-a-body": set(),
}
#: What no gateway above may pass: each needs an image, a stream, or a rejection attributable to invalid input.
NEVER = {
    "b64-json-is-image",
    "image-dimensions-match-size",
    "st-b64-json-is-image",
    "st-data-count-matches-n",
    "st-image-dimensions-match-size",
    "st-invalid-request-rejected",
    "n-out-of-range-rejected",
    "unknown-enum-rejected",
    "missing-required-rejected",
    "prop-invalid-rejected",
    "stream-partial-index",
    "stream-no-server-error",
    "stream-response-format-tolerated",
    "url-serves-image",
}


def passed(report: Report) -> set[str]:
    return {result.requirement.id for result in report.results if result.status is Status.PASSED}


@pytest.mark.parametrize("name", GATEWAYS)
def test_only_what_the_gateway_exercised_passes(name: str) -> None:
    with serving(name) as url:
        report = run(url, operations=OPERATIONS, max_examples=3, timeout=5.0, concurrency=2)

    assert report.errors == []
    assert passed(report) == MAY_PASS[name]
    assert not passed(report) & NEVER
    assert report.verdict == "fail"  # each breaks something it was asked for
    assert report.requests_sent > 100  # every group ran: the property-based ones were not cut off early


def test_the_sets_above_are_requirements() -> None:
    from pixelpact.conformance.suite import ALL_GROUPS

    known = {requirement.id for group in ALL_GROUPS for requirement in group.requirements}
    assert set().union(*MAY_PASS.values(), NEVER) <= known


def test_an_answer_without_images_passes_no_image_requirement() -> None:
    empty = on_json_ok(default_app(StubConfig()), lambda _req, body: {**body, "data": []})
    with stub_server(app=empty) as url:
        report = run(url, groups=("valid", "schemathesis"), operations=("createImage",), max_examples=3)

    assert not passed(report) & {
        "b64-json-is-image",
        "url-is-absolute",
        "url-serves-image",
        "image-dimensions-match-size",
        "st-b64-json-is-image",
        "st-image-dimensions-match-size",
    }
    assert report.statuses("data-count-matches-n") == {"createImage": Status.FAILED}


def test_a_gateway_refusing_every_key_proves_nothing_about_keys() -> None:
    with serving("only-401") as url:
        report = run(url, groups=("auth",), operations=OPERATIONS, api_key=API_KEY)

    assert passed(report) == set()
    for requirement_id in ("auth-missing-rejected", "auth-wrong-key-rejected"):
        assert set(report.statuses(requirement_id).values()) == {Status.NOT_JUDGED}, requirement_id
    assert set(report.statuses("auth-scheme-accepted").values()) == {Status.FAILED}
