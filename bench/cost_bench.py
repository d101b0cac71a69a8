"""Benchmark: what each profile costs a provider, against the stub with no latency and with 2 s per generated image.

    nice -n 10 .venv/bin/python bench/cost_bench.py [--latency 0 --latency 2] [--profile quick ...] [--skip deep@2]
        [--write PATH]

Each run starts a fresh stub gateway on 127.0.0.1 behind a provider meter (tests/conformance/metering.py: counts the
requests that reach it, the images it actually generated and their megapixels) with the stub's own latency per
generated image (`pixelpact serve --latency MS/image`: a slow provider), then runs `pixelpact check --base-url URL
--profile P --seed SEED` as a user would type it. The estimated cost prices the generated megapixels at OpenAI's
gpt-image-1 per-pixel list prices as LiteLLM 1.106.2 ships them (model_prices_and_context_window_backup.json, the
version the project pins; read 2026-12-02): low 1.0490417e-08 $/pixel ($0.011 per 1024x1024 image), medium
4.0054321e-08 ($0.042), high 1.59263611e-07 ($0.167). "today" is the default run before profiles existed, which
the deep profile keeps unchanged. Not a timed test: run it by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pixelpact.generator.runtime.config import StubConfig  # noqa: E402
from pixelpact.generator.runtime.serve import default_app, stub_server  # noqa: E402
from tests.conformance.metering import Meter  # noqa: E402

PRICE_PER_PIXEL = {"low": 1.0490417e-08, "medium": 4.0054321e-08, "high": 1.59263611e-07}
PRICES_SOURCE = "gpt-image-1 list prices per pixel as bundled in LiteLLM 1.106.2 (read 2026-12-02)"


@dataclass
class Row:
    profile: str
    latency: float
    requests: int
    images_asked: int
    images: int
    megapixels: float
    judged: int
    total: int
    wall: float
    exit_status: int

    def cost(self, tier: str) -> float:
        return self.megapixels * 1e6 * PRICE_PER_PIXEL[tier]


def run_one(profile: str, latency: float, seed: int) -> Row:
    # the stub is the slow provider (serve --latency MS/image); the meter in front of it only counts
    meter = Meter(default_app(StubConfig(latency_per_image_ms=latency * 1000)))
    with stub_server(app=meter) as url, tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        command = [sys.executable, "-m", "pixelpact.conformance.cli", "check", "--base-url", url, "--profile", profile]
        command += ["--seed", str(seed), "--json-report", str(report)]
        started = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
        wall = time.perf_counter() - started
        document = json.loads(report.read_text())
    summary = document["summary"]
    return Row(
        profile=profile,
        latency=latency,
        requests=meter.requests,
        images_asked=document["spent"]["images"],
        images=meter.images,
        megapixels=meter.megapixels,
        judged=summary["passed"] + summary["failed"],
        total=sum(summary.values()),
        wall=wall,
        exit_status=done.returncode,
    )


#: The gateways `--model` rows are measured through: the stub as the gateway (it also plays the provider), the test
#: relay gateway (tests/conformance/broken/relay.py) and LiteLLM (tests/litellm/proxy.py), each in front of the
#: recording upstream the check starts.
GATEWAYS = ("stub", "relay", "litellm")
#: What LiteLLM serves, as its tier checks it (tests/litellm/test_conformance.py): no variations route, its own mounts.
LITELLM_OPERATIONS = ("openaiCreateImage", "openaiCreateImageEdit", "azureCreateImage", "azureCreateImageEdit")
LITELLM_PREFIXES = ("/openai/v1=/v1", "/openai/openai/deployments=/openai/deployments")


@dataclass
class ModelRow:
    """quick with --model M through a gateway in front of an upstream that plays M, or serves everything."""

    model: str
    gateway: str
    upstream: str
    requests: int
    """Requests the run sent (the report's count)."""
    images_asked: int
    """The budget's upper bound of the images those requests ask for."""
    images: int
    """Images the provider actually generated (metered: the stub as gateway, or the recording upstream)."""
    judged: int
    total: int
    refused: int
    """Valid requests the upstream playing the model refused (pixelpact.generator.runtime.provider_api)."""
    exit_status: int


def run_model(model: str, gateway: str, played: bool, seed: int) -> ModelRow:
    """`pixelpact check --profile quick --model openai/M` against the stub playing M (gateway "stub"), or two-sided
    through the relay or LiteLLM in front of the recording upstream playing M (`--upstream-model-rules M`);
    `played` False: the provider serves everything the spec allows. Two-sided runs go through
    bench/metered_check.py, which meters the recording upstream inside the check process."""

    check = ["check", "--profile", "quick", "--seed", str(seed), "--model", f"openai/{model}"]
    with tempfile.TemporaryDirectory() as tmp, _gateway(gateway, model if played else None, Path(tmp)) as (url, port):
        report, metered = Path(tmp) / "report.json", Path(tmp) / "meter.json"
        check += ["--base-url", url, "--json-report", str(report)]
        env = {**os.environ, "NO_COLOR": "1"}
        if gateway == "stub":
            command = [sys.executable, "-m", "pixelpact.conformance.cli", *check]
        else:
            check += ["--upstream-port", str(port)] + (["--upstream-model-rules", model] if played else [])
            command = [sys.executable, str(ROOT / "bench" / "metered_check.py"), str(metered), "--", *check]
        if gateway == "litellm":
            proxy = _LITELLM[url]
            env["PIXELPACT_API_KEY"] = proxy.master_key
            command += ["--deployment", "az-dalle3"]
            command += [arg for operation in LITELLM_OPERATIONS for arg in ("--operation", operation)]
            command += [arg for prefix in LITELLM_PREFIXES for arg in ("--prefix", prefix)]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
        if not report.exists():
            raise RuntimeError(f"{gateway} {model}: no report (exit {done.returncode}): {done.stderr[-1500:]}")
        document = json.loads(report.read_text())
        refused = _refused(url, model) if gateway == "stub" and played else 0
        images = _STUB_METER[url].images if gateway == "stub" else json.loads(metered.read_text())["images"]
    summary = document["summary"]
    return ModelRow(
        model=model,
        gateway=gateway,
        upstream=f"plays {model}" if played else "serves all the spec allows",
        requests=document["spent"]["requests"],
        images_asked=document["spent"]["images"],
        images=images,
        judged=summary["passed"] + summary["failed"],
        total=sum(summary.values()),
        refused=refused,
        exit_status=done.returncode,
    )


_STUB_METER: dict[str, Meter] = {}
_LITELLM: dict[str, Any] = {}


@contextmanager
def _gateway(gateway: str, played: str | None, tmp: Path) -> Iterator[tuple[str, int]]:
    """The gateway's URL and the port its provider (the recording upstream the check starts) must listen on."""
    from tests.conformance.broken.conftest import free_port
    from tests.conformance.broken.relay import RelayGateway

    port = free_port()
    if gateway == "litellm":
        from tests.litellm import proxy as litellm

        # on a loaded machine LiteLLM's imports alone can take longer than the tier's 90 s
        litellm.START_TIMEOUT = max(litellm.START_TIMEOUT, 300.0)
        with litellm.litellm_proxy(port, tmp / "litellm.log") as proxy:
            _LITELLM[proxy.url] = proxy
            yield proxy.url, port
        return
    if gateway == "stub":
        meter = Meter(default_app(StubConfig(model_rules=played)))
        with stub_server(app=meter) as url:
            _STUB_METER[url] = meter
            yield url, port
        return
    with stub_server(app=RelayGateway(f"http://127.0.0.1:{port}")) as url:
        yield url, port


def _refused(url: str, model: str) -> int:
    """Requests the stub playing `model` refused for the model's rules (the spec's own checks come first)."""
    import httpx

    from tests.conformance.test_model_limits import model_refusals

    records = httpx.get(f"{url}/_pixelpact/requests", params={"limit": 100000}, timeout=30).json()["requests"]
    return len(model_refusals(records, model))


def model_table(rows: list[ModelRow]) -> str:
    lines = [
        "| --model | gateway | upstream | requests | images asked (budget's count) | images generated "
        "| pairs judged | of the permissive run's | valid requests refused by the model | exit |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    permissive = {(row.model, row.gateway): row for row in rows if row.upstream.startswith("serves")}
    for row in rows:
        base = permissive.get((row.model, row.gateway))
        share = f"{100 * row.judged / base.judged:.1f} %" if base else ""
        refused = str(row.refused) if row.gateway == "stub" and not row.upstream.startswith("serves") else "n/a"
        lines.append(
            f"| {row.model} | {row.gateway} | {row.upstream} | {row.requests} | {row.images_asked} | {row.images} "
            f"| {row.judged} of {row.total} | {share} | {refused} | {row.exit_status} |"
        )
    return "\n".join(lines)


MODEL_HEADING = "## quick against a model's rules (issue 22)"


def model_section(rows: list[ModelRow], models: list[str], gateways: list[str] | None, seed: int) -> str:
    command = "nice -n 10 .venv/bin/python bench/cost_bench.py " + " ".join(f"--model {model}" for model in models)
    command += "".join(f" --gateway {gateway}" for gateway in gateways or ())
    return "\n\n".join(
        [
            MODEL_HEADING,
            f"`{command} --write bench/RESULTS-cost.md` (seed {seed}; machine: {platform.machine()}, "
            f"{os.cpu_count()} cores): `pixelpact check --profile quick --model openai/M` through the stub as the "
            "gateway (it plays M itself: `serve --model-rules M`), the test relay gateway "
            "(tests/conformance/broken/relay.py) and LiteLLM (tests/litellm/proxy.py: the tier's operations, "
            "prefixes and `--deployment az-dalle3`), two-sided in front of the recording upstream playing M "
            "(`--upstream-model-rules M`), each beside the same run against a provider serving everything the spec "
            'allows. "images generated" is metered at the provider: the stub as gateway, or the recording upstream '
            'inside the check process (bench/metered_check.py); "images asked" is the budget\'s upper bound.',
            model_table(rows),
        ]
    )


def table(rows: list[Row], baseline: dict[float, Row]) -> str:
    lines = [
        "| profile | latency per image | requests | images asked (budget's count) | images generated | megapixels "
        "| pairs judged | of today's | wall (s) | est. cost at low / medium / high | exit |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for row in rows:
        today = baseline.get(row.latency) or baseline.get(0.0)
        share = f"{100 * row.judged / today.judged:.1f} %" if today else ""
        costs = " / ".join(f"${row.cost(tier):.2f}" for tier in PRICE_PER_PIXEL)
        lines.append(
            f"| {row.profile} | {row.latency:g} s | {row.requests} | {row.images_asked} | {row.images} "
            f"| {row.megapixels:.1f} | {row.judged} of {row.total} | {share} | {row.wall:.1f} | {costs} "
            f"| {row.exit_status} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, action="append", help="seconds per generated image (repeatable)")
    parser.add_argument("--profile", action="append", help="quick, standard, deep (repeatable; default: all)")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="PROFILE@SECONDS",
        help="leave one row out, e.g. deep@2 (deep at 2 s per image takes about 48 minutes); repeatable",
    )
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        help="measure quick --model M through the stub, the relay and LiteLLM, each in front of an upstream that "
        "plays M and one that serves everything (repeatable; --model only: skip the profile rows)",
    )
    parser.add_argument(
        "--gateway", action="append", choices=GATEWAYS, help="with --model: only these gateways (default: all)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--write", type=Path, help="write the results as Markdown here")
    args = parser.parse_args()
    if args.model and not (args.latency or args.profile):
        model_rows = []
        for model in args.model:
            for gateway in args.gateway or GATEWAYS:
                for played in (False, True):
                    model_rows.append(run_model(model, gateway, played, args.seed))
                    print(model_rows[-1], file=sys.stderr, flush=True)
        section = model_section(model_rows, args.model, args.gateway, args.seed)
        print(section)
        if args.write:
            # the model rows are their own section of the results file: the profile rows above it stay as they are
            text = args.write.read_text() if args.write.exists() else ""
            kept = text.split(MODEL_HEADING, 1)[0].rstrip()
            args.write.write_text((kept + "\n\n" if kept else "") + section + "\n")
        return
    latencies = args.latency or [0.0, 2.0]
    profiles = args.profile or ["quick", "standard", "deep"]
    rows: list[Row] = []
    skipped = {(profile, float(seconds)) for profile, _, seconds in (item.partition("@") for item in args.skip)}
    for latency in latencies:
        for profile in profiles:
            if (profile, latency) in skipped:
                print(f"{profile} at {latency:g} s/image: skipped (--skip)", file=sys.stderr, flush=True)
                continue
            row = run_one(profile, latency, args.seed)
            print(f"{profile} at {latency:g} s/image: {row}", file=sys.stderr, flush=True)
            rows.append(row)
    baseline = {row.latency: row for row in rows if row.profile == "deep"}
    text = "\n\n".join(
        [
            "# Benchmark: what a run costs the provider, per profile",
            f"`pixelpact check --profile P --seed {args.seed}` against the stub behind a provider meter (one run each; "
            f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}). Today's "
            "default run is the deep profile. Estimated cost: the generated megapixels at "
            f"{PRICES_SOURCE}.",
            table(rows, baseline),
            *(
                [f"Not measured in this run (--skip): {', '.join(f'{p} at {s:g} s' for p, s in sorted(skipped))}."]
                if skipped
                else []
            ),
            "Reproduce:\n\n```sh\nnice -n 10 .venv/bin/python bench/cost_bench.py "
            + "".join(f"--skip {item} " for item in args.skip)
            + "--write bench/RESULTS-cost.md\n```",
        ]
    )
    print(text)
    if args.write:
        args.write.write_text(text + "\n")


if __name__ == "__main__":
    main()
