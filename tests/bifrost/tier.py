"""The Bifrost tier's run: which operations and options `pixelpact check` gets, and the gate that decides whether
the tier runs at all.

Where no Bifrost binary can be found the tier fails under CI (`CI=true`) and is skipped, with one line saying how to
point it at a binary, on anyone else's clone; `PIXELPACT_SKIP_BIFROST=1` skips it knowingly anywhere.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

import pytest

from tests.bifrost.gateway import BIN_ENV, Binary, BinaryMissing, locate

#: The opt-out: set to 1 to skip the tier on purpose, CI included.
SKIP_ENV = "PIXELPACT_SKIP_BIFROST"
#: Every image operation of the spec: Bifrost serves the native, OpenAI-compatible and Azure deployment routes at
#: the spec's own paths (the spec was written from its documentation), so no --prefix is needed.
OPERATIONS = (
    "createImage",
    "createImageEdit",
    "createImageVariation",
    "openaiCreateImage",
    "openaiCreateImageEdit",
    "openaiCreateImageVariation",
    "azureCreateImage",
    "azureCreateImageEdit",
    "azureCreateImageVariation",
)
SEED = 7


def check_command(url: str, upstream_port: int) -> list[str]:
    """`pixelpact check`'s arguments for the tier's run (the default, deep, profile of a loopback target)."""
    command = ["check", "--base-url", url, "--upstream-port", str(upstream_port), "--seed", str(SEED)]
    for operation in OPERATIONS:
        command += ["--operation", operation]
    return command


def ensure_binary(environ: Mapping[str, str] = os.environ, locator: Callable[[], Binary] = locate) -> Binary:
    """The Bifrost binary to run; without one, fail under CI and skip elsewhere, saying how to point at one."""
    if environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{SKIP_ENV}=1: the Bifrost tier is skipped at the user's request")
    try:
        return locator()
    except BinaryMissing as exc:
        if environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(
                f"the Bifrost tier cannot run under CI: {exc}\nSet {SKIP_ENV}=1 to skip the tier knowingly.",
                pytrace=False,
            )
        pytest.skip(f"Bifrost tier skipped: {exc} (set {BIN_ENV}=/path/to/bifrost-http)")
