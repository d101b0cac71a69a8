"""The reports: JUnit with a testcase per requirement per operation, the JSON shape, a self-contained HTML page,
and never a credential, even when the gateway echoes the key back in its answers."""

from __future__ import annotations

import base64
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pixelpact.conformance.api import CheckOptions, check
from pixelpact.conformance.model import Report, Status
from pixelpact.conformance.reporting import render, to_html, to_json, to_junit
from pixelpact.generator.runtime.config import StubConfig
from pixelpact.generator.runtime.serve import default_app, stub_server
from tests.conformance.conftest import API_KEY

OPERATIONS = ("createImage", "createImageVariation", "azureCreateImageEdit")


def leaky(app: ASGIApp) -> ASGIApp:
    """A gateway that echoes the client's credential headers in a response header, and answers variations with a
    500 whose body quotes them: the worst case for a report."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        secrets = [value for name, value in scope["headers"] if name in (b"authorization", b"x-api-key", b"api-key")]
        decoded = [base64.b64decode(value.split(b" ", 1)[1]) for value in secrets if value.startswith(b"Basic ")]
        echoed = b" | ".join(secrets + decoded)
        if scope["path"].endswith("/variations"):
            body = json.dumps({"error": {"message": f"cannot serve, credentials were {echoed.decode()}"}}).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [(b"content-type", b"application/json"), (b"x-echo", echoed)],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return

        async def send_echo(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"x-echo", echoed)]}
            await send(message)

        await app(scope, receive, send_echo)

    return wrapped


@pytest.fixture(scope="module", params=["bearer", "basic", "x-api-key", "api-key"])
def leaky_report(request: pytest.FixtureRequest) -> Iterator[tuple[str, Report]]:
    with stub_server(app=leaky(default_app(StubConfig(api_keys=(API_KEY,))))) as url:
        report = check(
            CheckOptions(
                base_url=url,
                api_key=API_KEY,
                auth=request.param,
                operations=OPERATIONS,
                groups=("valid", "auth"),
                seed=4,
                timeout=15.0,
            )
        )
    yield request.param, report


def forms_of_the_key() -> list[str]:
    basic = base64.b64encode(f"pixelpact:{API_KEY}".encode()).decode()
    return [API_KEY, basic, API_KEY[6:26]]


def test_no_report_contains_the_credential(leaky_report: tuple[str, Report]) -> None:
    scheme, report = leaky_report
    assert report.verdict == "fail"  # the variations' 500s: so the reports carry failure evidence
    documents = {"console": render(report), "junit": to_junit(report), "json": to_json(report), "html": to_html(report)}
    for name, text in documents.items():
        for form in forms_of_the_key():
            assert form not in text, f"{name} report ({scheme}) leaks {form!r}"
        assert "***" in text, f"{name} report shows no redacted evidence"


def test_auth_requirements_are_judged_with_a_key(leaky_report: tuple[str, Report]) -> None:
    _, report = leaky_report
    assert report.statuses("auth-missing-rejected")["createImage"] is Status.PASSED
    assert report.statuses("auth-wrong-key-rejected")["azureCreateImageEdit"] is Status.PASSED


def test_junit_has_one_testcase_per_requirement_per_operation(leaky_report: tuple[str, Report]) -> None:
    _, report = leaky_report
    root = ET.fromstring(to_junit(report))
    cases = root.findall("./testsuite/testcase")

    names = [case.get("name") for case in cases]
    assert len(names) == len(set(names)) == len(report.results)
    assert "valid-request-accepted[createImageVariation]" in names
    assert "valid-request-accepted[createImage]" in names
    failures = {case.get("name"): case.find("failure") for case in cases if case.find("failure") is not None}
    failed = {name for name, failure in failures.items() if failure is not None and failure.get("type") != "blocked"}
    assert failed == {f"{r.requirement.id}[{r.operation_id}]" for r in report.failed}
    assert int(root.get("failures", "-1")) == len(failures) == len(report.failed) + report.coverage().blocked
    failure = failures["valid-request-accepted[createImageVariation]"]
    # each failure names the finding that explains it
    message = failure.get("message") or "" if failure is not None else ""
    assert message.startswith("finding F-server-error-500-cannot-serve-credentials: ")
    assert "expected 200, got 500" in (failure.get("message") or "")
    assert "curl -sS -X POST" in (failure.text or "")


def test_json_report_shape(leaky_report: tuple[str, Report]) -> None:
    _, report = leaky_report
    document = json.loads(to_json(report))

    assert document["verdict"] == "fail"
    assert document["requests_sent"] == report.requests_sent
    for entry in document["requirements"]:
        assert {"id", "operation", "status", "message"} <= entry.keys()
        assert entry["status"] in {"passed", "failed", "blocked", "not-judged"}
        assert entry["operation"] in OPERATIONS
        assert entry["status"] != "failed" or entry["failures"]
        assert (entry["status"] in ("failed", "blocked")) == (entry["finding"] is not None)
    [finding] = document["findings"]
    # the error's own words tell this 500 from others (and the echoed key stays redacted in the title)
    assert finding["id"] == "F-server-error-500-cannot-serve-credentials"
    assert finding["title"].startswith('variations: requests end in a 500 server error ("cannot serve, credentials')
    assert {"id": "valid-request-accepted", "operation": "createImageVariation"} in finding["pairs"]
    assert finding["reproduction"].startswith("curl ") and finding["blocked"] >= 1
    failure = next(e for e in document["requirements"] if e["status"] == "failed")["failures"][0]
    assert failure["exchange"]["status"] == 500
    assert failure["exchange"]["curl"].startswith("curl ")


def test_html_report_is_self_contained_with_thumbnails(leaky_report: tuple[str, Report]) -> None:
    _, report = leaky_report
    page = to_html(report)

    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page), "the page loads something from elsewhere"
    assert "<script" not in page and "<link" not in page
    assert page.count('src="data:image/png;base64,') >= 2  # images the gateway returned
    assert "valid-request-accepted on createImageVariation" in page
    # the findings lead, their evidence collapsed; the grid's failed and blocked cells link to them
    finding = report.findings[0].id
    assert page.index(f"id='{finding}'") < page.index("<h2>Requirements</h2>")
    assert "<details><summary>Evidence</summary>" in page
    assert page.count(f'<a href="#{finding}">') == len(report.findings[0].pairs)
    assert "curl -sS -X POST" in page


def test_every_report_says_where_a_requirement_comes_from(leaky_report: tuple[str, Report]) -> None:
    _, report = leaky_report
    failed = report.failed[0]
    origin = failed.requirement.origin.value

    # the console's requirement table has an origin column; the findings lead (tested above)
    assert re.search(rf"^{failed.requirement.id}\s+\w+\s+{origin}\s", render(report), re.MULTILINE)
    assert "<th>origin</th>" in to_html(report) and f"origin: {origin}</span>" in to_html(report)
    entries = json.loads(to_json(report))["requirements"]
    assert {entry["origin"] for entry in entries} <= {"seeds", "bifrost", "convention"}
