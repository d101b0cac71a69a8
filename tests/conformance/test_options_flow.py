"""A run's options flow from the one CheckOptions: `api.check` hands each field by its name to the Sender, the Target,
the RunContext and the ModelLimits (options.passed_to), naming only what it works out (the stub's URL, the seed
drawn, the redactor), so a new option reaches them without an edit there. Observed end to end, through a group that
keeps the RunContext it was given."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path

from pixelpact.conformance.api import CheckOptions, check
from pixelpact.conformance.engine.context import RunContext, Target
from pixelpact.conformance.engine.model_limits import ModelLimits
from pixelpact.conformance.model import Observation, Origin, Requirement, Severity
from pixelpact.conformance.options import passed_to
from pixelpact.conformance.wire.http import Sender

CONFORMANCE = Path(__file__).resolve().parents[2] / "conformance"
RECEIVERS = (Sender, Target, RunContext, ModelLimits)
REQ = Requirement("kept-context", "the run's context is kept", "nowhere", Severity.MINOR, "capture", Origin.CONVENTION)


class Capture:
    """A group that sends nothing and keeps the RunContext the engine gave it."""

    name = "capture"
    requirements = (REQ,)

    def __init__(self) -> None:
        self.ctx: RunContext | None = None

    def run(self, ctx: RunContext) -> Iterator[Observation]:
        self.ctx = ctx
        yield Observation(REQ.id, ctx.operations[0].operation_id, True)


def test_every_option_reaches_the_run_as_given(stub_url: str) -> None:
    options = CheckOptions(
        base_url=stub_url,
        operations=("createImage",),
        groups=("capture",),
        api_key="sk-flow-0123456789",
        auth="x-api-key",
        model="dall-e-3",
        deployment="flow-deployment",
        api_version="2024-02-01",
        prefixes=(("/openai/v1", "/v1"),),
        seed=5,
        timeout=12.5,
        concurrency=3,
        headers=(("X-Team", "pixelpact"),),
        max_body=8 * 2**20,
    )
    capture = Capture()
    check(options, suite=(capture,))
    ctx = capture.ctx
    assert ctx is not None
    # the Target and the ModelLimits hold each option they take by name as given (the URL aside: the run's own)
    for receiver, made in ((Target, ctx.target), (ModelLimits, ctx.limits)):
        taken = {name: value for name, value in passed_to(receiver, options).items() if name != "base_url"}
        assert {name: getattr(made, name) for name in taken} == taken, receiver
    assert set(passed_to(Target, options)) == {
        "base_url", "prefixes", "model", "deployment", "api_version", "api_key", "auth"
    }  # fmt: skip
    assert ctx.target.base_url == stub_url and not ctx.target.builtin
    assert (ctx.seed, ctx.concurrency, ctx.limits.model) == (5, 3, "dall-e-3")
    assert ctx.sender.timeout == 12.5 and ctx.sender.custom_headers == {"X-Team": "pixelpact"}
    # what the Sender takes by name, as given
    assert passed_to(Sender, options) == {
        "timeout": 12.5,
        "concurrency": 3,
        "max_requests": None,
        "transport": None,
        "headers": (("X-Team", "pixelpact"),),
        "max_time": None,
        "max_body": 8 * 2**20,
    }


def test_a_new_option_flows_by_its_name_alone() -> None:
    @dataclass
    class WithRetries(CheckOptions):
        retries: int = 3

    def receiver(timeout: float, retries: int, gateway: str) -> None:
        """A receiver of the run's options (the Sender, once it takes `retries`)."""

    taken = passed_to(receiver, WithRetries(retries=5, timeout=2.0), gateway="http://gw")
    assert taken == {"timeout": 2.0, "retries": 5, "gateway": "http://gw"}


def test_every_option_is_read_somewhere() -> None:
    """A field of CheckOptions either goes by its name to a receiver or is read as `options.NAME` by the run."""
    taken = {name for receiver in RECEIVERS for name in passed_to(receiver, CheckOptions())}
    source = "\n".join(path.read_text() for path in CONFORMANCE.rglob("*.py"))
    unread = [
        field.name
        for field in fields(CheckOptions)
        if field.name not in taken and not re.search(rf"\boptions\.{field.name}\b", source)
    ]
    assert unread == []


def test_only_what_the_run_works_out_is_named() -> None:
    """api.check names no option a receiver takes by its name: it would shadow the option with a copy."""
    api = (CONFORMANCE / "api.py").read_text()
    by_name = {name for receiver in RECEIVERS for name in passed_to(receiver, CheckOptions())}
    named = set(re.findall(r"^\s+(\w+)=options\.\w+,?$", api, re.MULTILINE))
    assert named & by_name == set(), named & by_name
