"""Speed of the stub gateway against its framework's limit and `prism mock`, in the same run (not a timed test).

    apt-get install -y wrk
    (mkdir -p .cache/prism && cd .cache/prism && npm i @stoplight/prism-cli@5)
    .venv/bin/python bench/stub_bench.py --repeat 3 --duration 5 --rss-requests 0      # about 5 minutes
    .venv/bin/python bench/stub_bench.py --workers 1,2 --rss-requests 100000           # and two workers, and memory
    .venv/bin/python bench/stub_bench.py --baseline /work/main --rss-requests 0      # before/after, main as before

Measures, with wrk on 127.0.0.1 (one wrk thread), requests per second and p50/p99 latency of a valid JSON generation
(POST /v1/images/generations) and a valid multipart variation (POST /v1/images/variations, a 77-byte PNG) at 10 and
100 connections, for the stub (`pixelpact serve`, one worker by default), the bare app (bench/bare_app.py: one
Starlette route reading the body and answering a small JSON object, one reading the form with Starlette's parser, on
the same uvicorn, uvloop and httptools: the framework's limit) and Prism 5.14 (`-v silent`), alternating between them
so all see the same machine load; the median of --repeat runs is reported for each, with the stub's ratio to the
bare app and to Prism and whether issue 23's targets hold. Then, with --rss-requests, the resident memory of a
one-worker stub over that many requests (JSON and multipart alternately), sampled after each wrk run of a few
seconds. Every server is started here, on an ephemeral port, and stopped by PID. Results are printed as Markdown and
written to bench/out/stub-bench.json, with the load average before and after.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PRISM = ROOT / ".cache" / "prism" / "node_modules" / "@stoplight" / "prism-cli" / "dist" / "index.js"
BOUNDARY = "pixelpactbench"
JSON_BODY = '{"model":"openai/dall-e-3","prompt":"a red fox in the snow","n":1,"size":"1024x1024"}'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def lua_string(data: bytes) -> str:
    return '"' + "".join(f"\\{c:03d}" if c < 32 or c > 126 or c in (34, 92) else chr(c) for c in data) + '"'


def multipart_body() -> bytes:
    image = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(image, "PNG")
    fields = [("model", "openai/dall-e-2"), ("n", "1"), ("size", "256x256")]
    out = b"".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields
    )
    out += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n'.encode()
    return out + b"Content-Type: image/png\r\n\r\n" + image.getvalue() + f"\r\n--{BOUNDARY}--\r\n".encode()


def write_scripts() -> dict[str, Path]:
    """wrk Lua scripts, one per request kind."""
    OUT.mkdir(parents=True, exist_ok=True)
    post = 'wrk.method="POST"\nwrk.headers["Content-Type"]='
    kinds = {
        "json": f'{post}"application/json"\nwrk.body={lua_string(JSON_BODY.encode())}\n',
        "multipart": f'{post}"multipart/form-data; boundary={BOUNDARY}"\nwrk.body={lua_string(multipart_body())}\n',
    }
    paths = {}
    for kind, script in kinds.items():
        paths[kind] = OUT / f"stub-{kind}.lua"
        paths[kind].write_text(script)
    return paths


PATHS = {"json": "/v1/images/generations", "multipart": "/v1/images/variations"}


def wait_ready(base: str, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode} before answering")
        try:
            httpx.post(base + PATHS["json"], content=JSON_BODY, headers={"content-type": "application/json"}, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"{what} did not answer within 30 s")


def check_valid(base: str, what: str) -> None:
    """Both requests must get a 200 from the target, or the comparison means nothing."""
    r = httpx.post(base + PATHS["json"], content=JSON_BODY, headers={"content-type": "application/json"})
    m = httpx.post(
        base + PATHS["multipart"],
        content=multipart_body(),
        headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    if r.status_code != 200 or m.status_code != 200:
        raise SystemExit(f"{what}: JSON {r.status_code}, multipart {m.status_code}: {r.text[:200]} {m.text[:200]}")


def wrk(script: Path, url: str, connections: int, duration: float, env: dict[str, str] | None = None) -> dict[str, Any]:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{int(duration)}s", "--latency", "-s", str(script), url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env={**os.environ, **(env or {})}).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    p99 = re.search(r"\s99%\s+([\d.]+)(us|ms|s)\b", out)
    p50 = re.search(r"\s50%\s+([\d.]+)(us|ms|s)\b", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    total = re.search(r"(\d+) requests in", out)
    return {
        "rps": rps,
        "p50_ms": float(p50[1]) * scale[p50[2]] if p50 else None,
        "p99_ms": float(p99[1]) * scale[p99[2]] if p99 else None,
        "non_2xx": int(non2xx[1]) if non2xx else 0,
        "socket_errors": errors[0] if errors else None,
        "requests": int(total[1]) if total else None,
        "command": " ".join(cmd),
    }


def bare_command(port: int) -> list[str]:
    """The bare app on the stub's uvicorn settings: uvloop, httptools, no access log, no Server/Date headers."""
    return [
        sys.executable, "-m", "uvicorn", "bench.bare_app:app", "--host", "127.0.0.1", "--port", str(port),
        "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning", "--lifespan", "off",
        "--no-server-header", "--no-date-header",
    ]  # fmt: skip


#: Issue 23's targets for the one-worker stub, per request kind: at least this share of the bare app's req/s, at least
#: this multiple of Prism's, and a p99 at most TAIL_FACTOR times the bare app's.
TARGETS = {"json": (0.75, 3.0), "multipart": (1.0, 2.0)}
TAIL_FACTOR = 2.0


def table(rows: list[dict[str, Any]], names: list[str], connections: list[int]) -> tuple[list[str], list[str]]:
    """The Markdown table of medians with the ratios to the bare app and Prism, and a verdict line per target."""
    by = {(r["target"], r["kind"], r["connections"]): r for r in rows}
    lines = [
        "| server | request | connections | req/s | p50 ms | p99 ms | CPU µs/req | non-2xx | vs bare | vs prism "
        "| p99 / bare p99 |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    verdicts = []
    for kind in ("json", "multipart"):
        for conns in connections:
            bare, prism = by.get(("bare", kind, conns)), by.get(("prism", kind, conns))
            for name in names:
                r = by[(name, kind, conns)]
                vs_bare = f"{r['rps'] / bare['rps']:.2f}x" if bare and name != "bare" else "-"
                vs_prism = f"{r['rps'] / prism['rps']:.2f}x" if prism and name != "prism" else "-"
                tail = f"{r['p99_ms'] / bare['p99_ms']:.2f}" if bare and name != "bare" else "-"
                lines.append(
                    f"| {name} | {kind} | {conns} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
                    f"{r['cpu_us']:.0f} | {r['non_2xx']} | {vs_bare} | {vs_prism} | {tail} |"
                )
            stub = by.get(("stub-1w", kind, conns))
            if stub is None:
                continue
            share, multiple = TARGETS[kind]
            checks = []
            if bare:
                got = stub["rps"] / bare["rps"]
                checks.append(f"{got:.2f} of bare req/s (>= {share:.2f}: {'met' if got >= share else 'NOT met'})")
                # The same target by CPU per request (the bare app's over the stub's), which machine load disturbs far
                # less than req/s: the throughput each would reach on a core of its own.
                by_cpu = bare["cpu_us"] / stub["cpu_us"]
                checks.append(f"by CPU per request {by_cpu:.2f} ({'met' if by_cpu >= share else 'NOT met'})")
                tail_ratio = stub["p99_ms"] / bare["p99_ms"]
                ok = tail_ratio <= TAIL_FACTOR
                checks.append(f"p99 {tail_ratio:.2f}x bare's (<= {TAIL_FACTOR:g}: {'met' if ok else 'NOT met'})")
            if prism:
                got = stub["rps"] / prism["rps"]
                checks.append(f"{got:.2f}x prism (>= {multiple:g}: {'met' if got >= multiple else 'NOT met'})")
            verdicts.append(f"stub-1w {kind} c={conns}: " + "; ".join(checks))
    return lines, verdicts


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of `pid` and its child processes (a server's workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # a process that just ended
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def start(cmd: list[str], what: str, base: str, cwd: Path = ROOT) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_ready(base, proc, what)
    except BaseException:
        stop(proc)
        raise
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--connections", default="10,100", help="comma-separated connection counts (default 10,100)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per cell; the median is reported (default 3)")
    parser.add_argument("--rss-requests", type=int, default=100_000, help="requests of the memory run (default 100000)")
    parser.add_argument("--rss-slice", type=int, default=5, help="seconds per wrk run of the memory run (default 5)")
    parser.add_argument("--no-prism", action="store_true", help="leave Prism out")
    parser.add_argument("--no-bare", action="store_true", help="leave the bare Starlette app (bench/bare_app.py) out")
    parser.add_argument("--stub-arg", action="append", default=[], help="extra argument for `pixelpact serve`")
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="DIR",
        help="also measure a one-worker `pixelpact serve` run from another checkout with its own .venv (e.g. "
        "/work/main), alternating with this one: before/after a change, in the same run",
    )
    parser.add_argument(
        "--workers", default="1", help="comma-separated `pixelpact serve --workers` values to measure (default 1)"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    if not args.no_prism and (shutil.which("node") is None or not PRISM.exists()):
        raise SystemExit(
            f"Prism not found at {PRISM}: (mkdir -p .cache/prism && cd .cache/prism && npm i @stoplight/prism-cli@5)"
        )
    scripts = write_scripts()
    connections = [int(c) for c in args.connections.split(",")]

    targets: dict[str, tuple[list[str], str]] = {}
    for workers in (int(w) for w in args.workers.split(",")):
        port = free_port()
        cmd = [
            sys.executable,
            "-m",
            "pixelpact.conformance.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ]
        targets[f"stub-{workers}w"] = ([*cmd, *args.stub_arg], f"http://127.0.0.1:{port}")
    if not args.no_bare:
        port = free_port()
        targets["bare"] = (bare_command(port), f"http://127.0.0.1:{port}")
    if args.baseline is not None:
        port = free_port()
        # DIR's own venv when it has one (another checkout, e.g. /work/main): an editable install imports pixelpact
        # from the checkout it was made in, whatever the working directory.
        python = args.baseline / ".venv" / "bin" / "python"
        cmd = [str(python) if python.exists() else sys.executable, "-m", "pixelpact.conformance.cli", "serve"]
        targets["baseline"] = ([*cmd, "--port", str(port), *args.stub_arg], f"http://127.0.0.1:{port}")
    if not args.no_prism:
        prism_port = free_port()
        prism_cmd = ["node", str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(prism_port), "-v", "silent"]
        targets["prism"] = ([*prism_cmd, str(ROOT / "spec" / "openapi.yaml")], f"http://127.0.0.1:{prism_port}")

    procs: dict[str, subprocess.Popen[bytes]] = {}
    results: dict[str, Any] = {
        "throughput": [],
        "machine": os.uname().release,
        "cpus": os.cpu_count(),
        "load_average_before": os.getloadavg(),
    }
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    try:
        for name, (cmd, base) in targets.items():
            procs[name] = start(cmd, name, base, args.baseline if name == "baseline" else ROOT)
            check_valid(base, name)
            for kind in ("json", "multipart"):
                wrk(scripts[kind], base + PATHS[kind], 10, 2)  # warm-up: caches, JIT
        for kind in ("json", "multipart"):
            for conns in connections:
                runs: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
                for _ in range(args.repeat):
                    for name, (_, base) in targets.items():  # alternate, so both see the same load
                        cpu_before = cpu_seconds(procs[name].pid)
                        run = wrk(scripts[kind], base + PATHS[kind], conns, args.duration)
                        # CPU per request: what the server spent, whatever else ran on the machine meanwhile.
                        run["cpu_us"] = (cpu_seconds(procs[name].pid) - cpu_before) / max(run["requests"] or 1, 1) * 1e6
                        runs[name].append(run)
                for name, measured in runs.items():
                    # Medians of --repeat, each figure on its own; the runs alternate between targets, so the ratio of
                    # two medians compares servers that saw the same machine load.
                    keys = ("rps", "p50_ms", "p99_ms", "cpu_us")
                    median = {key: statistics.median(r[key] for r in measured) for key in keys}
                    median["non_2xx"] = sum(r["non_2xx"] or 0 for r in measured)
                    row = {"target": name, "kind": kind, "connections": conns, **median}
                    row["rps_runs"] = [r["rps"] for r in measured]
                    results["throughput"].append(row)
                    print(
                        f"{name:8} {kind:9} c={conns:<4} {median['rps']:9.0f} req/s  p50 {median['p50_ms']:.2f} ms  "
                        f"p99 {median['p99_ms']:.2f} ms  CPU {median['cpu_us']:.0f} us/req  "
                        f"non-2xx {median['non_2xx']}",
                        flush=True,
                    )
        if "prism" in procs:
            stop(procs.pop("prism"))

        for name in [n for n in procs if n.startswith("stub")]:
            stop(procs.pop(name))
        if args.rss_requests > 0:  # 0: no memory run
            # Memory: one worker (a process whose RSS is the server's), fresh.
            stub_port = free_port()
            stub_base = f"http://127.0.0.1:{stub_port}"
            stub_cmd = [
                sys.executable,
                "-m",
                "pixelpact.conformance.cli",
                "serve",
                "--port",
                str(stub_port),
                *args.stub_arg,
            ]
            procs["stub"] = start(stub_cmd, "stub", stub_base)
            pid = procs["stub"].pid
            # wrk cannot stop after a request count here (wrk.thread:stop() does not end the run), so it runs in slices
            # of a few seconds, alternating JSON and multipart, until --rss-requests have been answered.
            samples = [{"requests": 0, "rss_kib": rss_kib(pid)}]
            done, i = 0, 0
            while done < args.rss_requests:
                kind = "json" if i % 2 == 0 else "multipart"
                slice_run = wrk(scripts[kind], stub_base + PATHS[kind], 10, args.rss_slice)
                done += slice_run["requests"] or 0
                samples.append({"requests": done, "rss_kib": rss_kib(pid)})
                i += 1
            first, last = samples[1]["rss_kib"], samples[-1]["rss_kib"]
            growth = round((last - first) / first * 100, 2)
            results["rss"] = {"samples": samples, "growth_after_first_slice_pct": growth}
            print("RSS (KiB) by requests served: " + ", ".join(f"{s['requests']}: {s['rss_kib']}" for s in samples))
            print(f"RSS growth from the first slice to the end: {growth} %")
    finally:
        for proc in procs.values():
            stop(proc)

    lines, verdicts = table(results["throughput"], list(targets), connections)
    lines += ["", *verdicts]
    print("\n".join(lines))
    results["table"] = lines
    results["load_average_after"] = os.getloadavg()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    (OUT / "stub-bench.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
