"""Fold changes into report entries (one per change of a shared schema, with every operation it reaches) and render
them as text, Markdown or JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pixelpact.conformance.specdiff.compare import Change, Side
from pixelpact.conformance.specdiff.facts import Key, Origin

WHY = {
    ("request", "clients"): "a request that was valid may now be refused or mean something else",
    ("request", "gateways"): "a gateway that conformed may now refuse or mishandle a valid request",
    ("response", "clients"): "clients may now get answers that lack, retype or add to what they read",
    ("response", "gateways"): "an answer a conforming gateway gives may now be invalid",
}


@dataclass(frozen=True)
class Entry:
    """One change of the contract as reported: a change of a shared schema appears once, with its operations."""

    subject: str
    """The component schema (and field) where it is written, e.g. "ImageCount", or the place for inline facts."""
    kind: str
    detail: str
    side: Side
    clients: bool
    gateways: bool
    where: tuple[str, ...]
    """Where the operations meet it, e.g. ("request field `n`",)."""
    operations: tuple[str, ...]
    before: Any
    after: Any

    @property
    def impact(self) -> str:
        if self.clients and self.gateways:
            return "breaks clients and gateways"
        if self.clients:
            return "breaks clients"
        return "breaks gateways" if self.gateways else "compatible"

    @property
    def why(self) -> tuple[str, ...]:
        parties = [party for party, hit in (("clients", self.clients), ("gateways", self.gateways)) if hit]
        return tuple(f"{party}: {WHY[(self.side, party)]}" for party in parties)

    def as_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "kind": self.kind,
            "detail": self.detail,
            "side": self.side,
            "breaks_clients": self.clients,
            "breaks_gateways": self.gateways,
            "where": list(self.where),
            "operations": list(self.operations),
            "before": _jsonable(self.before),
            "after": _jsonable(self.after),
        }


def entries(changes: Iterable[Change]) -> list[Entry]:
    """Changes folded by where they are written; most breaking first, then in the spec's order."""
    groups: dict[tuple[Any, ...], list[Change]] = {}
    for change in changes:
        place: tuple[Any, ...] = (change.origin,) if change.origin is not None else (describe(change.key),)
        if change.kind.startswith("operation-") or change.key == ("route",):
            place = (change.operation,)
        groups.setdefault((*place, change.kind, change.detail, change.clients, change.gateways), []).append(change)
    folded = []
    for group in groups.values():
        first = group[0]
        subject = _subject(first.origin) if first.origin is not None else describe(first.key)
        if first.key == ("route",):
            subject = first.operation
        folded.append(
            Entry(
                subject=subject,
                kind=first.kind,
                detail=first.detail,
                side=first.side,
                clients=first.clients,
                gateways=first.gateways,
                where=_fold_statuses(dict.fromkeys(describe(change.key) for change in group)),
                operations=tuple(dict.fromkeys(change.operation for change in group)),
                before=first.before,
                after=first.after,
            )
        )
    return sorted(folded, key=lambda entry: (not entry.clients, not entry.gateways))


def describe(key: Key) -> str:
    """Where a fact sits in an operation, in words: "request field `n`", "response 200 field `data[].url`"."""
    head, rest = key[0], key[1:-1]  # every key ends with its keyword (maximum, enum, @exists ...)
    if head == "route":
        return "operation"
    if head == "security":
        return "auth" if not rest else f"auth scheme {rest[0]}"
    if head == "parameter":
        return f"parameter `{rest[0]}`"
    if head == "request":
        if not rest:
            return "request body"
        media, tail = rest[0], rest[1:]
        if tail[:1] == ("encoding",):
            return f"multipart encoding of `{tail[1]}`"
        path = _field_path(tail[1:])
        return f"request field `{path}`" if path else f"request body ({media})"
    status, tail = rest[0], rest[1:]
    if not tail:
        return f"response {status}"
    media, path = tail[0], _field_path(tail[2:])
    if len(tail) == 1:
        return f"response {status} as {media}"
    if media == "text/event-stream":
        return f"stream event field `{path}`" if path else "stream event"
    label = f"response {status}" if status.startswith("2") else f"error body {status}"
    return f"{label} field `{path}`" if path else f"{label} ({media})"


def _field_path(parts: Key) -> str:
    out = ""
    index = 0
    while index < len(parts):
        part = parts[index]
        if part == "properties" and index + 1 < len(parts):
            out += ("." if out else "") + parts[index + 1]
            index += 2
            continue
        if part == "items":
            out += "[]"
        elif part == "additionalProperties":
            out += "{*}"
        elif part in ("anyOf", "oneOf", "allOf") and index + 1 < len(parts):
            out += f"<{part} {parts[index + 1]}>"
            index += 1
        index += 1
    return out


def _subject(origin: Origin) -> str:
    path = _field_path(origin.path)
    return f"{origin.schema}{'' if path.startswith('[') else '.'}{path}" if path else origin.schema


_STATUS = re.compile(r"\b([1-5]\d\d)\b")


def _fold_statuses(places: Iterable[str]) -> tuple[str, ...]:
    """ "error body 400 field `x`", "error body 401 field `x`" -> "error body 400/401 field `x`"."""
    folded: dict[str, list[str]] = {}
    for place in places:
        folded.setdefault(_STATUS.sub("{}", place, count=1), []).extend(_STATUS.findall(place)[:1])
    return tuple(pattern.replace("{}", "/".join(statuses), 1) for pattern, statuses in folded.items())


def _jsonable(value: Any) -> Any:
    if isinstance(value, frozenset):
        return sorted((_jsonable(item) for item in value), key=str)
    if isinstance(value, tuple):
        return [_jsonable(item) for item in value]
    return value


def counts(found: Sequence[Entry]) -> dict[str, int]:
    return {
        "changes": len(found),
        "break_clients": sum(entry.clients for entry in found),
        "break_gateways": sum(entry.gateways for entry in found),
        "compatible": sum(not entry.clients and not entry.gateways for entry in found),
    }


def _headline(found: Sequence[Entry]) -> str:
    total = counts(found)
    if not found:
        return "no change of the contract"
    return (
        f"{total['changes']} change(s): {total['break_clients']} break clients, {total['break_gateways']} break "
        f"gateways, {total['compatible']} compatible"
    )


def _operations(entry: Entry, limit: int = 4) -> str:
    shown = ", ".join(entry.operations[:limit])
    more = len(entry.operations) - limit
    return f"{shown} (+{more} more)" if more > 0 else shown


def text(old: str, new: str, found: Sequence[Entry]) -> str:
    lines = [f"pixelpact diff {old} -> {new}", _headline(found)]
    for entry in found:
        lines += [
            "",
            f"[{entry.impact}] {entry.subject}: {entry.detail}",
            f"    {', '.join(entry.where)} in {len(entry.operations)} operation(s): {_operations(entry)}",
        ]
        lines += [f"    {why}" for why in entry.why]
    return "\n".join(lines)


def markdown(old: str, new: str, found: Sequence[Entry]) -> str:
    lines = [f"### Contract changes `{old}` → `{new}`", "", _headline(found)]
    if found:
        lines += ["", "| impact | what | where | operations |", "|---|---|---|---|"]
        for entry in found:
            where = ", ".join(entry.where).replace("|", "\\|")
            operations = ", ".join(f"`{op}`" for op in entry.operations)
            lines.append(
                f"| **{entry.impact}** | `{entry.subject}`: {entry.detail.replace('|', chr(92) + '|')} | {where} | "
                f"{operations} |"
            )
    return "\n".join(lines)


def as_json(old: str, new: str, found: Sequence[Entry]) -> str:
    document = {"old": old, "new": new, "summary": counts(found), "changes": [entry.as_json() for entry in found]}
    return json.dumps(document, indent=2)
