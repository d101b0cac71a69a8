"""A finding's title and `where` must be true of every pair it explains (issue 21): `untrue_claims` reads each claim
a title makes (the route families, the status, "although the provider answered 2xx", "never forwarded", invalid input,
stream requests) and where it says it broke, and checks it against the evidence of each failed pair, as the JSON
report records it (the exchange's status and curl, what the provider saw: `seen`).

It works on the JSON report (`pixelpact check --json-report`), so the relay tests (from a `Report`), the LiteLLM tier
and the Bifrost tier (from the report file) share it. A pair whose group did not read the provider's recording
(`seen` null) cannot contradict a claim about the provider; every claim about the provider needs at least one pair
that shows it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from pixelpact.conformance.model import Report
from pixelpact.conformance.reporting.machine import to_json

FAMILY_WORDS = {"createimage": "generations", "createimageedit": "edits", "createimagevariation": "variations"}
FLAVOURS = ("openai", "azure")
#: How our groups word a request the contract wants refused (or lets a gateway refuse: hostile part names).
REFUSE = re.compile(r"expected a 4xx|an invalid request \(|Invalid data should have been rejected")
STREAMED = re.compile(r'"stream": ?true|stream=true', re.IGNORECASE)
RECORDED = ("answered-2xx", "failed", "changed-request")


def as_json(report: Report) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(to_json(report))
    return document


def _family(operation: str) -> tuple[str, str]:
    flavour = next((f for f in FLAVOURS if operation.lower().startswith(f)), "native")
    stem = operation.lower().removeprefix(flavour) if flavour != "native" else operation.lower()
    return FAMILY_WORDS.get(stem, operation), flavour


def _seen(result: dict[str, Any]) -> str | None:
    return next((f.get("seen") for f in result.get("failures", []) if f.get("seen")), None)


def untrue_claims(report: dict[str, Any]) -> list[str]:
    """Every claim of a finding's title or `where` that one of its failed pairs contradicts, or that none shows."""
    results = {(r["id"], r["operation"]): r for r in report["requirements"]}
    problems: list[str] = []
    for finding in report["findings"]:
        pairs = [results[(p["id"], p["operation"])] for p in finding["pairs"] if (p["id"], p["operation"]) in results]
        failed = [r for r in pairs if r["status"] == "failed"]
        problems += [f"{finding['id']}: {problem}" for problem in _claims(finding, pairs, failed)]
    return problems


def _claims(finding: dict[str, Any], pairs: list[dict[str, Any]], failed: list[dict[str, Any]]) -> Iterator[str]:
    title: str = finding["title"]
    phrase, _, what = title.partition(": ")
    flavours = re.search(r"\(([a-z ]+) routes\)", phrase)
    for result in pairs:
        family, flavour = _family(result["operation"])
        if family not in phrase:
            yield f"the title names {phrase!r}, but {result['id']} on {result['operation']} is {family}"
        if flavours and flavour not in flavours.group(1).split(" and "):
            yield f"the title names {flavours.group(0)}, but {result['operation']} is a {flavour} route"
    seen = {(r["id"], r["operation"]): _seen(r) for r in failed}
    status = re.search(r"end in a (\d{3}) server error|requests get (\d{3})", what)
    if status:
        code = int(status.group(1) or status.group(2))
        for result in failed:
            statuses = {(f.get("exchange") or {}).get("status") for f in result["failures"]}
            if code not in statuses:
                yield f"the title says {code}, but {result['id']} on {result['operation']} got {statuses}"
    provider_claims = (
        ("although the provider answered 2xx", "answered-2xx"),
        ("never forwarded", "never-reached"),
        ("passed on faithfully", "failed"),
    )
    for words, wanted in provider_claims:
        if words in what:
            wrong = {pair: s for pair, s in seen.items() if s is not None and s != wanted}
            if wrong:
                yield f"the title says {words!r}, but the provider saw otherwise: {wrong}"
            # a provider's failure passed on is shown by the run's relayed check, which passed: not one of the pairs
            if wanted not in seen.values() and wanted != "failed":
                yield f"the title says {words!r}, but no pair shows it"
    if "invalid input" in what:
        for result in failed:
            if not any(REFUSE.search(f["message"]) for f in result["failures"]):
                yield f"the title says invalid input, but {result['id']} on {result['operation']} was not refused input"
    if "stream requests" in what:
        for result in failed:
            if not any(STREAMED.search((f.get("exchange") or {}).get("curl", "")) for f in result["failures"]):
                yield f"the title says stream requests, but {result['id']} on {result['operation']} sent no stream"
    yield from _where(finding, seen)


def _where(finding: dict[str, Any], seen: dict[tuple[str, str], str | None]) -> Iterator[str]:
    where, known = finding.get("where"), {s for s in seen.values() if s is not None}
    if known & set(RECORDED) and where is None:
        yield f"the provider recorded its pairs ({sorted(known)}), but it has no where"
    if where == "on-the-way" and "changed-request" not in known:
        yield f"where says on-the-way, but no pair shows a changed request ({sorted(known)})"
    if where == "provider" and "answered-2xx" in known:
        yield "where says provider, but the provider answered 2xx"
    if where == "gateway" and known and known <= {"failed"}:
        yield "where says gateway, but every pair's failure came from the provider"
