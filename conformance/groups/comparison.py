"""What the client sent against what reached the provider, field by field (the two-sided forwarding checks).

`compare` lists every difference by name with both values: a field dropped, added, renamed (dropped under one name,
added under another with the same value) or changed. Only what the contract allows passes: a provider-prefixed model
arriving bare (`openai/dall-e-3` -> `dall-e-3`), and on an Azure route, where the deployment names the model, a model
added, dropped or changed. `placeholder_credential` tells a credential that stands in for none (`Bearer undefined`,
`null`, `None`, a bare scheme) from the gateway's own key, through the recording's redaction.

A difference's `cause` ("dropped", "changed:n" ...) is what the findings cluster on
(pixelpact.conformance.catalogue.findings).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Values a gateway sends when it has no key: JavaScript's and Python's empty values, empty strings, bare schemes.
PLACEHOLDERS = ("undefined", "null", "None", "nil", "", "Bearer", "Basic", "Token")


@dataclass
class Differences:
    dropped: dict[str, Any] = field(default_factory=dict)
    """name -> the value the client sent."""
    added: dict[str, Any] = field(default_factory=dict)
    """name -> the value the provider received."""
    renamed: dict[str, str] = field(default_factory=dict)
    """sent name -> received name."""
    changed: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    """name -> (sent, received)."""

    def __bool__(self) -> bool:
        return bool(self.dropped or self.added or self.renamed or self.changed)

    @property
    def cause(self) -> str:
        """The one cause the findings cluster this on: a change to a named field first, then dropped, renamed, added."""
        if self.changed:
            return f"changed:{next(iter(self.changed))}"
        if self.dropped:
            return "dropped:" + ",".join(self.dropped)
        if self.renamed:
            return "renamed:" + ",".join(f"{a}->{b}" for a, b in self.renamed.items())
        return "added:" + ",".join(self.added)

    def describe(self) -> str:
        """E.g. "dropped seed (sent 424242), background (sent 'opaque'); changed n (sent 2, received 1)"."""
        parts = []
        if self.dropped:
            parts.append("dropped " + ", ".join(f"{name} (sent {value!r})" for name, value in self.dropped.items()))
        if self.renamed:
            parts.append("renamed " + ", ".join(f"{a} to {b}" for a, b in self.renamed.items()))
        if self.changed:
            parts.append(
                "changed " + ", ".join(f"{name} (sent {a!r}, received {b!r})" for name, (a, b) in self.changed.items())
            )
        if self.added:
            parts.append("added " + ", ".join(f"{name} ({value!r})" for name, value in self.added.items()))
        return "; ".join(parts)


def compare(sent: Mapping[str, Any], received: Mapping[str, Any], *, multipart: bool, azure: bool) -> Differences:
    """Every difference between the client's fields and the provider's, except those the contract allows."""
    found = Differences()
    for name, value in sent.items():
        if name not in received:
            found.dropped[name] = value
        elif not same(name, value, received[name], multipart=multipart):
            found.changed[name] = (value, received[name])
    for name, value in received.items():
        if name not in sent:
            found.added[name] = value
    for old, value in list(found.dropped.items()):
        new = next((n for n, v in found.added.items() if same(old, value, v, multipart=multipart)), None)
        if new is not None:
            found.renamed[old] = new
            del found.dropped[old], found.added[new]
    if azure:  # the deployment in the path names the model; the body's model may go, come or differ
        for bucket in (found.dropped, found.added, found.changed):
            bucket.pop("model", None)
    return found


def same(name: str, sent: Any, received: Any, *, multipart: bool) -> bool:
    """Equal as the wire format allows: multipart carries only text, JSON keeps types (2 is not "2")."""
    if name == "model" and isinstance(sent, str) and isinstance(received, str):
        return sent == received or sent.rsplit("/", 1)[-1] == received.rsplit("/", 1)[-1]
    if multipart:
        return text(sent) == text(received)
    return type(sent) is type(received) and bool(sent == received)


def text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def placeholder_credential(headers: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    """ "authorization: Bearer undefined" when a credential header the provider got is a placeholder, else None.

    `headers` are as the stub's recording keeps them (secrets reduced to length and hash), so each placeholder is
    redacted the same way and compared.
    """
    from pixelpact.generator.runtime.recording import redact_header

    for name in names:
        value = headers.get(name)
        if value is None:
            continue
        for placeholder in PLACEHOLDERS:
            for shown in (placeholder, f"Bearer {placeholder}", f"Basic {placeholder}"):
                if value in (shown, redact_header(name, shown)):
                    return f"{name}: {shown}".rstrip()
    return None
