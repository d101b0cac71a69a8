"""The config file: every `pixelpact check` option in `pixelpact.toml` or `[tool.pixelpact]` of pyproject.toml.

    # pixelpact.toml (found in the current folder or above it; --config PATH names one)
    base-url = "https://gateway.example.com"
    api-key = "${GATEWAY_KEY}"            # ${VAR}: from the environment, so secrets stay out of the file
    operation = ["createImage", "createImageEdit"]
    prefix = ["/openai/v1=/v1"]
    junit = "out/junit.xml"               # relative paths are relative to this file

    [targets.staging]                     # --target staging: these keys over the ones above
    base-url = "https://staging.example.com"

Keys are the long options of `pixelpact check` without the dashes, read from its argument parser, so every option
works in the file, including ones added later; repeatable options take a list. Command-line flags win over the file,
the file over the defaults. `--show-config` prints what a run will use and where each value comes from, secrets
redacted. A key the parser does not know, a value of the wrong type or an unset variable is a one-line error naming
the key and the file.
"""

from __future__ import annotations

import argparse
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

#: The names a config file may have, in the order they are looked for in each folder.
FILE_NAMES = ("pixelpact.toml", "pyproject.toml")
#: Where the parser keeps the actions the file may set (a default of the namespace, so `resolve` finds them).
_ACTIONS = "_pixelpact_configurable"
#: Where the parser keeps the names of the options whose values are secrets (`install(parser, secret=...)`).
_SECRETS = "_pixelpact_secret"
#: Where it keeps the names of the options whose values are headers, shown by name only (`secret_values=...`).
_SECRET_VALUES = "_pixelpact_secret_values"
#: Set on a namespace once `resolve` filled it in.
_RESOLVED = "_pixelpact_resolved"
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
REDACTED = "<redacted>"


class ConfigError(Exception):
    """The config file cannot be used; the message is one line naming the file and the key."""


class Unset:
    """The default of an option until `resolve` decides it: the file's value or, failing that, `default`."""

    def __init__(self, default: Any) -> None:
        self.default = default

    def __str__(self) -> str:  # --help shows "(default: %(default)s)"
        return str(self.default)


@dataclass(frozen=True)
class ConfigFile:
    path: Path
    table: dict[str, Any]
    section: str = ""
    """"[tool.pixelpact]" in a pyproject.toml, else empty."""

    @property
    def label(self) -> str:
        return f"{self.path} {self.section}".strip()


@dataclass
class Resolved:
    """The options of a run and where each came from ("command line", the file, "default")."""

    args: argparse.Namespace
    sources: dict[str, str] = field(default_factory=dict)
    file: ConfigFile | None = None


def install(
    parser: argparse.ArgumentParser,
    secret: frozenset[str] = frozenset(),
    not_in_file: frozenset[str] = frozenset(),
    secret_values: frozenset[str] = frozenset(),
) -> None:
    """Let the config file set every option of `parser` (call it after the last add_argument) but those named in
    `not_in_file` (--config, --target, --show-config: options about the file). `secret` names the options whose
    values --show-config redacts, `secret_values` those whose values are `NAME: VALUE` headers it shows by name
    only. pixelpact.conformance.flags declares all three with the options."""
    excluded = not_in_file | {"help"}
    configurable = [action for action in parser._actions if _key(action) and _key(action) not in excluded]
    for action in configurable:
        if not isinstance(action, argparse._AppendAction | argparse._CountAction):
            action.default = Unset(action.default)  # append lists stay: empty means the command line gave none
    parser.set_defaults(**{_ACTIONS: tuple(configurable), _SECRETS: secret, _SECRET_VALUES: secret_values})


def find(start: Path) -> ConfigFile | None:
    """The first pixelpact.toml, or pyproject.toml with a [tool.pixelpact] table, in `start` or a folder above it."""
    for folder in (start, *start.parents):
        for name in FILE_NAMES:
            path = folder / name
            if path.is_file():
                found = load(path)
                if found is not None:
                    return found
    return None


def load(path: Path) -> ConfigFile | None:
    """Read a config file; a pyproject.toml without [tool.pixelpact] gives None."""
    document = read_toml(path, ConfigError)
    if path.name != "pyproject.toml":
        return ConfigFile(path, document)
    table = document.get("tool", {}).get("pixelpact")
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.pixelpact] must be a table")
    return ConfigFile(path, table, "[tool.pixelpact]")


def read_toml(path: Path, error: type[Exception]) -> dict[str, Any]:
    """A TOML file's document; `error` with one line naming the file when it cannot be read or parsed."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"{path}: cannot read it: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{path}: not valid TOML: {exc}") from None


def resolve(args: argparse.Namespace, cwd: Path | None = None) -> Resolved:
    """Fill every option the command line did not give from the config file, else from its default."""
    actions: tuple[argparse.Action, ...] = getattr(args, _ACTIONS, ())
    named: Path | None = getattr(args, "config", None)  # --config; a parser without it finds the file
    if named is not None:
        config = load(named)
        if config is None:
            raise ConfigError(f"{named}: has no [tool.pixelpact] table")
    else:
        config = find((cwd or Path.cwd()).resolve())
    target = getattr(args, "target", None)
    values, origins = _file_values(config, target, {_key(action): action for action in actions})
    resolved = Resolved(args, file=config)
    for action in actions:
        key = _key(action)
        current = getattr(args, action.dest)
        if not _given(action, current):
            if key in values:
                setattr(args, action.dest, values[key])
                resolved.sources[key] = origins[key]
                continue
            setattr(args, action.dest, _default(action, current))
            resolved.sources[key] = "default"
        else:
            resolved.sources[key] = "command line"
    setattr(args, _RESOLVED, True)
    return resolved


def ensure_resolved(args: argparse.Namespace, *, defaults_if_unusable: bool = False) -> None:
    """Resolve a namespace nobody resolved yet (a caller that parsed check's options itself): no Unset escapes.

    With `defaults_if_unusable` (a run interrupted while starting, which must still write its reports), a file that
    cannot be used leaves the options at their defaults instead of raising."""
    if getattr(args, _ACTIONS, None) is None or getattr(args, _RESOLVED, False):
        return
    try:
        resolve(args)
    except ConfigError:
        if not defaults_if_unusable:
            raise
        for action in getattr(args, _ACTIONS):
            setattr(args, action.dest, _default(action, getattr(args, action.dest)))
        setattr(args, _RESOLVED, True)


def show(resolved: Resolved) -> str:
    """What a run will use, one `key = value  # source` line per option, secrets redacted."""
    where = resolved.file.label if resolved.file is not None else "none found"
    lines = [f"# config file: {where}"]
    if getattr(resolved.args, "target", None):
        lines.append(f"# target: {resolved.args.target}")
    for action in getattr(resolved.args, _ACTIONS, ()):
        key = _key(action)
        value = getattr(resolved.args, action.dest)
        if value is None or value == []:
            continue
        secret = key in getattr(resolved.args, _SECRETS, frozenset())
        names_only = key in getattr(resolved.args, _SECRET_VALUES, frozenset())
        shown = _redact(value, secret, names_only)
        lines.append(f"{key} = {_toml(shown)}  # {resolved.sources.get(key, 'default')}")
    return "\n".join(lines)


def _file_values(
    config: ConfigFile | None, target: str | None, actions: dict[str, argparse.Action]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The file's options (its top level, then the chosen target's table over it), converted as the parser would."""
    if config is None:
        if target is not None:
            raise ConfigError(f"--target {target}: no config file (pixelpact.toml or [tool.pixelpact]) found")
        return {}, {}
    top = {key: value for key, value in config.table.items() if key != "targets"}
    targets = config.table.get("targets", {})
    if not isinstance(targets, dict) or not all(isinstance(table, dict) for table in targets.values()):
        raise ConfigError(f"{config.label}: targets must be tables, e.g. [targets.staging]")
    for name, table in targets.items():  # every target's keys, so a typo shows before the day it is used
        unknown = sorted(set(table) - set(actions))
        if unknown:
            raise ConfigError(f"{config.label} [targets.{name}]: unknown key {unknown[0]!r}")
    layers = [(top, config.label)]
    if target is not None:
        if target not in targets:
            known = ", ".join(sorted(targets)) or "none"
            raise ConfigError(f"{config.label}: no target {target!r} (targets: {known})")
        layers.append((targets[target], f"{config.label} [targets.{target}]"))
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for table, label in layers:
        for key, raw in table.items():
            action = actions.get(key)
            if action is None:
                raise ConfigError(f"{label}: unknown key {key!r} (keys are check's long options, e.g. base-url)")
            values[key] = _convert(action, raw, f"{label}: {key}", config.path.parent)
            origins[key] = label
    return values, origins


def _convert(action: argparse.Action, raw: Any, where: str, folder: Path) -> Any:
    """A file value as the parser would have produced it from the command line."""
    if isinstance(action, argparse._StoreConstAction | argparse.BooleanOptionalAction):
        if not isinstance(raw, bool):
            raise ConfigError(f"{where}: expected true or false, got {raw!r}")
        if isinstance(action, argparse.BooleanOptionalAction):
            return raw
        return action.const if raw else _plain_default(action)
    many = isinstance(action, argparse._AppendAction) or action.nargs in ("*", "+")
    if many:
        items = raw if isinstance(raw, list) else [raw]
        return [_scalar(action, item, where, folder) for item in items]
    if isinstance(raw, list):
        raise ConfigError(f"{where}: expected one value, got a list")
    return _scalar(action, raw, where, folder)


def _scalar(action: argparse.Action, raw: Any, where: str, folder: Path) -> Any:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ConfigError(f"{where}: expected a string or a number, got {raw!r}")
    text = _interpolate(str(raw), where)
    try:
        value = action.type(text) if callable(action.type) else text
    except (argparse.ArgumentTypeError, ValueError, TypeError) as exc:
        raise ConfigError(f"{where}: {exc or f'invalid value {text!r}'}") from None
    if action.choices is not None and value not in action.choices:
        raise ConfigError(f"{where}: {value!r} is not one of {', '.join(map(str, action.choices))}")
    if isinstance(value, Path) and not value.is_absolute():
        value = folder / value  # a path in the file is relative to the file, wherever the run starts
    return value


def _interpolate(text: str, where: str) -> str:
    def variable(match: re.Match[str]) -> str:
        value = os.environ.get(match[1])
        if value is None:
            raise ConfigError(f"{where}: environment variable {match[1]} is not set")
        return value

    return _VARIABLE.sub(variable, text)


def _given(action: argparse.Action, value: Any) -> bool:
    if isinstance(value, Unset):
        return False
    if isinstance(action, argparse._AppendAction | argparse._CountAction):
        return bool(value != action.default)
    return True


def _default(action: argparse.Action, current: Any) -> Any:
    """The option's own default, converted by its type when it is a string, as argparse does."""
    if not isinstance(current, Unset):
        return current
    if isinstance(current.default, str) and callable(action.type):
        return action.type(current.default)
    return current.default


def _plain_default(action: argparse.Action) -> Any:
    return action.default.default if isinstance(action.default, Unset) else action.default


def _key(action: argparse.Action) -> str:
    """The option's long name without dashes ("base-url"), or "" for a positional or short-only option."""
    longs = [option for option in action.option_strings if option.startswith("--")]
    return longs[0][2:] if longs else ""


def _redact(value: Any, secret: bool = False, names_only: bool = False) -> Any:
    """A value as --show-config shows it: a secret option's redacted, a header's by its name only (its value may be
    a credential under any name), a URL's password masked."""
    if isinstance(value, list):
        return [_redact(item, secret, names_only) for item in value]
    if secret:
        return REDACTED
    if names_only:
        name = value[0] if isinstance(value, tuple) else str(value).partition(":")[0]
        return f"{name}: {REDACTED}"
    text = value if isinstance(value, str) else None
    if text is not None and "://" in text:
        parts = urlsplit(text)
        if parts.password:
            netloc = f"{parts.username}:{REDACTED}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
            return urlunsplit(parts._replace(netloc=netloc))
    return value


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        if value and all(isinstance(item, tuple) and len(item) == 2 for item in value):  # --prefix pairs
            return _toml([f"{spec}={gateway}" for spec, gateway in value])
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    text = str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
