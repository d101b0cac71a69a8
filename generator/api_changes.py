"""How a `pixelpact generate` run changed the generated API: models, fields and client methods added, removed or
retyped, printed after the files are written (nothing when the API is the same).

The API is read from the generated source itself (models.py, client.py), before and after, with `ast`: that is
exactly what users import, whatever changed it (the spec, a template), and it costs nothing on a cache hit, where
generate builds no IR at all (building one is the ~1 s pipeline the cache exists to save; the IR also keeps no
field types).
"""

from __future__ import annotations

import ast
import contextlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

MODELS = "models.py"
CLIENT = "client.py"
CLIENT_CLASS = "Client"
#: Lines printed at most; the rest are counted.
MAX_LINES = 40


@dataclass(frozen=True)
class FieldShape:
    """A model field as users see it: its Python type, its constraints (pydantic Field arguments), its default."""

    type: str
    constraints: str = ""
    default: str | None = None


@dataclass
class Surface:
    """The public shape of a generated package."""

    models: dict[str, dict[str, FieldShape]] = field(default_factory=dict)
    methods: dict[str, str] = field(default_factory=dict)
    """Client method -> its signatures (every overload), as source text."""

    @property
    def empty(self) -> bool:
        return not self.models and not self.methods


def read(out: Path) -> dict[str, str]:
    """The generated files that make up the API, as they are on disk in `out` (none when there is no package)."""
    files = {}
    for name in (MODELS, CLIENT):
        with contextlib.suppress(OSError):  # no generated package yet: everything is new
            files[name] = (out / name).read_text(encoding="utf-8")
    return files


def changes(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """The summary between two versions of the generated files; parses nothing when they are the same."""
    if all(before.get(name) == after.get(name) for name in (MODELS, CLIENT)):
        return []
    return summary(surface(before), surface(after))


def surface(files: Mapping[str, str]) -> Surface:
    """The surface of generated files by relative path; a file that does not parse counts as absent."""
    result = Surface()
    models, client = _parse(files.get(MODELS)), _parse(files.get(CLIENT))
    for node in models.body if models else ():
        if isinstance(node, ast.ClassDef):
            result.models[node.name] = dict(_fields(node))
    for node in client.body if client else ():
        if isinstance(node, ast.ClassDef) and node.name == CLIENT_CLASS:
            for method in node.body:
                if isinstance(method, ast.FunctionDef) and not method.name.startswith("_"):
                    signature = f"({ast.unparse(method.args)}) -> {ast.unparse(method.returns or ast.Constant(None))}"
                    previous = result.methods.get(method.name)
                    result.methods[method.name] = f"{previous}; {signature}" if previous else signature
    return result


def summary(before: Surface, after: Surface) -> list[str]:
    """What changed from `before` to `after`, one line each; empty when nothing did."""
    if before.empty:
        return (
            [] if after.empty else [f"generated API: {len(after.models)} models, {len(after.methods)} client methods"]
        )
    lines = list(_model_changes(before, after))
    for name in after.methods.keys() - before.methods.keys():
        lines.append(f"  + client method {name}")
    for name in before.methods.keys() - after.methods.keys():
        lines.append(f"  - client method {name}")
    for name in sorted(after.methods.keys() & before.methods.keys()):
        if after.methods[name] != before.methods[name]:
            lines.append(f"  ~ client method {name}: signature changed")
    if not lines:
        return []
    shown = sorted(lines[:MAX_LINES], key=lambda line: line[4:])
    more = [f"  ... and {len(lines) - MAX_LINES} more"] if len(lines) > MAX_LINES else []
    return ["generated API changes:", *shown, *more]


def _model_changes(before: Surface, after: Surface) -> Iterator[str]:
    for name in after.models.keys() - before.models.keys():
        yield f"  + model {name}"
    for name in before.models.keys() - after.models.keys():
        yield f"  - model {name}"
    # one line per field change, naming every model it happened in (a shared schema reaches several)
    fields: dict[tuple[str, str], list[str]] = {}
    for name in sorted(after.models.keys() & before.models.keys()):
        old, new = before.models[name], after.models[name]
        for field_name in new.keys() - old.keys():
            fields.setdefault((f"  + field {field_name}", new[field_name].type), []).append(name)
        for field_name in old.keys() - new.keys():
            fields.setdefault((f"  - field {field_name}", ""), []).append(name)
        for field_name in new.keys() & old.keys():
            if new[field_name] != old[field_name]:
                change = _field_change(old[field_name], new[field_name])
                fields.setdefault((f"  ~ field {field_name}", change), []).append(name)
    for (head, what), models in fields.items():
        shown = ", ".join(models[:3]) + (f" +{len(models) - 3} more" if len(models) > 3 else "")
        yield f"{head} ({shown})" + (f": {what}" if what else "")


def _field_change(old: FieldShape, new: FieldShape) -> str:
    parts = []
    values = _literal_change(old.type, new.type)
    if values:
        parts.append(values)
    elif old.type != new.type:
        parts.append(f"retyped {old.type} -> {new.type}")
    if old.constraints != new.constraints:
        parts.append(f"constraints {old.constraints or 'none'} -> {new.constraints or 'none'}")
    if old.default != new.default:
        parts.append(f"default {old.default or 'none'} -> {new.default or 'none'}")
    return "; ".join(parts)


_LITERAL = re.compile(r"Literal\[([^\]]*)\]")


def _literal_change(old: str, new: str) -> str | None:
    """ "values +'a' -'b'" when two types differ only in their Literal's values, else None."""
    old_values, new_values = _LITERAL.findall(old), _LITERAL.findall(new)
    if len(old_values) != 1 or len(new_values) != 1 or _LITERAL.sub("", old) != _LITERAL.sub("", new):
        return None
    try:
        before, after = ast.literal_eval(f"[{old_values[0]}]"), ast.literal_eval(f"[{new_values[0]}]")
    except (ValueError, SyntaxError):
        return None
    added = [f"+{value!r}" for value in after if value not in before]
    removed = [f"-{value!r}" for value in before if value not in after]
    return "values " + " ".join(added + removed) if added or removed else None


def _parse(source: str | None) -> ast.Module | None:
    if source is None:
        return None
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


def _fields(model: ast.ClassDef) -> Iterator[tuple[str, FieldShape]]:
    for node in model.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            annotation = node.annotation
            constraints = ""
            if (
                isinstance(annotation, ast.Subscript)
                and isinstance(annotation.value, ast.Name)
                and annotation.value.id == "Annotated"
                and isinstance(annotation.slice, ast.Tuple)
            ):
                first, *rest = annotation.slice.elts
                annotation, constraints = first, ", ".join(ast.unparse(node) for node in rest)
            default = ast.unparse(node.value) if node.value is not None else None
            yield node.target.id, FieldShape(ast.unparse(annotation), constraints, default)
