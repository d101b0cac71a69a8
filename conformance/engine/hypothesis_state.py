"""What hypothesis keeps and reads beyond the seed, kept out of a check: its state folder, and the constants it
collects from the source of the modules loaded in the process.

State: the suite runs hypothesis with no example database, but hypothesis still writes caches into
`$CWD/.hypothesis/`; `pixelpact check` or `pytest --pixelpact-url` started in a gateway's repository must not leave
that folder behind. A user who asked for a place (`HYPOTHESIS_STORAGE_DIRECTORY`) keeps it. In a pytest session the
previous home is restored afterwards, so the project's own hypothesis tests keep their database where they had it.

Local constants: hypothesis (6.170, as installed) draws, now and then, a short string or number found in the source
of any module loaded from outside site-packages and the standard library: pixelpact's own modules in an editable
install (none from a wheel), the modules of the project a pytest run is in, and any module imported while the run
goes on. So adding a string anywhere in pixelpact, installing it another way or importing one more module changed
the requests a seed draws. During a check hypothesis draws from its own built-in constants only.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from pixelpact.generator.state import cache_dir

#: hypothesis's own switch for its storage directory; when set, the user chose, and pixelpact leaves it alone.
STORAGE_ENV = "HYPOTHESIS_STORAGE_DIRECTORY"
#: The module global of hypothesis.configuration holding the chosen home (None: not chosen yet).
_HOME_GLOBAL = "__hypothesis_home_directory"
#: The function of hypothesis.internal.conjecture.providers that collects the loaded modules' constants; hypothesis
#: has no setting for it (tests/conformance/test_determinism.py fails if a new hypothesis renames it).
_LOCAL_CONSTANTS = "_get_local_constants"


@contextmanager
def hypothesis_for_a_check() -> Iterator[None]:
    """Within the block hypothesis keeps its state in pixelpact's cache and draws no local constants."""
    with ExitStack() as stack:
        stack.enter_context(hypothesis_state_in_cache())
        stack.enter_context(without_local_constants())
        yield


@contextmanager
def hypothesis_state_in_cache() -> Iterator[None]:
    """Within the block, hypothesis stores its state under `<pixelpact cache>/hypothesis` (unless the user chose)."""
    if os.environ.get(STORAGE_ENV):
        yield
        return
    from hypothesis import configuration

    previous = vars(configuration).get(_HOME_GLOBAL)
    configuration.set_hypothesis_home_dir(cache_dir("hypothesis"))
    try:
        yield
    finally:
        configuration.set_hypothesis_home_dir(previous)


def local_constants_collected() -> bool:
    """Whether the installed hypothesis collects constants from the loaded modules (the feature this turns off)."""
    from hypothesis.internal.conjecture import providers

    return hasattr(providers, _LOCAL_CONSTANTS)


@contextmanager
def without_local_constants() -> Iterator[None]:
    """Within the block, hypothesis finds no constants in the loaded modules; its built-in ones stay."""
    if not local_constants_collected():
        yield
        return
    from hypothesis.internal.conjecture import providers
    from hypothesis.internal.constants_ast import Constants

    none = Constants()
    previous: Any = getattr(providers, _LOCAL_CONSTANTS)
    setattr(providers, _LOCAL_CONSTANTS, lambda: none)
    # the permitted constants per kind of draw, computed with the local ones by an earlier run in this process
    providers.CONSTANTS_CACHE.cache.clear()
    try:
        yield
    finally:
        setattr(providers, _LOCAL_CONSTANTS, previous)
        providers.CONSTANTS_CACHE.cache.clear()
