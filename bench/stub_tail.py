"""What makes the p99 at 100 connections: GC pauses, a blocked event loop, or a saturated server (not a timed test).

    .venv/bin/python bench/stub_tail.py                                   # stub and bare app, uvloop, 100 connections
    .venv/bin/python bench/stub_tail.py --targets bare --spin-us 60       # the bare app made as CPU-heavy as a stub
    .venv/bin/python bench/stub_tail.py --targets bare --spin-us 60 --loop asyncio   # the same on asyncio's loop
    .venv/bin/python bench/stub_tail.py --gc off                          # garbage collection disabled in the server

Each target is served by `pixelpact serve`'s own code (serve.run: the stub's uvicorn config and HTTP protocol, one
worker, start-up objects frozen for the GC), with the bare app (bench/bare_app.py) swapped in for `bare`. Inside the
server, `gc.callbacks` time every collection and a task that sleeps 1 ms records how late it wakes (the event loop
blocked); wrk (-t1, a JSON generation, or --kind multipart) gives the latency percentiles. Servers are started on
ephemeral loopback ports and stopped by PID, one after the other, --repeat times.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stub_bench import PATHS, free_port, wait_ready, write_scripts  # noqa: E402

PERCENTILES = (50, 90, 95, 99, 99.9)
_LIST = ", ".join(str(p) for p in PERCENTILES)
DONE = (
    "\ndone = function(summary, latency, requests)\n"
    "  local out = {}\n"
    f"  for _, p in ipairs({{{_LIST}}}) do out[#out+1] = string.format('%.3f', latency:percentile(p) / 1000) end\n"
    "  local tail = string.format(' %.3f %d\\n', latency.max / 1000, summary.requests)\n"
    "  io.write('PCT ' .. table.concat(out, ' ') .. tail)\n"
    "end\n"
)


def serve(port: int, app_name: str, spin_us: float, loop: str, gc_mode: str, stats: str) -> int:
    """The server side: `pixelpact serve` with the probes installed; writes what they saw to `stats` on exit."""
    from pixelpact.conformance.cli import main as cli
    from pixelpact.generator.runtime import serve as stub_serve
    from pixelpact.generator.runtime.config import StubConfig

    pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
    started = [0.0]
    lags: list[float] = []

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            pauses[info["generation"]].append(time.perf_counter() - started[0])

    gc.callbacks.append(on_gc)
    if gc_mode == "off":
        stub_serve.freeze_startup_objects = gc.disable
    if app_name == "bare":
        from bench.bare_app import app as bare

        inner: Any = bare
        if spin_us:

            async def spinning(scope: Any, receive: Any, send: Any) -> None:
                end = time.process_time() + spin_us / 1e6
                while time.process_time() < end:
                    pass
                await bare(scope, receive, send)

            inner = spinning
    else:
        inner = stub_serve.default_app(StubConfig())
    monitor: list[asyncio.Task[None]] = []

    async def lag_probe() -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(0.001)
            lags.append(loop.time() - before - 0.001)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if not monitor and scope["type"] == "http":
            for kept in pauses.values():
                kept.clear()  # what start-up collected is not serving's
            monitor.append(asyncio.get_running_loop().create_task(lag_probe()))
        await inner(scope, receive, send)

    stub_serve.default_app = lambda config: app
    if loop == "asyncio":
        import uvicorn

        init = uvicorn.Config.__init__

        def asyncio_loop(self: Any, *args: Any, **kwargs: Any) -> None:
            init(self, *args, **{**kwargs, "loop": "asyncio"})

        uvicorn.Config.__init__ = asyncio_loop  # type: ignore[method-assign]

    def write() -> None:
        lags.sort()
        Path(stats).write_text(
            json.dumps(
                {
                    "gc": {g: [len(p), max(p, default=0) * 1000, sum(p) * 1000] for g, p in pauses.items()},
                    "lag_p99_ms": lags[int(len(lags) * 0.99)] * 1000 if lags else None,
                    "lag_max_ms": lags[-1] * 1000 if lags else None,
                    "tracked_objects": len(gc.get_objects()),
                }
            )
        )

    atexit.register(write)
    return cli(["serve", "--port", str(port)])


def measure(args: argparse.Namespace, target: str, script: Path) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.NamedTemporaryFile(suffix=".json") as stats:
        cmd = [
            sys.executable, __file__, "--serve", str(port), "--targets", target, "--spin-us", str(args.spin_us),
            "--loop", args.loop, "--gc", args.gc, "--stats", stats.name,
        ]  # fmt: skip
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_ready(base, proc, target)
            url = base + PATHS[args.kind]
            subprocess.run(["wrk", "-t1", "-c10", "-d2s", "-s", str(script), url], capture_output=True, check=True)
            out = subprocess.run(
                ["wrk", "-t1", f"-c{args.connections}", f"-d{args.duration}s", "-s", str(script), url],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        finally:
            proc.send_signal(2)
            proc.wait(10)
        line = next(x for x in out.splitlines() if x.startswith("PCT "))
        values = [float(v) for v in line.split()[1:]]
        seen = json.loads(Path(stats.name).read_text() or "{}")
    return {"target": target, "percentiles_ms": values[: len(PERCENTILES)], "max_ms": values[-2], **seen}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--targets", default="stub,bare", help="comma-separated: stub, bare (default: both)")
    parser.add_argument("--kind", choices=["json", "multipart"], default="json")
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--duration", type=int, default=4, help="seconds of the measured wrk run (default 4)")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--spin-us", type=float, default=0, help="the bare app spends this much CPU per request")
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop")
    parser.add_argument("--gc", choices=["on", "off"], default="on")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--stats", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve, args.targets, args.spin_us, args.loop, args.gc, args.stats)
    script = write_scripts()[args.kind]
    probe = script.with_name(script.stem + "-tail.lua")
    probe.write_text(script.read_text() + DONE)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    header = " ".join(f"p{p}" for p in PERCENTILES)
    print(f"target  loop     {header} max (ms) | GC gen0/1/2: count, longest ms | loop lag p99/max ms | objects")
    for _ in range(args.repeat):
        for target in args.targets.split(","):
            r = measure(args, target, probe)
            gcs = " ".join(f"{n}x/{longest:.0f}" for n, longest, _ in r.get("gc", {}).values())
            pct = " ".join(f"{v:.1f}" for v in r["percentiles_ms"])
            lag = f"{r.get('lag_p99_ms') or 0:.1f}/{r.get('lag_max_ms') or 0:.1f}"
            print(f"{target:7} {args.loop:8} {pct} {r['max_ms']:.1f} | {gcs} | {lag} | {r.get('tracked_objects')}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
