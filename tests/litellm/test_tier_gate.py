"""The LiteLLM tier never vanishes silently: an install failure fails it; only PIXELPACT_SKIP_LITELLM=1 skips it.

These tests run without LiteLLM (no `litellm` marker): they exercise the gate with an installer that fails."""

from __future__ import annotations

import pytest

from tests.litellm.conftest import SKIP_ENV, ensure_installed
from tests.litellm.proxy import InstallError


def failing_installer() -> None:
    raise InstallError("pip could not reach the package index")


def test_an_install_failure_fails_the_tier_and_says_how_to_opt_out() -> None:
    with pytest.raises(pytest.fail.Exception) as failure:
        ensure_installed({}, failing_installer)

    assert "pip could not reach the package index" in str(failure.value)
    assert f"{SKIP_ENV}=1" in str(failure.value)


@pytest.mark.parametrize("value", ["", "0", "yes"])
def test_only_the_explicit_opt_out_skips(value: str) -> None:
    with pytest.raises(pytest.fail.Exception):
        ensure_installed({SKIP_ENV: value}, failing_installer)


def test_the_opt_out_skips_without_installing() -> None:
    def must_not_run() -> None:
        raise AssertionError("installed despite the opt-out")

    with pytest.raises(pytest.skip.Exception, match=SKIP_ENV):
        ensure_installed({SKIP_ENV: "1"}, must_not_run)
