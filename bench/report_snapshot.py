"""Record and compare `pixelpact check`'s JSON reports with fixed seeds: proof that a refactoring changed no verdict.

    .venv/bin/python -m bench.report_snapshot record DIR     # before the change (keep DIR outside the repository)
    .venv/bin/python -m bench.report_snapshot compare DIR    # after it: exit 0 when every report is identical
    .venv/bin/python -m bench.report_snapshot repeat DIR --times 5 --only stub   # the same code N times: repeatable?

The cases: the built-in stub (`pixelpact check --seed 7`, a subprocess as a user runs it), LiteLLM in two-sided mode
(the LiteLLM tier's own command; skipped with a note when tests/litellm/install.sh has not installed it), every relay
of tests/conformance/broken (the broken ones and the correct relay), the misbehaving gateways of
tests/conformance/misbehaving and a few hostile ones of tests/conformance/hostile. Only what differs from run to run
whatever the code is normalised: durations, loopback ports and the Date header. Everything else must match byte for
byte, messages and finding ids included. A report the clock cut short (not judged: time, rate-limited, interrupted)
is not compared: where such a run stops depends on the machine's speed, not on the code (model.WALL_CLOCK).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STUB_SEED = "7"

Case = Callable[[Path], str | None]
"""Writes the case's JSON report to the path; returns a note when it could not run (the case is then absent)."""


def _check_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pixelpact.conformance.cli", "check", *args]


def _subprocess_report(command: list[str], out: Path, env: dict[str, str] | None = None) -> str | None:
    done = subprocess.run(
        command, cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=600, check=False
    )
    if not out.exists():
        return f"no report (exit {done.returncode}): {done.stderr[-500:]}"
    return None


def stub(out: Path) -> str | None:
    return _subprocess_report(_check_command("--seed", STUB_SEED, "--json-report", str(out)), out)


def litellm(out: Path) -> str | None:
    from tests.litellm import proxy as litellm_module
    from tests.litellm import test_conformance as tier
    from tests.litellm.proxy import VENV, free_port, litellm_proxy

    # on a machine shared by several runs LiteLLM's start-up (its imports) can take longer than the tier allows
    litellm_module.START_TIMEOUT = max(litellm_module.START_TIMEOUT, 300.0)

    if not (VENV / "bin" / "litellm").exists():
        return "LiteLLM is not installed (tests/litellm/install.sh)"
    upstream_port = free_port()
    with tempfile.TemporaryDirectory() as scratch, litellm_proxy(upstream_port, Path(scratch) / "log") as proxy:
        command = _check_command("--base-url", proxy.url, "--upstream-port", str(upstream_port))
        command += ["--deployment", "az-dalle3", "--seed", str(tier.SEED)]
        for operation in tier.OPERATIONS:
            command += ["--operation", operation]
        for group in tier.EXPECTED["groups"]:
            command += ["--group", group]
        for prefix in tier.PREFIXES:
            command += ["--prefix", prefix]
        command += ["--baseline", str(tier.BASELINE), "--strict-baseline", "--json-report", str(out)]
        return _subprocess_report(command, out, {"PIXELPACT_API_KEY": proxy.master_key})


def _write(report: Any, out: Path) -> None:
    from pixelpact.conformance.reporting import to_json

    out.write_text(to_json(report))


def relay_cases() -> dict[str, Case]:
    from pixelpact.conformance.api import check
    from pixelpact.generator.runtime.serve import stub_server
    from tests.conformance.broken.conftest import gateway, options_for
    from tests.conformance.broken.mutants import MUTANTS

    def case(mutant: Any, correct: bool) -> Case:
        def run(out: Path) -> None:
            options = options_for(mutant, "http://x")
            with stub_server(app=gateway(mutant, options, correct=correct)) as base_url:
                options.base_url = base_url
                _write(check(options), out)

        return run

    relays = [mutant for mutant in MUTANTS if mutant.relay is not None]
    cases = {f"relay-{mutant.name}": case(mutant, False) for mutant in relays}
    # the correct relay behind each distinct selection the broken ones use
    for mutant in {(m.operations, m.groups, m.kills): m for m in relays}.values():
        cases[f"relay-correct-{'+'.join(mutant.operations)}-{'+'.join(mutant.kills)}"] = case(mutant, True)
    return cases


def misbehaving_cases() -> dict[str, Case]:
    from tests.conformance.conftest import run as run_check
    from tests.conformance.misbehaving.gateways import GATEWAYS, serving
    from tests.conformance.misbehaving.test_misbehaving import OPERATIONS

    def case(name: str) -> Case:
        def run(out: Path) -> None:
            with serving(name) as url:
                _write(run_check(url, operations=OPERATIONS, max_examples=3, timeout=5.0, concurrency=2), out)

        return run

    return {f"misbehaving-{name}": case(name) for name in GATEWAYS}


#: A few cheap hostile gateways, with the selections their tests use.
HOSTILE = {
    "yes_to_everything": ("--timeout", "2", "--group", "valid", "--group", "invalid"),
    "redirect_loop": ("--timeout", "2", "--group", "valid", "--group", "invalid"),
    "not_found": ("--timeout", "2", "--group", "valid"),
    "half_body": ("--timeout", "2", "--group", "valid", "--operation", "createImage"),
}


def hostile_cases() -> dict[str, Case]:
    from tests.conformance.conftest import API_KEY
    from tests.conformance.hostile import servers

    def case(name: str, args: tuple[str, ...]) -> Case:
        def run(out: Path) -> str | None:
            with servers.serve(getattr(servers, name)) as url:
                command = _check_command("--base-url", url, "--seed", "1", *args, "--json-report", str(out))
                return _subprocess_report(command, out, {"PIXELPACT_API_KEY": API_KEY})

        return run

    return {f"hostile-{name}": case(name, args) for name, args in HOSTILE.items()}


def cases() -> dict[str, Case]:
    return {"stub": stub, "litellm": litellm, **relay_cases(), **misbehaving_cases(), **hostile_cases()}


#: What differs between two runs of the same code, seed and target: (pattern, replacement), applied to the raw text.
NOISE = (
    (re.compile(r"(127\.0\.0\.1|localhost):\d+"), r"\1:PORT"),
    # the fresh marker of a two-sided probe (groups/_upstream.new_probe: random on purpose, never reused)
    (re.compile(r"ppx-[0-9a-f]{16}"), "ppx-MARKER"),
    # schemathesis's per-case id header and the `created` timestamps of answers
    (re.compile(r"(X-Schemathesis-TestCaseId: )\w+"), r"\1ID"),
    (re.compile(r'(created\\?"\s*:\s*)\d{9,11}'), r"\1TIME"),
    # ids providers give their answers, and Python's repr of an object (PIL's "cannot identify image file <...>")
    (re.compile(r"img-[0-9a-f]{32}"), "img-ID"),
    (re.compile(r"object at 0x[0-9a-f]+"), "object at ADDRESS"),
    # the images of a two-sided probe are made for it alone (their hash is its marker); the stub's measured latency
    (re.compile(r"sha256 [0-9a-f]{12}"), "sha256 HASH"),
    (re.compile(r'(latency\\?"\s*:\s*)\d+'), r"\1N"),
    # the length of a body whose excerpt is shown: a gateway's error echoing a stream carries its ids and times
    (re.compile(r"<\d+ bytes in all>"), "<N bytes in all>"),
)
#: Response headers whose values are per request (ids, timings, dates).
NOISY_HEADER = re.compile(r"^date$|content-length$|-id$|duration|-ms$", re.I)
BOUNDARY = re.compile(r"boundary=([0-9a-f]{16,})")


def normalised(text: str) -> str:
    """The report minus what changes from run to run whatever the code: durations, loopback ports, probe markers,
    multipart boundaries, schemathesis's case ids, timestamps, per-request response headers."""
    for boundary in set(BOUNDARY.findall(text)):
        text = text.replace(boundary, "BOUNDARY")
    for pattern, replacement in NOISE:
        text = pattern.sub(replacement, text)
    document = json.loads(text)
    document["duration"] = "DURATION"
    if document.get("baseline"):  # the checkout the run was made in
        document["baseline"]["path"] = Path(document["baseline"]["path"]).name

    def scrub(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: headers(item) if key == "response_headers" else scrub(item) for key, item in value.items()}
        if isinstance(value, list):
            return [scrub(item) for item in value]
        if isinstance(value, str):
            # "after 1.23 s", "took 0.5 s": wall-clock figures inside messages
            return re.sub(r"\b\d+(\.\d+)? ?(s|ms)\b", "N s", value)
        return value

    def headers(value: dict[str, str]) -> dict[str, str]:
        return {name: "NOISE" if NOISY_HEADER.search(name) else item for name, item in value.items()}

    return json.dumps(scrub(document), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def cut_by_the_clock(text: str) -> list[str]:
    """The reasons a report's run was cut short by the wall clock (or Ctrl-C), if it was: such a report is not
    repeatable from its seed, so comparing it says nothing about the code."""
    from pixelpact.conformance.model import WALL_CLOCK

    return sorted(set(json.loads(text).get("not_judged", {})) & {reason.value for reason in WALL_CLOCK})


def record(directory: Path, only: str | None = None) -> dict[str, str]:
    """Run every case (or those whose name contains `only`), write DIR/<case>.json; the notes of cases not run."""
    directory.mkdir(parents=True, exist_ok=True)
    notes: dict[str, str] = {}
    for name, case in cases().items():
        if only and only not in name:
            continue
        out = directory / f"{name}.json"
        out.unlink(missing_ok=True)
        print(f"  {name}", file=sys.stderr, flush=True)
        try:
            note = case(out)
        except Exception as exc:  # one case that could not run (LiteLLM slow to start) must not hide the others
            note = f"{type(exc).__name__}: {exc}"
        if note:
            notes[name] = note
            print(f"    not recorded: {note}", file=sys.stderr)
    return notes


def compare(before: Path, only: str | None = None, keep: Path | None = None, recorded: bool = False) -> int:
    """Record into a scratch folder (or `keep`) and compare with `before`: 0 when every normalised report is identical.
    With `recorded`, `keep` already holds the reports: compare only."""
    with tempfile.TemporaryDirectory() as scratch:
        after = keep or Path(scratch)
        if not recorded:
            record(after, only)
        names = sorted({p.name for p in before.glob("*.json")} | {p.name for p in after.glob("*.json")})
        names = [name for name in names if not only or only in name]
        differing = 0
        for name in names:
            old, new = before / name, after / name
            if not old.exists() or not new.exists():
                print(f"{name}: only {'after' if new.exists() else 'before'}")
                differing += 1
                continue
            cut = sorted(set(cut_by_the_clock(old.read_text()) + cut_by_the_clock(new.read_text())))
            if cut:
                print(f"{name}: NOT COMPARED: the clock cut a run short (not judged: {', '.join(cut)})")
                differing += 1
                continue
            a, b = normalised(old.read_text()), normalised(new.read_text())
            if a != b:
                differing += 1
                print(f"{name}: DIFFERENT")
                sys.stdout.writelines(list(difflib.unified_diff(a.splitlines(True), b.splitlines(True), n=2))[:80])
        print(f"{len(names) - differing}/{len(names)} reports identical (timings and ports normalised)")
        return 1 if differing else 0


def repeat(directory: Path, times: int, only: str | None = None) -> int:
    """Record every case (or those matching `only`) into DIR/1, then `times - 1` more times into DIR/2 ... and compare
    each with the first: 0 when the same code, seeds and targets gave identical reports every time."""
    record(directory / "1", only)
    failed = 0
    for run in range(2, times + 1):
        print(f"run {run} of {times}:")
        failed += compare(directory / "1", only, keep=directory / str(run))
    print(f"{times - failed - 1} of {times - 1} repeated runs identical to the first")
    return 1 if failed else 0


@contextmanager
def _quiet_uvicorn() -> Iterator[None]:
    import logging

    logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
    yield


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("action", choices=("record", "compare", "repeat"))
    parser.add_argument("directory", type=Path)
    parser.add_argument("--only", help="only the cases whose name contains this")
    parser.add_argument("--keep", type=Path, help="compare: record the new reports into this folder (kept)")
    parser.add_argument("--recorded", action="store_true", help="compare: --keep already holds them; run nothing")
    parser.add_argument("--times", type=int, default=5, help="repeat: how many runs of each case (default 5)")
    args = parser.parse_args(argv)
    with _quiet_uvicorn():
        if args.action == "record":
            notes = record(args.directory, args.only)
            return 1 if notes else 0
        if args.action == "repeat":
            return repeat(args.directory, args.times, args.only)
        return compare(args.directory, args.only, args.keep, args.recorded)


if __name__ == "__main__":
    raise SystemExit(main())
