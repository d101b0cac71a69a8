"""The allocator setting a `pixelpact check` process needs: freed response bodies go back to the system.

glibc raises its mmap threshold to the size of each large buffer freed; after that, buffers of that size come from
per-thread heaps that never shrink, and a run of answers cut at the cap held about three caps per request in flight
instead of one (bench/RESULTS-hostile.md). A fixed threshold (M_MMAP_THRESHOLD) stops the raising.

It is a setting of the whole process, so only the process pixelpact owns sets it: the `pixelpact check` command
(pixelpact.conformance.cli.check), never the Sender, which also runs inside a user's pytest process (the plugin) or
any program calling `pixelpact.conformance.api.check`, whose allocator is theirs to tune.
"""

from __future__ import annotations

import ctypes
import functools
import sys

#: glibc's mallopt parameter number for M_MMAP_THRESHOLD (malloc.h).
_M_MMAP_THRESHOLD = -3
#: glibc's own starting value of the threshold.
_THRESHOLD = 128 * 1024


@functools.cache
def return_freed_bodies() -> None:
    """Keep large buffers (response bodies) mmapped, so that a freed body's memory goes back to the system.

    Elsewhere than glibc this does nothing."""
    if not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, _THRESHOLD)
