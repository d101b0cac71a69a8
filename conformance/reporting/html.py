"""The HTML report: one self-contained file (inline CSS, images as data: URIs) a person can open or attach to a CI run.

It leads with the findings (one per root cause: title, where it broke, the pairs it explains, the smallest request
that shows it, the evidence once and collapsed), then the requirement x operation matrix (each failed or blocked
cell links to its finding), and thumbnails of the images the gateway returned.
"""

from __future__ import annotations

import base64
from html import escape

from pixelpact.conformance.model import Exchange, Report, RequirementResult, Status

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#222;max-width:1400px}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em}
.verdict{display:inline-block;padding:.15em .6em;border-radius:4px;color:#fff;font-weight:bold}
.pass,.passed{background:#2e7d32}.fail,.failed,.interrupted,.error{background:#c62828}
.blocked,.incomplete{background:#ef6c00}.not-judged{background:#9e9e9e}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}
th.op{writing-mode:vertical-rl;transform:rotate(180deg);font-weight:normal;font-size:.85em}
td.cell{text-align:center;color:#fff;font-size:.8em;width:2.2em}td.none{background:#f5f5f5}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto;white-space:pre-wrap;word-break:break-all;font-size:.85em}
.failure{border-left:4px solid #c62828;padding-left:1em;margin:1.5em 0}
.thumbs img{margin:2px;border:1px solid #ccc;max-width:96px;max-height:96px;image-rendering:pixelated}
.muted{color:#666}
"""


def to_html(report: Report) -> str:
    """The whole report as one HTML document."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>pixelpact check report</title>',
        f"<style>{STYLE}</style></head><body>",
        f'<h1>pixelpact check <span class="verdict {report.verdict.value}">{report.verdict.value.upper()}</span></h1>',
        _header(report),
        _findings(report),
        _matrix(report),
        _gallery(report),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _header(report: Report) -> str:
    errors = "".join(f"<p class='fail verdict'>error: {escape(error)}</p>" for error in report.errors)
    return (
        f"<p>Target <code>{escape(report.target)}</code>, seed <code>{report.seed}</code>, "
        f"{report.requests_sent} requests in {report.duration:.1f}s. "
        f"{escape(report.coverage().line())} (requirement x operation).</p>{errors}"
    )


def _matrix(report: Report) -> str:
    operations = list(report.operations) or sorted({r.operation_id for r in report.results})
    by_requirement: dict[str, dict[str, RequirementResult]] = {}
    for result in report.results:
        by_requirement.setdefault(result.requirement.id, {})[result.operation_id] = result
    head = "".join(f'<th class="op">{escape(op)}</th>' for op in operations)
    rows = []
    for cells in by_requirement.values():
        requirement = next(iter(cells.values())).requirement
        tds = []
        for operation in operations:
            cell = cells.get(operation)
            if cell is None:
                tds.append('<td class="cell none" title="not applicable"></td>')
            else:
                title = escape(cell.message or cell.status.value, quote=True)
                finding = report.finding_of(cell) if cell.status in (Status.FAILED, Status.BLOCKED) else None
                label = f'<a href="#{finding.id}">{cell.status.value}</a>' if finding else cell.status.value
                tds.append(f'<td class="cell {cell.status.value}" title="{title}">{label}</td>')
        rows.append(
            f"<tr id='{anchor(requirement.id)}'><td><b>{escape(requirement.id)}</b><br>"
            f"<span class='muted'>{escape(requirement.title)}</span></td>"
            f"<td>{requirement.severity.value}</td><td>{requirement.origin.value}</td>{''.join(tds)}</tr>"
        )
    columns = f"<th>requirement</th><th>severity</th><th>origin</th>{head}"
    return f"<h2>Requirements</h2><table><tr>{columns}</tr>{''.join(rows)}</table>"


def anchor(requirement_id: str) -> str:
    """The id of a requirement's row in the matrix (the Markdown report links to it; a finding's id is its own)."""
    return f"req-{requirement_id}"


def _findings(report: Report) -> str:
    if not report.findings:
        return "<h2>Findings</h2><p>None.</p>"
    blocks = [
        f"<h2>Findings ({len(report.findings)})</h2><p class='muted'>One per root cause. Each request is a curl "
        "command; a file part (<code>-F image=@image-1.png</code>) names a local file: any small PNG reproduces it.</p>"
    ]
    by_pair = {(r.requirement.id, r.operation_id): r for r in report.results}
    for finding in report.findings:
        where = f"<p>Broke: <b>{escape(finding.where)}</b></p>" if finding.where else ""
        pairs = ", ".join(
            f"{escape(rid)} on {escape(op)} <span class='muted'>origin: {_origin(by_pair[(rid, op)])}</span>"
            for rid, op in finding.pairs
        )
        blocks.append(
            f"<div class='failure' id='{escape(finding.id, quote=True)}'><h3>{escape(finding.id)}: "
            f"{escape(finding.title)}</h3>{where}<p>{len(finding.pairs) - finding.blocked} failed, {finding.blocked} "
            f"blocked: <span class='muted'>{pairs}</span></p><p><b>{escape(finding.evidence)}</b></p>"
            f"<p>Reproduce:</p><pre>{escape(finding.reproduction)}</pre>"
        )
        known = next((by_pair[pair].known for pair in finding.pairs if by_pair[pair].known), None)
        if known is not None:
            blocks.append(f"<p class='muted'>Known deviation, in the baseline: {escape(known)}</p>")
        first = next((f for pair in finding.pairs for f in by_pair[pair].failures if f.exchange is not None), None)
        if first is not None and first.exchange is not None:
            blocks.append(f"<details><summary>Evidence</summary>{_exchange(first.exchange)}</details>")
        blocks.append("</div>")
    return "\n".join(blocks)


def _origin(result: RequirementResult) -> str:
    origin = result.requirement.origin
    return origin.value if origin is not None else "unknown"


def _exchange(exchange: Exchange) -> str:
    status = str(exchange.status) if exchange.status is not None else f"no response: {exchange.error}"
    headers = "\n".join(f"{name}: {value}" for name, value in exchange.response_headers)
    return (
        f"<p>Request:</p><pre>{escape(exchange.curl)}</pre>"
        f"<p>Response: <b>{escape(status)}</b></p><pre>{escape(headers)}\n\n{escape(exchange.body_excerpt)}</pre>"
        + _thumbs(exchange)
    )


def _thumbs(exchange: Exchange) -> str:
    if not exchange.images:
        return ""
    images = "".join(
        f'<img alt="returned image" src="data:image/png;base64,{base64.b64encode(image).decode()}">'
        for image in exchange.images
    )
    return f"<div class='thumbs'>{images}</div>"


def _gallery(report: Report) -> str:
    rows = []
    for result in report.results:
        exchange = result.sample
        if exchange is None or not exchange.images or result.requirement.id not in GALLERY_REQUIREMENTS:
            continue
        rows.append(
            f"<tr><td>{escape(result.operation_id)}</td><td>{escape(result.requirement.id)}</td>"
            f"<td>{_thumbs(exchange)}</td></tr>"
        )
    if not rows:
        return ""
    return f"<h2>Images the gateway returned</h2><table>{''.join(rows)}</table>"


#: Requirements whose sample exchange is shown in the gallery (one image-bearing answer each).
GALLERY_REQUIREMENTS = frozenset({"b64-json-is-image", "url-serves-image", "stream-completed-per-image"})
