"""`pixelpact diff OLD NEW`: every change of the contract between two specs, and whom it breaks.

OLD and NEW are files or `git:REF:PATH` (e.g. `git:main:spec/openapi.yaml`). Each change is classified as breaking
for clients (a request that was valid may be refused, an answer they read changes), breaking for gateways (a gateway
that conformed may now fail), or compatible; a change to a shared schema is reported once, with the operations it
reaches.

Exit status: 0 nothing breaks (as --fail-on counts it), 1 something does, 2 OLD or NEW cannot be read or is not a
valid spec (one line says why). So it gates a pull request: `pixelpact diff git:origin/main:spec/openapi.yaml
spec/openapi.yaml --fail-on clients`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pixelpact.conformance.specdiff import facts, report
from pixelpact.conformance.specdiff.compare import Change, compare
from pixelpact.conformance.specdiff.source import GIT_PREFIX, SourceError, Spec, load

FORMATS = ("text", "markdown", "json")
FAIL_ON = ("clients", "gateways", "any")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = "exit status: 0 nothing breaks, 1 something breaks (see --fail-on), 2 an input is unusable"
    parser.add_argument("old", metavar="OLD", help="the spec before: a file, or git:REF:PATH")
    parser.add_argument("new", metavar="NEW", help="the spec after: a file, or git:REF:PATH")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: %(default)s)")
    parser.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        default="any",
        help="exit 1 when a change breaks clients, gateways, or either (default: %(default)s)",
    )


def changes_between(old: Spec, new: Spec) -> list[Change]:
    """Every change of the contract from `old` to `new`, one per operation it reaches."""
    return compare(facts.operations(old.document), facts.operations(new.document))


def run(args: argparse.Namespace) -> int:
    try:
        old, new = load(args.old), load(args.new)
    except SourceError as exc:
        print(f"pixelpact diff: {exc}", file=sys.stderr)
        return 2
    found = report.entries(changes_between(old, new))
    render = {"text": report.text, "markdown": report.markdown, "json": report.as_json}[args.format]
    print(render(old.label, new.label, found))
    if found and args.format == "text" and not new.label.startswith(GIT_PREFIX):
        print(
            f"\nre-check a gateway on these changes only: pixelpact check --base-url URL --spec {new.label} "
            f"--changed-since {old.label}"
        )
    return 1 if breaks(found, args.fail_on) else 0


def breaks(found: Sequence[report.Entry], fail_on: str) -> bool:
    """Whether an entry breaks the parties --fail-on names."""
    return any(
        (entry.clients and fail_on in ("clients", "any")) or (entry.gateways and fail_on in ("gateways", "any"))
        for entry in found
    )
