"""Deprecated alias of `pixelpact.conformance.cli.pytest_plugin`, the pytest plugin's module since issue 19.

pytest finds the plugin through pixelpact's `pytest11` entry point (named `pixelpact`), which names the new module;
this alias keeps `-p pixelpact.conformance.pytest_plugin`, `pytest_plugins = [...]` and installs made before the move
working, and says where the module went.
"""

from __future__ import annotations

import warnings

# the hooks pytest looks up by name, and what the module offered besides
from pixelpact.conformance.cli.pytest_plugin import (
    PixelpactRun,
    check_arguments,
    describe_failure,
    options,
    pytest_addoption,
    pytest_configure,
)

__all__ = ["PixelpactRun", "check_arguments", "describe_failure", "options", "pytest_addoption", "pytest_configure"]

warnings.warn(
    "pixelpact.conformance.pytest_plugin moved to pixelpact.conformance.cli.pytest_plugin; reinstall pixelpact "
    "(its pytest11 entry point names the new module) or import that",
    DeprecationWarning,
    stacklevel=2,
)
