"""Compare the facts of two specs, operation by operation, and classify each change for both parties.

The two parties of the contract:

- **clients** send requests and read answers. A change breaks them when a request that was valid may now be refused
  (a range narrowed, an enum value removed, a field newly required or removed, an operation, a media type or an auth
  scheme removed, a default changed) or when an answer they read may now lack or retype what they read (a response
  field removed, retyped, no longer required, a new value in a response enum).
- **gateways** accept requests and produce answers. A change breaks them when a gateway that conformed may now fail:
  it must accept something new (a range widened, an enum value added, a field no longer required, a new field,
  operation, media type or auth scheme), apply a new default, or produce something new in its answers (a response
  field newly required, a response enum narrowed).

One rule covers the constraints: a change *narrows* or *widens* the set of valid values. On the request side the
client is the sender, so narrowing breaks clients and widening breaks gateways; on the response side the gateway is
the sender, so it is the other way round. A gateway that accepts more than the spec now allows (it still takes n=10
after the maximum became 8) is lenient, not broken: the narrowing is not a gateway break, but
`pixelpact check --changed-since` still re-runs the rejection requirements it touches. Removing or adding a field
is judged by meaning rather than by the set (requests tolerate unknown fields): a removed request field is no longer
honoured (clients), a new one must be honoured (gateways).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

from pixelpact.conformance.specdiff.facts import (
    ANY_OF_REQUIRED,
    EXISTS,
    REQUIRED,
    REQUIRED_UNLESS,
    SECURITY,
    Fact,
    Key,
    Operation,
    Origin,
)

Side = Literal["request", "response"]
MIN_LIKE = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
MAX_LIKE = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")


class Effect(Enum):
    """What a change does to the set of valid values."""

    NARROWS = "narrows"
    WIDENS = "widens"
    BOTH = "both"
    """Neither a subset nor a superset (integer -> string), or a change of meaning (a default): both parties."""
    NEUTRAL = "neutral"


@dataclass(frozen=True)
class Change:
    """One change of one operation's contract."""

    operation: str
    key: Key
    kind: str
    """A stable id of the kind of change, e.g. "enum-value-removed", "maximum-lowered", "field-removed"."""
    detail: str
    """What changed, in words: "enum value '1792x1024' removed", "maximum 10 -> 8"."""
    clients: bool
    """May break clients."""
    gateways: bool
    """May break gateways."""
    before: Any = None
    after: Any = None
    origin: Origin | None = None

    @property
    def side(self) -> Side:
        return side_of(self.key)

    @property
    def breaking(self) -> bool:
        return self.clients or self.gateways


def side_of(key: Key) -> Side:
    return "response" if key and key[0] == "response" else "request"


def compare(old: Mapping[str, Operation], new: Mapping[str, Operation]) -> list[Change]:
    """Every change from `old` to `new`, operations in the order of `new` (then those only in `old`)."""
    changes: list[Change] = []
    for operation_id, operation in new.items():
        if operation_id in old:
            changes += _compare_operation(operation_id, old[operation_id].facts, operation.facts)
        else:
            route = operation.facts[("route",)].value
            changes.append(Change(operation_id, ("route",), "operation-added", f"added ({route})", False, True))
    for operation_id, operation in old.items():
        if operation_id not in new:
            route = operation.facts[("route",)].value
            changes.append(Change(operation_id, ("route",), "operation-removed", f"removed ({route})", True, False))
    return changes


def _compare_operation(operation_id: str, old: Mapping[Key, Fact], new: Mapping[Key, Fact]) -> list[Change]:
    keys = [*old, *(key for key in new if key not in old)]
    appeared = {key[:-1] for key in keys if key[-1] == EXISTS and (key in old) != (key in new)}
    # a field, parameter or media type that came or went is one change, not one per keyword inside it
    covered = {prefix for prefix in appeared if not any(prefix[: len(p)] == p and prefix != p for p in appeared)}
    changes = []
    for key in keys:
        before, after = old.get(key), new.get(key)
        if before is not None and after is not None and before.value == after.value:
            continue
        if any(key[: len(p)] == p and key != (*p, EXISTS) for p in covered):
            continue
        present = after if after is not None else before
        origin = present.origin if present is not None else None
        for kind, detail, effect_or_parties in _changes(key, before, after, new):
            clients, gateways = _parties(effect_or_parties, side_of(key))
            changes.append(
                Change(
                    operation_id,
                    key,
                    kind,
                    detail,
                    clients,
                    gateways,
                    before.value if before else None,
                    after.value if after else None,
                    origin,
                )
            )
    return changes


Parties = tuple[bool, bool]
Outcome = tuple[str, str, Effect | Parties]
CLIENTS: Parties = (True, False)
GATEWAYS: Parties = (False, True)
BOTH_PARTIES: Parties = (True, True)
NEITHER: Parties = (False, False)


def _parties(outcome: Effect | Parties, side: Side) -> Parties:
    if not isinstance(outcome, Effect):
        return outcome
    if outcome is Effect.BOTH:
        return BOTH_PARTIES
    if outcome is Effect.NEUTRAL:
        return NEITHER
    narrows = outcome is Effect.NARROWS
    # the sender breaks when its values narrow, the receiver when they widen
    return (narrows, not narrows) if side == "request" else (not narrows, narrows)


def _changes(key: Key, before: Fact | None, after: Fact | None, new: Mapping[Key, Fact]) -> Iterator[Outcome]:
    keyword = key[-1]
    a = before.value if before is not None else None
    b = after.value if after is not None else None
    if keyword == EXISTS and key[0] == "security":
        return  # a scheme now used or no longer used: reported as the auth alternatives that changed
    if keyword == EXISTS:
        yield _appearance(key, added=before is None, new=new)
    elif keyword == REQUIRED:
        yield (
            ("now-required", "now required", Effect.NARROWS)
            if b
            else ("no-longer-required", "now optional", Effect.WIDENS)
        )
    elif keyword == ANY_OF_REQUIRED:
        old_sets, new_sets = a or frozenset(), b or frozenset()
        for alternative in sorted(old_sets - new_sets, key=sorted):
            yield (
                "required-alternative-removed",
                f"alternative required set {_set(alternative)} removed",
                Effect.NARROWS,
            )
        for alternative in sorted(new_sets - old_sets, key=sorted):
            yield "required-alternative-added", f"alternative required set {_set(alternative)} added", Effect.WIDENS
    elif keyword == REQUIRED_UNLESS:
        for rule in sorted((a or frozenset()) - (b or frozenset())):
            yield "required-rule-removed", f"rule removed: {rule}", Effect.WIDENS
        for rule in sorted((b or frozenset()) - (a or frozenset())):
            yield "required-rule-added", f"rule added: {rule}", Effect.NARROWS
    elif keyword == SECURITY:
        for alternative in sorted((a or frozenset()) - (b or frozenset()), key=sorted):
            yield "auth-alternative-removed", f"{_scheme_set(alternative)} no longer accepted", CLIENTS
        for alternative in sorted((b or frozenset()) - (a or frozenset()), key=sorted):
            yield "auth-alternative-added", f"{_scheme_set(alternative)} now accepted", GATEWAYS
    elif key[0] == "security":
        yield "auth-scheme-changed", f"{keyword} {_show(a)} -> {_show(b)}", BOTH_PARTIES
    elif keyword == "route":
        yield "route-changed", f"{a} -> {b}", BOTH_PARTIES
    elif keyword == "in":
        yield "parameter-moved", f"in {_show(a)} -> {_show(b)}", BOTH_PARTIES
    elif keyword == "enum":
        yield from _enum(a, b)
    elif keyword == "type":
        yield _type(a, b)
    elif keyword in MIN_LIKE or keyword in MAX_LIKE:
        yield _bound(keyword, a, b)
    elif keyword == "default":
        if before is None:
            yield "default-added", f"default {_show(b)} added", GATEWAYS
        elif after is None:
            yield "default-removed", f"default {_show(a)} removed", CLIENTS
        else:
            yield "default-changed", f"default {_show(a)} -> {_show(b)}", BOTH_PARTIES
    elif keyword == "deprecated":
        yield "deprecated" if b else "undeprecated", "deprecated" if b else "no longer deprecated", NEITHER
    elif before is None:
        yield f"{keyword}-added", f"{keyword} {_show(b)} added", Effect.NARROWS
    elif after is None:
        yield f"{keyword}-removed", f"{keyword} {_show(a)} removed", Effect.WIDENS
    else:
        yield f"{keyword}-changed", f"{keyword} {_show(a)} -> {_show(b)}", Effect.BOTH


def _appearance(key: Key, added: bool, new: Mapping[Key, Fact]) -> Outcome:
    """A field, parameter, media type or response that came or went."""
    verb = "added" if added else "removed"
    thing = key[:-1]
    required = bool(added and (new.get((*thing, REQUIRED)) or Fact(False)).value)
    if key[0] == "response":
        status = key[1]
        if len(thing) == 2:  # a status
            parties = (not added, added) if status.startswith("2") else NEITHER
            return f"response-{verb}", verb, parties
        if len(thing) == 3:  # a media type of a status
            parties = (not added, added) if status.startswith("2") else NEITHER
            return f"response-media-type-{verb}", verb, parties
        if added:  # a response field: clients tolerate a new one; gateways must send a required one
            return "field-added", "added (required)" if required else "added", (False, required)
        return "field-removed", "removed", CLIENTS
    if key[0] == "request" and len(thing) == 2:
        return f"media-type-{verb}", verb, GATEWAYS if added else CLIENTS
    kind = "parameter" if key[0] == "parameter" else "field"
    if added:
        return f"{kind}-added", "added (required)" if required else "added", BOTH_PARTIES if required else GATEWAYS
    return f"{kind}-removed", "removed", CLIENTS


def _enum(a: tuple[Any, ...] | None, b: tuple[Any, ...] | None) -> Iterator[Outcome]:
    if a is None:
        yield "enum-added", f"now one of {_show(list(b or ()))}", Effect.NARROWS
        return
    if b is None:
        yield "enum-removed", f"no longer limited to {_show(list(a))}", Effect.WIDENS
        return
    for value in a:
        if value not in b:
            yield "enum-value-removed", f"enum value {_show(value)} removed", Effect.NARROWS
    for value in b:
        if value not in a:
            yield "enum-value-added", f"enum value {_show(value)} added", Effect.WIDENS


def _type(a: frozenset[str] | None, b: frozenset[str] | None) -> Outcome:
    old, new = a or frozenset(), b or frozenset()
    detail = f"type {_types(old)} -> {_types(new)}"
    if not old:
        return "type-added", detail, Effect.NARROWS
    if not new:
        return "type-removed", detail, Effect.WIDENS
    if new < old:
        return "type-narrowed", detail, Effect.NARROWS
    if new > old:
        return "type-widened", detail, Effect.WIDENS
    return "type-changed", detail, Effect.BOTH


def _bound(keyword: str, a: Any, b: Any) -> Outcome:
    lower = keyword in MIN_LIKE
    if a is None:
        return f"{keyword}-added", f"{keyword} {_show(b)} added", Effect.NARROWS
    if b is None:
        return f"{keyword}-removed", f"{keyword} {_show(a)} removed", Effect.WIDENS
    try:
        raised = b > a
    except TypeError:  # not numbers (a spec the validator let through): call it a change of both
        return f"{keyword}-changed", f"{keyword} {_show(a)} -> {_show(b)}", Effect.BOTH
    effect = Effect.NARROWS if raised == lower else Effect.WIDENS
    return f"{keyword}-{'raised' if raised else 'lowered'}", f"{keyword} {_show(a)} -> {_show(b)}", effect


def _show(value: Any) -> str:
    if isinstance(value, frozenset):
        return "[" + ", ".join(sorted(map(str, value))) + "]"
    return json.dumps(value, sort_keys=True, default=str)


def _set(names: frozenset[str]) -> str:
    return "[" + ", ".join(sorted(names)) + "]"


def _scheme_set(names: frozenset[str]) -> str:
    return " + ".join(sorted(names)) if names else "no credentials"


def _types(types: frozenset[str]) -> str:
    return "|".join(sorted(types)) or "any"
