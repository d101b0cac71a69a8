"""Reports of a run: the console table, JUnit XML, JSON and a self-contained HTML page.

Every report is rendered from the Report alone, whose evidence was redacted when it was recorded, so no report can
contain a credential.
"""

from __future__ import annotations

import os
from pathlib import Path

from pixelpact.conformance.model import Report
from pixelpact.conformance.reporting.console import ProgressLine, render
from pixelpact.conformance.reporting.html import to_html
from pixelpact.conformance.reporting.machine import to_json, to_junit
from pixelpact.conformance.reporting.markdown import to_markdown

__all__ = ["ProgressLine", "render", "to_html", "to_json", "to_junit", "to_markdown", "write_reports"]


def write_reports(
    report: Report,
    *,
    junit: Path | None = None,
    json_report: Path | None = None,
    html: Path | None = None,
    markdown: Path | None = None,
) -> list[Path]:
    """Write the requested report files (parents created); returns the paths written."""
    written = []
    for path, render_to in ((junit, to_junit), (json_report, to_json), (html, to_html), (markdown, None)):
        if path is None:
            continue
        if render_to is None:  # the summary links to the HTML report, relative to where the summary lies
            link = Path(os.path.relpath(html, path.parent)).as_posix() if html is not None else None
            text = to_markdown(report, html=link)
        else:
            text = render_to(report)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
