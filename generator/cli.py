"""`pixelpact generate [--check]` (also `python -m generator`): regenerate generated/ from the spec, or check it.

Exit status: 0 generated/ is (now) fresh; 1 with --check, generated/ has drifted (a diff and MISSING/EXTRA lines are
printed); 2 the spec is invalid or cannot be generated (every problem is printed, with the operation it concerns).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Sequence
from enum import IntEnum
from pathlib import Path

from pixelpact.generator import api_changes, cache, drift
from pixelpact.generator.loader import DEFAULT_SPEC, SpecError

DEFAULT_OUT = DEFAULT_SPEC.parent.parent / "generated"


class Exit(IntEnum):
    OK = 0
    DRIFT = 1
    ERROR = 2


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC, help="the OpenAPI document (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the generated package (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 with a diff if --out is stale")
    parser.add_argument(
        "--no-cache", action="store_true", help="run the whole pipeline even if this spec was generated before"
    )


def run(args: argparse.Namespace) -> int:
    try:
        files = _generate(args.spec, use_cache=not args.no_cache)
    except SpecError as exc:
        print(exc.report(), file=sys.stderr)
        return Exit.ERROR
    if files is None:
        return Exit.ERROR
    if args.check:
        result = drift.diff(files, args.out)
        if result.is_clean:
            print(f"{args.out}: up to date with {args.spec}")
            return Exit.OK
        print(result.report())
        for line in api_changes.changes(api_changes.read(args.out), files):  # what regenerating would change
            print(line)
        print(f"{args.out} is stale: run `pixelpact generate` (or `python -m generator`)", file=sys.stderr)
        return Exit.DRIFT
    before = api_changes.read(args.out)
    result = drift.write(files, args.out)
    changed = len(result.changed) + len(result.missing) + len(result.extra)
    print(f"{args.out}: {changed} file(s) written or removed" if changed else f"{args.out}: already up to date")
    for line in api_changes.changes(before, files):
        print(line)
    return Exit.OK


def _generate(spec: Path, use_cache: bool) -> dict[str, str] | None:
    """The generated files, from the cache when this spec was generated before; None after printing an error."""
    cache_key, files = cache.load(spec) if use_cache and spec.is_file() else ("", None)
    if files is not None:
        return files
    missing = missing_dependencies()
    if missing:
        print(
            f"pixelpact generate: needs {' and '.join(missing)}, which the main install leaves out: "
            "pip install 'pixelpact[generate]'",
            file=sys.stderr,
        )
        return None
    # Imported here: the pipeline's imports (dcg, jinja2, validators) are what a cache hit saves.
    from pixelpact.generator.build import generate
    from pixelpact.generator.errors import GenerationFailed
    from pixelpact.generator.formatting import FormattingError

    try:
        files = generate(spec)
    except GenerationFailed as exc:
        print(exc.report(), file=sys.stderr)
        return None
    except FormattingError as exc:
        print(f"pixelpact generate: {exc}", file=sys.stderr)
        return None
    except SpecError:
        raise
    except Exception as exc:  # a valid spec the pipeline chokes on: say so in one line, not a traceback
        print(f"pixelpact generate: {spec}: generation failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        print("  a generator bug, or a schema construct it does not support; please report it", file=sys.stderr)
        return None
    if cache_key:
        cache.store(cache_key, files)
    return files


#: Import name -> distribution of what only the generator needs (the `generate` extra of pixelpact).
GENERATE_EXTRA = {"datamodel_code_generator": "datamodel-code-generator", "ruff": "ruff"}


def missing_dependencies() -> list[str]:
    """The distributions of the `generate` extra that are not installed."""
    return [dist for module, dist in GENERATE_EXTRA.items() if importlib.util.find_spec(module) is None]


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m generator [--check] [--spec PATH] [--out DIR]`."""
    parser = argparse.ArgumentParser(
        prog="python -m generator", description=__doc__.splitlines()[0] if __doc__ else None
    )
    configure(parser)
    return run(parser.parse_args(argv))
