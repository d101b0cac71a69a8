"""Does the built-in stub pass its own suite whatever the seed? `pixelpact check` under many random seeds.

    nice -n 10 .venv/bin/python bench/stub_seeds.py                       # 200 random seeds, about an hour here
    .venv/bin/python bench/stub_seeds.py --seeds 1632933217 7 --groups schemathesis   # named seeds, one group

Only the groups whose requests depend on the seed are run (default: schemathesis, properties, valid; the others send
the same requests whatever the seed). Each seed is one in-process `check` (CheckOptions(seed=S, groups=...)) against
a fresh built-in stub, exactly what `pixelpact check --seed S --group ...` runs, one after another. A seed whose run
is not a pass is listed with every failed pair, so `pixelpact check --seed S` reproduces it. --max-minutes stops
starting new seeds (the count run is reported). Prints Markdown; writes bench/out/stub-seeds.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pixelpact.conformance.api import CheckOptions, check  # noqa: E402

OUT = ROOT / "bench" / "out"
SEED_GROUPS = ("schemathesis", "properties", "valid")


def run_seed(seed: int, groups: tuple[str, ...]) -> dict[str, Any]:
    started = time.monotonic()
    report = check(CheckOptions(seed=seed, groups=groups))
    return {
        "seed": seed,
        "verdict": report.verdict,
        "seconds": round(time.monotonic() - started, 1),
        "requests": report.requests_sent,
        "failed": [f"{r.requirement.id} on {r.operation_id}: {r.message[:300]}" for r in report.failed],
        "errors": [str(e)[:300] for e in report.errors],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=200, help="random seeds to run (default: 200)")
    parser.add_argument("--seeds", type=int, nargs="*", help="run these seeds instead of random ones")
    parser.add_argument("--groups", nargs="*", default=list(SEED_GROUPS), help=f"default: {' '.join(SEED_GROUPS)}")
    parser.add_argument("--max-minutes", type=float, default=None, help="start no seed after this many minutes")
    args = parser.parse_args()
    seeds = args.seeds or [random.SystemRandom().randrange(2**32) for _ in range(args.count)]
    groups = tuple(args.groups)
    started = time.monotonic()
    results: list[dict[str, Any]] = []
    for i, seed in enumerate(seeds, 1):
        if args.max_minutes is not None and time.monotonic() - started > args.max_minutes * 60:
            print(f"stopped after {len(results)} of {len(seeds)} seeds (--max-minutes {args.max_minutes:g})")
            break
        result = run_seed(seed, groups)
        results.append(result)
        print(f"[{i}/{len(seeds)}] seed {seed}: {result['verdict']} ({result['seconds']} s)", flush=True)
        for line in result["failed"] + result["errors"]:
            print(f"    {line}", flush=True)
    passed = [r for r in results if r["verdict"] == "pass"]
    minutes = (time.monotonic() - started) / 60
    OUT.mkdir(parents=True, exist_ok=True)
    summary = {
        "groups": groups,
        "seeds_run": len(results),
        "seeds_passed": len(passed),
        "minutes": round(minutes, 1),
        "python": platform.python_version(),
        "results": results,
    }
    (OUT / "stub-seeds.json").write_text(json.dumps(summary, indent=1))
    print()
    print(f"groups: {', '.join(groups)}; seeds run: {len(results)}; passed: {len(passed)}; {minutes:.1f} min")
    print(f"median per seed: {sorted(r['seconds'] for r in results)[len(results) // 2]} s" if results else "")
    for result in results:
        if result["verdict"] != "pass":
            print(f"- seed {result['seed']}: {result['verdict']}; " + "; ".join(result["failed"] + result["errors"]))
    return 0 if len(passed) == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
