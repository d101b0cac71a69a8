"""Benchmark a cold `pixelpact generate --check` beside openapi-python-client and datamodel-code-generator's CLI.

Run (the two other tools in a throwaway venv outside the repository):

    python3 -m venv /tmp/cmp-venv && /tmp/cmp-venv/bin/pip install openapi-python-client datamodel-code-generator
    .venv/bin/python bench/generate_compare.py --tools /tmp/cmp-venv/bin [--runs 7]

All three read spec/openapi.yaml in a fresh process, interleaved run by run so that the machine's load falls on each
alike; medians of wall and CPU time (the process and its children). "Cold" for pixelpact is a fresh clone: no
`__pycache__` in its own folders (removed before each run, so its modules compile as on a fresh checkout) and an
empty cache directory (PIXELPACT_CACHE_DIR), i.e. the whole pipeline: validate, parse, datamodel-code-generator,
Jinja, ruff, then compare with generated/. The other tools write their output into a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
from pathlib import Path

from timing import measure

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec" / "openapi.yaml"
OWN = ("conformance", "generator", "generated", "spec")


def fresh_clone_state() -> None:
    """What a fresh clone has not got: compiled modules of pixelpact's own folders."""
    for folder in OWN:
        for cache in (ROOT / folder).rglob("__pycache__"):
            shutil.rmtree(cache, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--tools", type=Path, required=True, help="bin/ of a venv with the two other tools")
    parser.add_argument("--pixelpact", type=Path, default=Path(__file__).resolve().parent.parent / ".venv" / "bin")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        env_path = f"{args.tools}{os.pathsep}{os.environ.get('PATH', '')}"  # openapi-python-client runs ruff
        os.environ["PATH"] = env_path
        rows = {
            "`pixelpact generate --check` (cold: fresh clone, empty cache)": [
                str(args.pixelpact / "pixelpact"),
                "generate",
                "--check",
            ],
            "`openapi-python-client generate --path spec/openapi.yaml`": [
                str(args.tools / "openapi-python-client"),
                "generate",
                "--path",
                str(SPEC),
                "--output-path",
                str(out / "opc"),
                "--overwrite",
            ],
            "`datamodel-codegen --input spec/openapi.yaml --input-file-type openapi`": [
                str(args.tools / "datamodel-codegen"),
                "--input",
                str(SPEC),
                "--input-file-type",
                "openapi",
                "--output",
                str(out / "models.py"),
                "--formatters",
                "ruff-format",
            ],
        }
        results: dict[str, list[tuple[float, float]]] = {label: [] for label in rows}
        print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}, runs: {args.runs}")
        for run in range(args.runs):
            for label, command in rows.items():
                if label.startswith("`pixelpact"):
                    fresh_clone_state()
                    os.environ["PIXELPACT_CACHE_DIR"] = str(out / f"cache-{run}")
                results[label].append(measure(command, 1, cwd=ROOT))
        print("| command (same run, interleaved) | median wall (s) | median CPU (s) |")
        print("|---|---:|---:|")
        for label, values in results.items():
            wall = statistics.median(v[0] for v in values)
            cpu = statistics.median(v[1] for v in values)
            print(f"| {label} | {wall:.2f} | {cpu:.2f} |")
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
