"""A gateway's words are shown, never rendered: markup, Markdown links and images, pipes, newlines, backticks and a
terminal escape, sent by a gateway on loopback in its error message, its header values and (where the wire lets it)
a header name, go through every report (console, JSON, JUnit, HTML, Markdown) as text.

The Markdown summary is rendered with markdown-it-py (CommonMark and tables, as a pull-request comment would be):
no link, image or HTML of the gateway's may come out of it, and its words appear only as code.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from pixelpact.conformance.api import CheckOptions, check
from pixelpact.conformance.ci import compare
from pixelpact.conformance.model import Report
from pixelpact.conformance.reporting import render, to_html, to_json, to_junit, to_markdown
from tests.conformance.hostile import servers

HTML_LINK = "report.html"


@pytest.fixture(scope="module")
def report() -> Report:
    with servers.serve(servers.markup) as url:
        return check(
            CheckOptions(
                base_url=url,
                seed=1,
                timeout=5.0,
                groups=("valid",),
                operations=("createImage", "createImageEdit"),
            )
        )


def test_the_gateway_did_say_it(report: Report) -> None:
    """The evidence is there to render: the message in a finding's title, the header values in an exchange, the header
    name the wire refused in the transport error."""
    text = to_json(report)
    assert "</title><script>alert(3)</script>" in text and "[x](http://evil)" in text and "`tick`" in text
    assert any("<script>" in finding.title and "\x1b" in finding.title for finding in report.findings)
    assert servers.EVIL_HEADER in text  # quoted by the client's error: the wire itself refuses such a name


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def tags_of(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    return parser


def summaries(report: Report) -> list[str]:
    """The run's Markdown summary, and `pixelpact compare`'s of the run against itself (its findings table)."""
    return [to_markdown(report, html=HTML_LINK), compare.to_markdown(compare.compare(report, report))]


@pytest.mark.parametrize("which", [0, 1], ids=["summary", "compare"])
def test_markdown_renders_none_of_it(report: Report, which: int) -> None:
    source = summaries(report)[which]
    markdown = MarkdownIt("commonmark").enable("table")
    rendered = markdown.render(source)
    parsed = tags_of(rendered)
    assert not [tag for tag, _ in parsed.tags if tag in ("script", "img", "title", "em")], parsed.tags
    links = [attrs.get("href") or "" for tag, attrs in parsed.tags if tag == "a"]
    assert all(link.split("#")[0] == HTML_LINK for link in links), links
    # the gateway's words are there, as code, and nowhere outside code (where a renderer could link or format them)
    codes = re.findall(r"<code>(.*?)</code>", rendered, re.DOTALL)
    assert any("&lt;script&gt;alert(3)&lt;/script&gt;" in code and "`tick` ``two``" in code for code in codes)
    if which == 0:
        assert any("&lt;/title&gt;&lt;script&gt;" in code for code in codes)  # the refused header name
    outside = re.sub(r"<code>.*?</code>", "", rendered, flags=re.DOTALL)
    # (a finding id is a slug of the message's words, "...-http-evil-http": letters, digits and dashes only)
    for word in ("http://evil", "p.png", "alert", "tick", "script", "onerror"):
        assert word not in outside, (word, outside)
    assert "\x1b" not in source and "\\x1b[2J" in source
    for line in source.splitlines():  # the gateway's newline did not start a line of its own
        assert not line.startswith("c *em*"), line


def test_html_escapes_it(report: Report) -> None:
    page = to_html(report)
    parsed = tags_of(page)
    assert "script" not in [tag for tag, _ in parsed.tags]
    assert not [attrs for tag, attrs in parsed.tags if tag in ("a", "img") and "http://evil" in str(attrs)]
    assert "</title><script>alert(3)</script>" in "".join(parsed.text)


def test_json_and_junit_carry_it_as_data(report: Report) -> None:
    document = json.loads(to_json(report))
    headers = [
        (failure["exchange"] or {}).get("response_headers", {})
        for result in document["requirements"]
        for failure in result["failures"]
    ]
    assert {"x-evil": "</title><script>alert(3)</script>"}.items() <= next(h for h in headers if h).items()
    root = ET.fromstring(to_junit(report))
    assert not [
        element for element in root.iter() if element.tag not in ("testsuites", "testsuite", "testcase", "failure")
    ]
    messages = " ".join(str(element.get("message")) + (element.text or "") for element in root.iter("failure"))
    assert "</title><script>alert(3)</script>" in messages


def test_the_console_prints_it_without_acting_on_it(report: Report) -> None:
    console = render(report, color=False)
    assert "\x1b" not in console and "\r" not in console
    assert "\\x1b[2J`tick` ``two`` </title><script>alert(3)</script>" in console
