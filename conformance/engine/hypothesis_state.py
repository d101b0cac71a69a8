"""Keep hypothesis's state (its `.hypothesis/` folder: constants collected from source, unicode tables) out of the
folder a run was started in: during a check it lives under pixelpact's cache directory.

The suite runs hypothesis with no example database, but hypothesis still writes caches into `$CWD/.hypothesis/`;
`pixelpact check` or `pytest --pixelpact-url` started in a gateway's repository must not leave that folder behind.
A user who asked for a place (`HYPOTHESIS_STORAGE_DIRECTORY`) keeps it. In a pytest session the previous home is
restored afterwards, so the project's own hypothesis tests keep their database where they had it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from pixelpact.generator.state import cache_dir

#: hypothesis's own switch for its storage directory; when set, the user chose, and pixelpact leaves it alone.
STORAGE_ENV = "HYPOTHESIS_STORAGE_DIRECTORY"
#: The module global of hypothesis.configuration holding the chosen home (None: not chosen yet).
_HOME_GLOBAL = "__hypothesis_home_directory"


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
