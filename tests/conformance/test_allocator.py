"""The allocator is the process owner's: `pixelpact check` fixes glibc's mmap threshold (freed response bodies go
back to the system, conformance/wire/allocator.py), while the pytest plugin, running the same suite inside a user's
test process, leaves that process's allocator as it found it. Each side is observed in a process of its own, by what
glibc does with a freed 4 MiB buffer: with the threshold fixed, the next one is mmapped again; as glibc behaves by
default, the threshold rises past it and the next one comes from the heap."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conformance.test_pytest_plugin import QUICK, pytest_in

if not sys.platform.startswith("linux"):
    pytest.skip("the threshold is glibc's", allow_module_level=True)

#: Prints "fixed" when three 4 MiB buffers in a row are each mmapped (glibc's mallinfo2 counts mmapped bytes).
PROBE = """
import ctypes

class MallInfo(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

def threshold_state():
    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = MallInfo
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]

    def mapped(size):
        before = libc.mallinfo2().hblkhd
        block = libc.malloc(size)
        grew = libc.mallinfo2().hblkhd - before
        libc.free(block)
        return grew >= size

    return "fixed" if all(mapped(4 * 2**20) for _ in range(3)) else "glibc's default"
"""


def probe(before: str = "") -> str:
    """The probe's answer in a fresh Python process, after `before` ran there."""
    script = PROBE + before + "\nprint('threshold:', threshold_state())\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False)
    answer = [line for line in done.stdout.splitlines() if line.startswith("threshold: ")]
    assert answer, done.stdout[-2000:] + done.stderr[-2000:]
    return answer[-1].removeprefix("threshold: ")


def test_the_probe_tells_a_fixed_threshold_from_glibcs_default() -> None:
    assert probe() == "glibc's default"
    assert probe("ctypes.CDLL(None).mallopt(-3, 128 * 1024)") == "fixed"


def test_the_check_command_fixes_the_threshold() -> None:
    check = "from pixelpact.conformance.cli import main\n"
    check += "main(['check', '--profile', 'quick', '--group', 'valid', '--operation', 'createImage'])"
    assert probe(check) == "fixed"


def test_the_pytest_plugin_leaves_the_users_allocator_alone(stub_url: str, tmp_path: Path) -> None:
    (tmp_path / "test_users_own.py").write_text(
        PROBE + '\n\ndef test_users_own():\n    assert threshold_state() == "glibc\'s default"\n'
    )
    done = pytest_in(tmp_path, "--pixelpact-url", stub_url, *QUICK, "--pixelpact-seed", "4")
    # the suite ran in this process first (at collection), then the user's own test
    assert "pixelpact: verdict pass" in done.stdout, done.stdout[-3000:] + done.stderr[-2000:]
    assert "PASSED test_users_own.py::test_users_own" in done.stdout, done.stdout[-3000:]
