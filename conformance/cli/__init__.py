"""The `pixelpact` command: one entry point, a subcommand per job.

Each subcommand lives in the module that owns the job and exposes `configure(parser)` and `run(args) -> int`;
modules are imported only when their subcommand runs, so `pixelpact --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from collections.abc import Sequence

#: name -> (module, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "check": (
        "pixelpact.conformance.cli.check",
        "check a gateway against the contract and give a verdict per requirement",
    ),
    "merge-reports": (
        "pixelpact.conformance.ci.merge",
        "merge the JSON reports of a run's shards (--shard K/N) into one verdict",
    ),
    "compare": (
        "pixelpact.conformance.ci.compare",
        "what moving from gateway A to gateway B changes, from two JSON reports of the same selection and seed",
    ),
    "requirements": (
        "pixelpact.conformance.cli.requirements",
        "list the requirements check judges (--json, --markdown)",
    ),
    "serve": ("pixelpact.generator.runtime.serve", "run the stub gateway generated from the spec"),
    "generate": (
        "pixelpact.generator.cli",
        "regenerate generated/ from the spec (--check: report drift, write nothing)",
    ),
    "validate-spec": ("pixelpact.generator.validate", "validate an OpenAPI 3.1 document"),
    "diff": (
        "pixelpact.conformance.specdiff.cli",
        "what changed between two specs, and whether it breaks clients or gateways",
    ),
}


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pixelpact", description=__doc__.splitlines()[0] if __doc__ else None)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = next((arg for arg in argv if not arg.startswith("-")), None)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            importlib.import_module(module_name).configure(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `pixelpact` with the given arguments (default: sys.argv) and return the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser(args_list)
        args = parser.parse_args(args_list)
    except KeyboardInterrupt:
        return _interrupted_while_starting(args_list)
    module_name, _ = SUBCOMMANDS[args.command]
    try:
        status: int = importlib.import_module(module_name).run(args)
    except KeyboardInterrupt:
        print("pixelpact: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _reader_went_away()
    return status


def _reader_went_away() -> int:
    """The reader of our output closed the pipe (`pixelpact diff ... | head`): stop quietly, as Unix tools do.

    stdout is pointed at /dev/null so that the interpreter's own flush at exit cannot raise a second time."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + signal.SIGPIPE


def _interrupted_while_starting(args_list: list[str]) -> int:
    """Ctrl-C while the subcommand was being imported: a subcommand that writes reports (check) still writes them,
    marked interrupted, so that nothing downstream reads a missing report as a pass."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # finishing the imports takes a moment; a second Ctrl-C waits
    args = build_parser(args_list).parse_args(args_list)
    interrupted = getattr(importlib.import_module(SUBCOMMANDS[args.command][0]), "interrupted", None)
    if interrupted is None:
        print("pixelpact: interrupted", file=sys.stderr)
        return 130
    status: int = interrupted(args)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
