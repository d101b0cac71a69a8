"""Check's options are validated from the one table (pixelpact.conformance.flags): the bounds and every other rule
(the auth scheme, the URL, the prefixes, the headers, the body cap, the upstream's) are declared with their flag, and
each gives one line naming the option at fault, the same whether the options came from the command line, the config
file, the pytest plugin or the Python API."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from pixelpact.conformance import flags
from pixelpact.conformance.options import CheckError, CheckOptions, validate

#: (the flag whose rule it is, the one wrong field (or several, for a rule between options), the line it gives)
RULES: list[tuple[str, dict[str, Any], str]] = [
    ("base-url", {"base_url": "ftp://example.org"}, "base URL 'ftp://example.org' is not an http(s) URL"),
    ("base-url", {"base_url": "http://"}, "base URL 'http://' is not an http(s) URL"),
    ("auth", {"auth": "cookie"}, "unknown auth scheme 'cookie'; use one of bearer, basic, x-bf-vk, x-api-key, api-key"),
    ("prefix", {"prefixes": (("v1", "/x"),)}, "prefix v1=/x: both sides must start with /"),
    ("prefix", {"prefixes": (("/v1", "x"),)}, "prefix /v1=x: both sides must start with /"),
    ("header", {"headers": (("bad name", "v"),)}, "header 'bad name' is not 'Name: value'"),
    ("header", {"headers": (("X-A", "a\nb"),)}, "header 'X-A': the value holds a line break or a NUL"),
    ("max-body-mb", {"max_body": 0}, "max-body must be at least 1 byte"),
    (
        "upstream",
        {"upstream": "127.0.0.1:1"},
        "--upstream/--upstream-port check what a gateway forwards: give the gateway with --base-url",
    ),
    (
        "upstream-port",
        {"upstream_port": 1},
        "--upstream/--upstream-port check what a gateway forwards: give the gateway with --base-url",
    ),
    (
        "upstream-model-rules",
        {"base_url": "http://127.0.0.1:9", "upstream_model_rules": "dall-e-3"},
        "--upstream-model-rules is for the recording upstream: give --upstream-port too",
    ),
    (
        "upstream-model-rules",
        {"base_url": "http://127.0.0.1:9", "upstream_port": 1, "upstream_model_rules": "dall-e-9"},
        "upstream-model-rules: no rules for 'dall-e-9' (known: ",
    ),
]
#: (the wrong field, the line its flag's bound gives)
BOUNDS: list[tuple[dict[str, Any], str]] = [
    ({"timeout": 0}, "timeout must be positive"),
    ({"max_time": -1.0}, "max-time must be positive"),
    ({"rate_limit": 0.0}, "rate-limit must be positive"),
    ({"concurrency": 0}, "concurrency must be at least 1"),
    ({"max_examples": 0}, "max-examples must be at least 1"),
    ({"max_requests": 0}, "max-requests must be at least 1"),
    ({"max_images": -1}, "max-images must be at least 0"),
]


def rejected(**fields: Any) -> str:
    with pytest.raises(CheckError) as caught:
        validate(CheckOptions(**fields))
    return str(caught.value)


@pytest.mark.parametrize(("flag", "fields", "line"), RULES, ids=[f"{rule[0]}-{i}" for i, rule in enumerate(RULES)])
def test_each_rule_gives_its_one_line(flag: str, fields: dict[str, Any], line: str) -> None:
    message = rejected(**fields)
    assert message == line or (line.endswith("(known: ") and message.startswith(line)), message
    assert "\n" not in message


@pytest.mark.parametrize(("flag", "fields", "line"), RULES, ids=[f"{rule[0]}-{i}" for i, rule in enumerate(RULES)])
def test_each_rule_is_its_flags_and_nowhere_else(
    flag: str, fields: dict[str, Any], line: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the flag's `check`, the same options pass: the rule is declared in the table, not written out."""
    assert flag in {f.name for f in flags.FLAGS if f.check is not None}
    monkeypatch.setattr(
        flags, "FLAGS", tuple(dataclasses.replace(f, check=None) if f.name == flag else f for f in flags.FLAGS)
    )
    validate(CheckOptions(**fields))


@pytest.mark.parametrize(("fields", "line"), BOUNDS)
def test_each_bound_names_its_option(fields: dict[str, Any], line: str) -> None:
    assert rejected(**fields) == line


def test_every_rule_of_the_table_is_exercised_here() -> None:
    declared = {flag.name for flag in flags.FLAGS if flag.check is not None}
    assert declared == {rule[0] for rule in RULES}
    bounded = {flag.field for flag in flags.FLAGS if flag.minimum is not None or flag.positive}
    assert bounded == {field for fields, _ in BOUNDS for field in fields}


def test_valid_options_pass() -> None:
    validate(CheckOptions())
    validate(
        CheckOptions(
            base_url="https://gateway.example.org",
            auth="x-api-key",
            prefixes=(("/openai/v1", "/v1"), ("/v1", "")),
            headers=(("X-Team", "pixelpact"),),
            upstream_port=1,
            upstream_model_rules="dall-e-3",
        )
    )
