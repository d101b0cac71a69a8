"""Read an OpenAPI document from disk and validate it as OpenAPI 3.1, collecting every problem with its location."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

# libyaml's loader when PyYAML was built with it: ten times faster on the spec, same result.
_YamlLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: The spec that ships with pixelpact (the contract the stub, the client and the suite are built from). spec/ sits
#: beside generator/ in the checkout and, as package data, in an installed pixelpact: found without the checkout.
DEFAULT_SPEC = Path(__file__).resolve().parent.parent / "spec" / "openapi.yaml"


@dataclass(frozen=True)
class SpecProblem:
    """One reason a document is not a usable spec, with where it is (a JSON pointer or a line number)."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class SpecError(Exception):
    """The document could not be loaded or is not valid OpenAPI 3.1; `problems` lists every reason found."""

    def __init__(self, path: Path, problems: list[SpecProblem]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: {len(problems)} problem(s)")

    def report(self) -> str:
        """The problems, one per line, under a header naming the file."""
        lines = [f"{self.path}: not a valid OpenAPI 3.1 document ({len(self.problems)} problem(s))"]
        lines += [f"  {problem}" for problem in self.problems]
        return "\n".join(lines)


def read_document(path: Path) -> dict[str, Any]:
    """Parse YAML or JSON into a mapping, turning I/O and syntax errors into a SpecError."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(path, [SpecProblem(str(path), exc.strerror or str(exc))]) from None
    try:
        document = yaml.load(text, Loader=_YamlLoader)
    except yaml.YAMLError:
        document = None  # reported below by the pure-Python loader, whose messages are the ones we document
    if document is None and text.strip():
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else str(path)
            reason = getattr(exc, "problem", None) or str(exc)
            raise SpecError(path, [SpecProblem(where, f"YAML syntax error: {reason}")]) from None
    if not isinstance(document, dict):
        raise SpecError(
            path, [SpecProblem("/", f"expected a mapping at the top level, found {type(document).__name__}")]
        )
    return document


def iter_problems(document: dict[str, Any]) -> Iterator[SpecProblem]:
    """Every reason the document is not valid OpenAPI 3.1, each with the JSON pointer of the place at fault."""
    # Imported here: the validators are the slowest imports of the generator, and reading a document needs neither.
    from openapi_spec_validator import OpenAPIV31SpecValidator

    version = document.get("openapi")
    if not isinstance(version, str) or not version.startswith("3.1."):
        yield SpecProblem("/openapi", f"expected an OpenAPI 3.1.x document, found {version!r}")
        return
    dangling = list(dangling_refs(document))
    if dangling:
        # the validator calls such a document valid, and everything built on it crashes: say where each one is
        yield from dangling
        return
    problems: list[SpecProblem] = []
    crashed: Exception | None = None
    try:
        for error in OpenAPIV31SpecValidator(document).iter_errors():
            problems.append(SpecProblem(_pointer(error.absolute_path), error.message.splitlines()[0]))
    except Exception as exc:  # the validator assumes well-formed schemas and can crash on e.g. `maximum: "ten"`
        crashed = exc
    if problems or crashed:
        # It reports malformed Schema Objects with paths relative to the schema, or crashes on them: locate them
        # precisely with the JSON Schema meta-schema (only now: that pass costs as much as the validation itself).
        malformed = list(_malformed_schemas(document))
        if malformed:
            yield from malformed
            return
    yield from problems
    if crashed is not None:
        yield SpecProblem("/", f"the OpenAPI validator stopped: {type(crashed).__name__}: {crashed}")


def dangling_refs(document: dict[str, Any]) -> Iterator[SpecProblem]:
    """Every local `$ref` ("#/...") that points at nothing, at the JSON pointer of the `$ref` itself."""
    stack: list[tuple[Any, tuple[object, ...]]] = [(document, ())]
    while stack:
        node, where = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#") and not _resolves(document, ref):
                yield SpecProblem(_pointer([*where, "$ref"]), f"{ref!r} points at nothing in this document")
            stack.extend((value, (*where, key)) for key, value in reversed(list(node.items())) if key != "$ref")
        elif isinstance(node, list):
            stack.extend((value, (*where, index)) for index, value in reversed(list(enumerate(node))))


def _resolves(document: Any, ref: str) -> bool:
    node = document
    for raw in ref[1:].lstrip("/").split("/") if ref not in {"#", "#/"} else []:
        part = unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True


def _pointer(parts: Iterable[object]) -> str:
    return "/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def _malformed_schemas(document: dict[str, Any]) -> Iterator[SpecProblem]:
    """Check every Schema Object against the JSON Schema 2020-12 meta-schema, to locate what crashed the validator."""
    from jsonschema import Draft202012Validator

    schemas = (document.get("components") or {}).get("schemas") or {}
    meta = Draft202012Validator(Draft202012Validator.META_SCHEMA)
    for name, schema in schemas.items():
        for error in meta.iter_errors(schema):
            yield SpecProblem(_pointer(["components", "schemas", name, *error.absolute_path]), error.message)


def load_spec(path: Path = DEFAULT_SPEC, *, quick: bool = False) -> dict[str, Any]:
    """Load and validate a spec; raise SpecError listing every problem at once.

    quick (what `generate` uses): accept the document when `pixelpact.generator.quick_check` finds nothing, in
    milliseconds; otherwise, and always without `quick`, openapi-spec-validator decides and words the problems.
    """
    document = read_document(path)
    if quick:
        from pixelpact.generator.quick_check import looks_valid

        if looks_valid(document):
            return document
    problems = list(iter_problems(document))
    if problems:
        raise SpecError(path, problems)
    return document
