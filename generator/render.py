"""ir.Api -> the text of each generated file, by Jinja templates that only loop over the IR."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from pixelpact.generator.ir import Api
from pixelpact.generator.modelgen import model_source

TEMPLATES = Path(__file__).resolve().parent / "templates"

#: Output file -> its template; the whole of generated/ (the directory is wholly owned by the generator).
OUTPUTS = {
    "__init__.py": "__init__.py.jinja",
    "client.py": "client.py.jinja",
    "models.py": "models.py.jinja",
    "py.typed": "py.typed.jinja",
    "server.py": "server.py.jinja",
}


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,  # a typo in a template fails the run instead of emitting an empty string
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["pyrepr"] = _pyrepr
    env.filters["docstring"] = _docstring
    env.filters["frozenset"] = _frozenset
    env.filters["wrap"] = _wrap
    return env


def render(api: Api) -> dict[str, str]:
    """Every output file's unformatted text, by relative POSIX path, sorted."""
    env = environment()
    context = {"api": api, "models_source": model_source(api)}
    return {path: env.get_template(template).render(context) for path, template in sorted(OUTPUTS.items())}


def _pyrepr(value: object) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return repr(value)


def _docstring(text: str) -> str:
    """Text safe inside a triple-quoted docstring."""
    return text.strip().replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def _frozenset(names: Iterable[str]) -> str:
    items = sorted(names)
    return "frozenset({" + ", ".join(_pyrepr(n) for n in items) + "})" if items else "frozenset()"


def _wrap(text: str, indent: int, width: int = 116) -> str:
    """Re-wrap each line to fit the line length once indented by `indent` spaces (continuations get the indent)."""
    pad = " " * indent
    lines = [
        wrapped
        for line in text.splitlines()
        for wrapped in (textwrap.wrap(line, width - indent, break_on_hyphens=False, break_long_words=False) or [""])
    ]
    return ("\n" + pad).join(lines).replace("\n" + pad + "\n", "\n\n")
