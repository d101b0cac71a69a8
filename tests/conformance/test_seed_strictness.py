"""Requirements beyond the seeds assume no provider default the seeds do not state: with no response_format, urls
and b64_json both pass; `created` only has to be a plausible time; on the Azure routes, unknown values of the fields
seed 003 does not list need not be rejected. Each gateway below is the stub with one such liberty taken."""

from __future__ import annotations

import time
from typing import Any

from pixelpact.conformance.model import Status
from pixelpact.generator.runtime.config import StubConfig
from pixelpact.generator.runtime.serve import default_app, stub_server
from tests.conformance.broken.toolkit import Request, on_json_ok, on_request
from tests.conformance.conftest import failing, run


def b64_by_default(req: Request) -> Request | None:
    """A provider like gpt-image-1: with no response_format, b64_json."""
    return req.with_field("response_format", "b64_json") if req.field("response_format") is None else None


def test_absent_response_format_may_be_answered_with_b64_json() -> None:
    with stub_server(app=on_request(default_app(StubConfig()), b64_by_default)) as url:
        report = run(url, groups=("valid",), operations=("createImage", "createImageVariation"))

    assert failing(report) == set(), [(r.requirement.id, r.message) for r in report.failed]
    assert report.statuses("b64-json-is-image") == {"createImage": Status.PASSED, "createImageVariation": Status.PASSED}


def created(seconds: int) -> Any:
    return lambda _req, body: {**body, "created": seconds}


def test_created_may_be_old_but_must_be_a_time_in_seconds() -> None:
    a_cached_answer = int(time.time()) - 30 * 24 * 3600
    with stub_server(app=on_json_ok(default_app(StubConfig()), created(a_cached_answer))) as url:
        cached = run(url, groups=("valid",), operations=("createImage",))
    with stub_server(app=on_json_ok(default_app(StubConfig()), created(0))) as url:
        zero = run(url, groups=("valid",), operations=("createImage",))

    assert cached.statuses("response-schema") == {"createImage": Status.PASSED}
    assert zero.statuses("response-schema") == {"createImage": Status.FAILED}


def ignores_unknown_background(req: Request) -> Request | None:
    """Passes background on as it is, known or not (as Bifrost does on its Azure routes)."""
    return req.with_field("background", None) if req.field("background") not in (None, "auto") else None


def test_azure_routes_need_not_reject_fields_seed_003_does_not_list() -> None:
    with stub_server(app=on_request(default_app(StubConfig()), ignores_unknown_background)) as url:
        report = run(url, groups=("invalid",), operations=("createImage", "azureCreateImage"))

    assert report.statuses("unknown-enum-rejected") == {
        "createImage": Status.FAILED,  # the native route's spec lists background: an unknown value must be refused
        "azureCreateImage": Status.PASSED,  # seed 003 does not list it; size, quality, style, response_format it does
    }


UNLISTED = {"background": ("transparent", "opaque", "auto"), "moderation": ("low", "auto")}


def ignores_unknown_unlisted(req: Request) -> Request | None:
    """Passes background and moderation on as they are, known or not: unknown values are dropped, not refused."""
    for name, known in UNLISTED.items():
        if req.field(name) is not None and req.field(name) not in known:
            return req.with_field(name, None)
    return None


def test_schemathesis_does_not_require_azure_routes_to_reject_unlisted_fields() -> None:
    with stub_server(app=on_request(default_app(StubConfig()), ignores_unknown_unlisted)) as url:
        report = run(url, groups=("schemathesis",), operations=("createImage", "azureCreateImage"), max_examples=5)

    assert report.statuses("st-invalid-request-rejected") == {
        "createImage": Status.FAILED,
        "azureCreateImage": Status.PASSED,
    }, [r.message[:300] for r in report.failed]
