"""Where pixelpact keeps state between runs: the user's cache directory, never the folder it was started in.

`$PIXELPACT_CACHE_DIR` if set, else `$XDG_CACHE_HOME/pixelpact`, else `~/.cache/pixelpact` (the LiteLLM test tier
installs under the same root). Everything kept there is a cache: deleting it only makes the next run slower.
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "PIXELPACT_CACHE_DIR"


def cache_dir(*parts: str) -> Path:
    """The directory for `parts` under pixelpact's cache root (not created: callers create it when they write)."""
    root = os.environ.get(CACHE_ENV)
    if root:
        return Path(root, *parts)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base, "pixelpact", *parts)
