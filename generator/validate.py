"""`pixelpact validate-spec`: say whether a document is a valid OpenAPI 3.1 spec, and if not, every reason why."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pixelpact.generator.loader import DEFAULT_SPEC, SpecError, load_spec

HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "spec", nargs="?", type=Path, default=DEFAULT_SPEC, help="the OpenAPI document (default: %(default)s)"
    )


def run(args: argparse.Namespace) -> int:
    try:
        document = load_spec(args.spec)
    except SpecError as exc:
        print(exc.report(), file=sys.stderr)
        return 1
    operations = sum(1 for item in document.get("paths", {}).values() for method in item if method in HTTP_METHODS)
    print(f"{args.spec}: valid OpenAPI {document['openapi']} ({operations} operations)")
    return 0
