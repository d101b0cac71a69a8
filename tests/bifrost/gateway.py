"""Find, unpack, start and stop Bifrost's HTTP gateway in front of pixelpact's recording upstream.

The binary is not in the repository: `../shared/bifrost/bifrost-http.xz` beside the clone holds a build of Bifrost's
gateway (its README says what it is and how to keep it on loopback). On first use it is decompressed into the cache,
`~/.cache/pixelpact/bifrost/<sha256 prefix>/bifrost-http`, its sha256 checked, under a lock so that two test runs
do not unpack it at once. `PIXELPACT_BIFROST_BIN=/path/to/bifrost-http` runs another build instead (with
`config.schema.json` beside it or in the shared folder).

Bifrost runs on 127.0.0.1 in a fresh working directory holding its `config.json` (the OpenAI and Azure providers
pointed at the recording upstream, a loopback pricing URL) and `config.schema.json`: with both it contacts nothing
but loopback; without the schema file it would download the schema at every start. When strace is installed the
gateway runs under it, tracing every connect(2), so a test can show where it connected.

    with bifrost_gateway(binary, upstream_port=41000, workdir=Path("bf")) as gateway:
        httpx.post(f"{gateway.url}/v1/images/generations", json={...})

By hand: `.venv/bin/python -m tests.bifrost.gateway` unpacks and starts it, prints the `pixelpact check` command
that checks it two-sided (the tier's), and stops it on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import lzma
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.litellm.proxy import SCRUBBED
from tests.processes import die_with_parent, free_port, interrupt, stop, wait_ready

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
#: The shared folder beside the clone (CI checks out a fresh clone with a read-only copy of it beside).
SHARED = ROOT.parent / "shared" / "bifrost"
#: The build the tier was confirmed against (shared/bifrost/README.md).
SHA256 = "356bfc120dbe0721a1de0133262f1aa72103b2cd1d7bd39fd699500095fc72d3"
BIN_ENV = "PIXELPACT_BIFROST_BIN"
SCHEMA = "config.schema.json"
#: Azure deployments the config lists (deployment id -> the provider's deployment name); Bifrost refuses one it does
#: not know. az-dalle3 is the LiteLLM tier's name, so that both gateways can be checked with one selection and
#: compared (README: `pixelpact compare`).
DEPLOYMENTS = {"dall-e-3": "dall-e-3", "dall-e-2": "dall-e-2", "gpt-image-1": "gpt-image-1", "az-dalle3": "dall-e-3"}
START_TIMEOUT = 30.0


class BinaryMissing(RuntimeError):
    """No Bifrost binary to run: the tier fails under CI and is skipped elsewhere, with this reason."""


@dataclass(frozen=True)
class Binary:
    """A runnable Bifrost and the config schema file it must find in its working directory."""

    path: Path
    schema: Path


def cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    return Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pixelpact" / "bifrost"


def locate(environ: Mapping[str, str] = os.environ, shared: Path = SHARED) -> Binary:
    """The binary named by PIXELPACT_BIFROST_BIN, else the shared build unpacked into the cache; BinaryMissing."""
    named = environ.get(BIN_ENV)
    if named:
        path = Path(named).expanduser()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise BinaryMissing(f"{BIN_ENV}={named} is not an executable file")
        schema = next((p for p in (path.parent / SCHEMA, shared / SCHEMA) if p.is_file()), None)
        if schema is None:
            raise BinaryMissing(f"no {SCHEMA} beside {path} (Bifrost would download it at every start): copy it there")
        return Binary(path, schema)
    packed = shared / "bifrost-http.xz"
    if not packed.is_file() or not (shared / SCHEMA).is_file():
        raise BinaryMissing(f"no Bifrost build at {packed}; set {BIN_ENV}=/path/to/bifrost-http to run the tier")
    binary = unpack(packed, cache_dir(environ) / SHA256[:16])
    # beside the binary too, so that PIXELPACT_BIFROST_BIN can name the cached copy from any clone
    if not (binary.parent / SCHEMA).is_file():
        shutil.copyfile(shared / SCHEMA, binary.parent / SCHEMA)
    return Binary(binary, binary.parent / SCHEMA)


def unpack(packed: Path, folder: Path, sha256: str = SHA256) -> Path:
    """Decompress `packed` into folder/bifrost-http once (under a lock), checking its sha256; the binary's path."""
    target = folder / "bifrost-http"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second run waits here, then finds the binary in place
        if target.is_file() and os.access(target, os.X_OK):
            return target
        partial = folder / "bifrost-http.partial"
        digest = hashlib.sha256()
        with lzma.open(packed) as source, partial.open("wb") as out:
            while chunk := source.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256:
            partial.unlink()
            raise BinaryMissing(f"{packed} decompresses to sha256 {digest.hexdigest()}, not the build's {sha256}")
        partial.chmod(0o755)
        partial.rename(target)
    return target


def config(upstream_port: int) -> dict[str, object]:
    """Bifrost's config.json: OpenAI and Azure providers on the recording upstream, pricing from loopback."""
    upstream = f"http://127.0.0.1:{upstream_port}"
    network = {"default_request_timeout_in_seconds": 60}
    return {
        "$schema": "https://www.getbifrost.ai/schema",
        "client": {
            "drop_excess_requests": False,
            "enable_logging": False,
            "allow_direct_keys": False,
            "max_request_body_size_mb": 100,
        },
        # A 404 from the upstream: Bifrost logs that it has no prices and serves on, without the internet.
        "framework": {"pricing": {"pricing_url": f"{upstream}/pricing.json"}},
        "providers": {
            "openai": {
                "keys": [{"name": "openai-test", "value": "sk-bifrost-openai", "models": [], "weight": 1.0}],
                # the provider's root: Bifrost appends /v1/images/... itself
                "network_config": {"base_url": upstream, **network},
            },
            "azure": {
                "keys": [
                    {
                        "name": "azure-test",
                        "value": "bifrost-azure-key",
                        "models": [],
                        "weight": 1.0,
                        "azure_key_config": {
                            "endpoint": upstream,
                            "api_version": "2024-02-01",
                            "deployments": DEPLOYMENTS,
                        },
                    }
                ],
                "network_config": network,
            },
        },
    }


@dataclass(frozen=True)
class Gateway:
    """A running Bifrost: its base URL, PID, log, and the strace output of its connect calls (None: not traced)."""

    url: str
    pid: int
    log: Path
    trace: Path | None


def environment() -> dict[str, str]:
    """The caller's environment minus every provider credential, base URL and proxy (tests.litellm.proxy)."""
    env = {name: value for name, value in os.environ.items() if name not in SCRUBBED}
    env["NO_PROXY"] = "127.0.0.1,localhost"
    return env


@contextmanager
def bifrost_gateway(binary: Binary, upstream_port: int, workdir: Path, port: int | None = None) -> Iterator[Gateway]:
    """Start Bifrost on 127.0.0.1 in `workdir` (traced when strace is installed); stop it by PID on exit."""
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(binary.schema, workdir / SCHEMA)
    (workdir / "config.json").write_text(json.dumps(config(upstream_port), indent=2))
    port = port or free_port()
    command = [str(binary.path), "-app-dir", str(workdir), "-host", "127.0.0.1", "-port", str(port)]
    command += ["-log-level", "info", "-log-style", "json"]
    trace = None
    strace = shutil.which("strace")
    if strace:
        trace = workdir / "connect.trace"
        # seccomp-bpf: only connect(2) stops the process, so tracing costs next to nothing. -I1: SIGTERM ends strace
        # (with -o it would block it), and the exec stub below makes Bifrost die with strace: nothing outlives a run.
        tracing = [strace, "-I1", "-f", "-qq", "--seccomp-bpf", "-e", "trace=connect", "-e", "signal=none"]
        command = [*tracing, "-o", str(trace), sys.executable, "-c", _EXEC_DYING_WITH_PARENT, *command]
    log = workdir / "bifrost.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=workdir,  # where it looks for config.schema.json
            env=environment(),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )
    try:
        gateway = Gateway(
            f"http://127.0.0.1:{port}", _traced_pid(process, binary.path) if trace else process.pid, log, trace
        )
        wait_ready("Bifrost", f"{gateway.url}/health", process, log, START_TIMEOUT)
        yield gateway
    finally:
        if trace and process.poll() is None:
            _terminate(process)
        stop(process)


#: Run argv[1:] with a parent-death signal set: under strace, Bifrost's parent is strace, not the test process.
_EXEC_DYING_WITH_PARENT = (
    "import ctypes, os, signal, sys; ctypes.CDLL(None).prctl(1, signal.SIGTERM); os.execv(sys.argv[1], sys.argv[1:])"
)


def _traced_pid(process: subprocess.Popen[bytes], binary: Path) -> int:
    """The PID of Bifrost under strace: strace's child running `binary` (strace forks probes of its own first)."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and process.poll() is None:
        for pid in children.read_text().split():
            with contextlib.suppress(OSError):
                if Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0] == bytes(binary):
                    return int(pid)
        time.sleep(0.02)
    raise RuntimeError(f"strace started no {binary}")


def _terminate(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM strace's child (Bifrost) by its PID so that it stops gracefully; strace exits with it."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    for pid in children.read_text().split() if children.exists() else ():
        os.kill(int(pid), signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):  # then stop kills strace, and Bifrost dies with it
        process.wait(timeout=10)


#: strace's rendering of a connect(2) address: the family, then the address fields.
_CONNECT = re.compile(r"connect\(\d+, \{sa_family=(?P<family>AF_\w+)(?P<rest>[^}]*)\}")
_INET = re.compile(r'inet_addr\("(?P<addr>[^"]+)"\)|inet_pton\(AF_INET6, "(?P<addr6>[^"]+)"')


def remote_addresses(trace: str) -> list[str]:
    """Every address a traced process asked to connect to: `AF_INET 127.0.0.1:PORT`, `AF_UNIX ...`."""
    found = []
    for match in _CONNECT.finditer(trace):
        family, rest = match["family"], match["rest"]
        address = _INET.search(rest)
        port = re.search(r"htons\((\d+)\)", rest)
        if address:
            found.append(f"{family} {address['addr'] or address['addr6']}:{port[1] if port else '?'}")
        else:
            found.append(f"{family}{rest}")
    return found


def is_loopback(address: str) -> bool:
    """True for a local socket or a connect to 127.0.0.0/8 or ::1 (AF_UNSPEC is a UDP socket being disconnected)."""
    family, _, rest = address.partition(" ")
    if family in ("AF_UNIX", "AF_NETLINK", "AF_UNSPEC") or family.startswith(("AF_UNIX,", "AF_NETLINK,")):
        return True
    host = rest.rsplit(":", 1)[0]
    return host.startswith("127.") or host in ("::1", "::ffff:127.0.0.1")


def main(argv: list[str] | None = None) -> int:
    """Unpack and run Bifrost until Ctrl-C, printing how to check it with the recording upstream."""
    from tests.bifrost.tier import check_command

    parser = argparse.ArgumentParser(prog="python -m tests.bifrost.gateway", description=main.__doc__)
    parser.add_argument("--upstream-port", type=int, default=0, help="where its providers point (default: a free port)")
    parser.add_argument("--port", type=int, default=0, help="Bifrost's own port (default: a free port)")
    parser.add_argument("--workdir", type=Path, default=ROOT / ".cache" / "bifrost", help="its app dir and log")
    args = parser.parse_args(argv)
    try:
        binary = locate()
    except BinaryMissing as exc:
        print(exc, file=sys.stderr)
        return 1
    upstream_port = args.upstream_port or free_port()
    signal.signal(signal.SIGTERM, interrupt)
    with bifrost_gateway(binary, upstream_port, args.workdir, port=args.port or None) as gateway:
        print(f"Bifrost {gateway.url} (pid {gateway.pid}, log {gateway.log}); check it with:", flush=True)
        print("  .venv/bin/pixelpact " + " ".join(check_command(gateway.url, upstream_port)), flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("stopping Bifrost", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
