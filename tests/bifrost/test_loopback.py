"""Bifrost connects to nothing but loopback while the tier runs: every connect(2) it made, traced with strace over
its whole life (start-up, the pricing fetch, every request of the check run), went to 127.0.0.1."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.bifrost.conftest import Run, Tier
from tests.bifrost.gateway import is_loopback, remote_addresses

pytestmark = pytest.mark.bifrost


def test_bifrost_connects_to_nothing_but_loopback(tier: Tier, run: Run) -> None:
    if tier.gateway.trace is None:
        message = "strace is not installed (apt-get install strace): Bifrost's connects were not traced"
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(message, pytrace=False)  # .ci/run installs it; a CI without it must not pass this silently
        pytest.skip(message)
    addresses = remote_addresses(tier.gateway.trace.read_text())
    # the trace saw the run: Bifrost's connections to the recording upstream are there
    assert any(address.endswith(f":{tier.upstream_port}") for address in addresses), addresses[:20]
    elsewhere = sorted({address for address in addresses if not is_loopback(address)})
    assert not elsewhere, f"Bifrost connected beyond loopback: {elsewhere}"


def test_a_connect_elsewhere_is_caught() -> None:
    """The check is not vacuous: strace's lines for a public address, IPv6 or IPv4, are not loopback."""
    trace = (
        '42 connect(7, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("104.18.2.1")}, 16) = -1\n'
        "42 connect(8, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), "
        'inet_pton(AF_INET6, "2606:4700::1", &sin6_addr), sin6_scope_id=0}, 28) = -1 ENETUNREACH\n'
        '42 connect(9, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.53")}, 16) = 0\n'
        '42 connect(10, {sa_family=AF_UNIX, sun_path="/run/x.sock"}, 110) = 0\n'
    )
    addresses = remote_addresses(trace)
    assert addresses[:2] == ["AF_INET 104.18.2.1:443", "AF_INET6 2606:4700::1:443"]
    assert [is_loopback(address) for address in addresses] == [False, False, True, True]


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_strace_sees_a_real_connect(tmp_path: Path) -> None:
    """The tracing the tier uses records a real process's connect(2) with the address it asked for."""
    import socket
    import subprocess
    import sys

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        trace = tmp_path / "trace"
        script = f"import socket; socket.create_connection(('127.0.0.1', {port})).close()"
        command = ["strace", "-f", "-qq", "--seccomp-bpf", "-e", "trace=connect", "-e", "signal=none"]
        subprocess.run([*command, "-o", str(trace), sys.executable, "-c", script], check=True, timeout=30)
    assert f"AF_INET 127.0.0.1:{port}" in remote_addresses(trace.read_text())
