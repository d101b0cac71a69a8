"""Ctrl-C during a run: the sender hears of it before anything else can swallow it.

schemathesis and hypothesis catch KeyboardInterrupt in their own loops (schemathesis turns it into an event and winds
down as if the run had ended), and requests in flight sit in worker threads that a signal never reaches. The handler
tells the sender first (a flag: requests in flight end within a fraction of a second, nothing more is sent, the engine
reports the run as interrupted), then raises KeyboardInterrupt as Python's own handler does.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def on_interrupt(callback: Callable[[], None]) -> Iterator[None]:
    """Call `callback` on SIGINT, then raise KeyboardInterrupt; a no-op outside the main thread or when SIGINT is
    ignored (a background job)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.SIG_IGN or previous is None:
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        callback()
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
