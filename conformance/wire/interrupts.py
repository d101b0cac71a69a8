"""Ctrl-C during a run: the sender hears of it before anything else can swallow it.

schemathesis and hypothesis catch KeyboardInterrupt in their own loops (schemathesis turns it into an event and winds
down as if the run had ended), and requests in flight sit in worker threads that a signal never reaches. The handler
tells the sender first (a flag: requests in flight end within a fraction of a second, every later send raises
KeyboardInterrupt in the thread that makes it, the engine reports the run as interrupted), then raises
KeyboardInterrupt as Python's own handler does, except inside a finalizer (a weakref callback, `__del__`), where
Python would print the exception and drop it: there the flag alone winds the run down; and except inside code that
exec() or eval() runs from a string (dataclasses, namedtuple build their methods so): CPython marks a KeyboardInterrupt
leaving such code as unhandled even when a caller catches it, and then ends the process by SIGINT at exit instead of
with its exit status (130). There the interrupt is delivered again a moment later, once that code has returned.
"""

from __future__ import annotations

import _thread
import gc
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
        if in_finalizer(frame):
            return
        if in_code_from_a_string(frame):
            redeliver_soon(signum)
            return
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def in_finalizer(frame: FrameType | None) -> bool:
    """Whether the signal arrived while a finalizer or a garbage-collection callback ran (an exception raised there is
    printed as "Exception ignored", then lost): `__del__`, weakref callbacks, and the functions in `gc.callbacks`
    (hypothesis registers one to time the collector)."""
    gc_codes = {getattr(callback, "__code__", None) for callback in gc.callbacks}
    while frame is not None:
        code = frame.f_code
        if code.co_name == "__del__" or code.co_filename.endswith("weakref.py") or code in gc_codes:
            return True
        frame = frame.f_back
    return False


#: Seconds before an interrupt that arrived inside code run from a string is delivered again.
REDELIVERY_DELAY = 0.02


def in_code_from_a_string(frame: FrameType | None) -> bool:
    """Whether the signal arrived while code that exec() or eval() compiled from a string ran (its file name is
    "<string>"); the outermost frame does not count (that is `python -c`, whose KeyboardInterrupt is unhandled)."""
    while frame is not None and frame.f_back is not None:
        if frame.f_code.co_filename == "<string>":
            return True
        frame = frame.f_back
    return False


def redeliver_soon(signum: int) -> None:
    """Simulate `signum` arriving again in REDELIVERY_DELAY seconds (nothing happens if it is ignored by then)."""
    timer = threading.Timer(REDELIVERY_DELAY, _thread.interrupt_main, (signum,))
    timer.daemon = True
    timer.start()
