"""OLD and NEW of a diff: a file path, or `git:REF:PATH` read from this repository's history.

Both go through the project's loader (pixelpact.generator.loader), so a diff reads YAML exactly as generate and check
do, and an invalid spec is refused in one line rather than compared.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pixelpact.generator.loader import SpecError, iter_problems, read_document

GIT_PREFIX = "git:"
#: Characters of the first problem shown in the one-line error.
MAX_PROBLEM = 160


class SourceError(Exception):
    """OLD or NEW cannot be read or is not a valid spec; the message is one line."""


@dataclass(frozen=True)
class Spec:
    """A loaded, valid spec and how the user named it."""

    label: str
    document: dict[str, Any]


def load(text: str, repository: Path | None = None) -> Spec:
    """Load `text`: `git:REF:PATH` (PATH relative to the top of the repository `repository` is in, by default the
    current directory's) or a file path."""
    if text.startswith(GIT_PREFIX):
        ref, sep, path = text[len(GIT_PREFIX) :].rpartition(":")
        if not sep or not ref or not path:
            raise SourceError(f"{text}: expected git:REF:PATH, e.g. git:HEAD~1:spec/openapi.yaml")
        return _validated(text, _git_document(text, ref, path, repository or Path.cwd()))
    return _validated(text, _file_document(Path(text), text))


def load_since(text: str, spec: Path) -> Spec:
    """OLD of `check --changed-since`: like load(), and a bare git ref names `spec` at that ref."""
    repository = spec.resolve().parent
    if text.startswith(GIT_PREFIX) or Path(text).exists():
        return load(text, repository)
    top = _git("rev-parse", "--show-toplevel", cwd=repository, label=text).strip()
    relative = spec.resolve().relative_to(Path(top).resolve()).as_posix()
    return load(f"{GIT_PREFIX}{text}:{relative}", repository)


def _file_document(path: Path, label: str) -> dict[str, Any]:
    try:
        return read_document(path)
    except SpecError as exc:
        problem = exc.problems[0]
        raise SourceError(f"{label}: {problem.message if problem.where == str(path) else problem}") from None


def _git_document(label: str, ref: str, path: str, repository: Path) -> dict[str, Any]:
    # "REF:./PATH" would be relative to the current directory; PATH is meant from the repository's top
    content = _git("show", f"{ref}:{path.removeprefix('./')}", cwd=repository, label=label)
    # The loader reads files: hand it the blob as one, so YAML errors are worded the same way.
    with tempfile.TemporaryDirectory(prefix="pixelpact-diff-") as directory:
        copy = Path(directory) / Path(path).name
        copy.write_text(content, encoding="utf-8")
        try:
            return read_document(copy)
        except SpecError as exc:
            raise SourceError(f"{label}: {exc.problems[0]}") from None


def _git(*args: str, cwd: Path, label: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SourceError(f"{label}: cannot run git: {exc}") from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["git failed"])[-1].removeprefix("fatal: ")
        raise SourceError(f"{label}: {reason}")
    return done.stdout


def _validated(label: str, document: dict[str, Any]) -> Spec:
    problems = list(iter_problems(document))
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        first = str(problems[0])
        first = first if len(first) <= MAX_PROBLEM else first[:MAX_PROBLEM] + "..."  # validators quote whole documents
        raise SourceError(f"{label}: not a valid OpenAPI 3.1 document: {first}{more} (see pixelpact validate-spec)")
    return Spec(label, document)
