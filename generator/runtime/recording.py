"""The recording: a bounded ring of every request the stub served, so a test can see what a gateway forwarded.

Read it with `GET /_pixelpact/requests` (`?since=SEQ`: only entries after that number, so a test that noted
`last_seq` before acting sees just its own requests; `?limit=N`: at most N entries, the oldest first, with
`"more": true` when others follow: ask again with `since` set to the last `seq` you got), clear it with
`DELETE /_pixelpact/requests`. The answer is `{"limit": 1000, "count": 2, "last_seq": 3, "more": false,
"requests": [entry, ...]}`, oldest first; one entry:

    {"seq": 3, "time": 1763730000.123, "method": "POST", "path": "/v1/images/variations",
     "query": {"api-version": "2024-02-01"}, "headers": {"authorization": "Bearer <redacted 17 chars sha256:…>", ...},
     "operation_id": "createImageVariation", "content_type": "multipart/form-data", "body_size": 1234,
     "json": null,
     "parts": [{"name": "model", "value": "dall-e-2"},
               {"name": "image[]", "filename": "a.png", "content_type": "image/png", "size": 73, "sha256": "…"}],
     "status": 200, "error": null, "model_requested": "dall-e-2", "model_served": "dall-e-2"}

The ring is bounded in entries (`record_limit`) and in bytes (`record_max_bytes`: the oldest entries go first). Within
an entry, text values are kept whole while they total at most MAX_KEPT_TEXT; a value beyond that is kept as its first
characters, `"truncated": true`, its `size` in bytes and `value_sha256`; a JSON body above MAX_KEPT_TEXT as
`{"_truncated": true, "size": N, "sha256": "..."}`. Headers are bounded by the stub's head limit.

Secrets are never stored: a credential header's value (pixelpact.generator.runtime.credentials decides which are) is
kept as its length and a hash prefix; `redact_header(name, value)` gives what the recording holds, so a test compares
`entry["headers"]["authorization"] == redact_header("authorization", "Bearer " + expected_key)`.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections import deque
from typing import Any

from pixelpact.generator.runtime.bodies import Part, sha256_hex
from pixelpact.generator.runtime.credentials import is_credential_name

#: The text an entry keeps whole (the sum of its multipart text values, or its JSON body); the rest is summarised.
MAX_KEPT_TEXT = 64 * 1024
#: How much of a summarised text value is kept, for a human reading the recording.
SUMMARY_PREFIX = 256
#: What the fixed fields of an entry and of a summarised part cost, roughly, in bytes (for the ring's byte bound).
ENTRY_OVERHEAD = 512
PART_OVERHEAD = 160


def redact_secret(secret: str) -> str:
    """A stand-in that tells keys apart (length, sha256 prefix) without revealing them."""
    digest = hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return f"<redacted {len(secret)} chars sha256:{digest}>"


def redact_header(name: str, value: str) -> str:
    """The value the recording keeps for header `name`; Authorization keeps its scheme (Bearer, Basic)."""
    if not is_credential_name(name):
        return value
    if name.lower() in {"authorization", "proxy-authorization"}:
        scheme, sep, rest = value.strip().partition(" ")
        if sep:
            return f"{scheme} {redact_secret(rest.strip())}"
    return redact_secret(value.strip())


def header_dict(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """ASGI headers by lower-case name, repeated ones joined with ", " (RFC 9110 5.3)."""
    out = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in raw}
    if len(out) == len(raw):
        return out  # no name repeated: the usual case, in one comprehension
    out = {}
    for raw_name, raw_value in raw:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def record_headers(headers: dict[str, str]) -> dict[str, str]:
    """`headers` (lower-case names) with secrets redacted; `headers` itself when it holds none (it is not changed)."""
    if not any(map(is_credential_name, headers)):
        return headers
    return {name: redact_header(name, value) for name, value in headers.items()}


def record_parts(parts: list[Part], file_fields: frozenset[str]) -> list[dict[str, Any]]:
    """Multipart parts in order: text as its value, files (and anything with a filename) as name, size and hash.

    Text values are kept whole while their sum stays within MAX_KEPT_TEXT; later or larger ones are summarised.
    """
    out: list[dict[str, Any]] = []
    budget = MAX_KEPT_TEXT
    for part in parts:
        if part.name in file_fields or part.filename is not None:
            out.append(
                {
                    "name": part.name,
                    "filename": part.filename,
                    "content_type": part.content_type,
                    "size": len(part.data),
                    "sha256": part.digest(),
                }
            )
        elif len(part.data) <= budget:
            budget -= len(part.data)
            out.append({"name": part.name, "value": part.data.decode("utf-8", "replace")})
        else:
            out.append(
                {
                    "name": part.name,
                    "value": part.data[:SUMMARY_PREFIX].decode("utf-8", "replace"),
                    "truncated": True,
                    "size": len(part.data),
                    # Not "sha256": that key marks a file part for readers of the recording.
                    "value_sha256": sha256_hex(part.data),
                }
            )
    return out


def record_json(raw: bytes, value: Any) -> Any:
    """A JSON body as the recording keeps it: the parsed value, or a summary when it is large."""
    if len(raw) > MAX_KEPT_TEXT:
        return {"_truncated": True, "size": len(raw), "sha256": sha256_hex(raw)}
    return value


def entry_size(entry: dict[str, Any]) -> int:
    """Roughly the bytes an entry holds: its headers, kept text and part summaries, plus fixed fields."""
    headers: dict[str, str] = entry["headers"]
    # map(len, ...) rather than a generator: this runs for every request.
    size = ENTRY_OVERHEAD + len(entry["path"]) + sum(map(len, headers)) + sum(map(len, headers.values()))
    query: dict[str, str] = entry["query"]
    if query:
        size += sum(map(len, query)) + sum(map(len, query.values()))
    if entry["json"] is not None:
        size += min(entry["body_size"] or 0, MAX_KEPT_TEXT)
    for part in entry["parts"] or ():
        size += PART_OVERHEAD + len(part["name"]) + len(part.get("value") or "")
    return size


class Recorder:
    """A ring of the last `limit` request entries, at most `max_bytes` in all, oldest first.

    `seq` numbers keep counting across clears.
    """

    def __init__(self, limit: int, max_bytes: int = 16 * 1024 * 1024) -> None:
        self.limit = limit
        self.max_bytes = max_bytes
        self._entries: deque[tuple[dict[str, Any], int]] = deque()
        self._bytes = 0
        self._seq = itertools.count(1)
        self._enabled = limit > 0 and max_bytes > 0
        self._last_cleared = 0

    def start(self, method: str, path: str, query: dict[str, str], headers: dict[str, str]) -> dict[str, Any]:
        """A fresh entry for a request (`headers` already redacted); filled in as it is read, then `add`ed."""
        return {
            "seq": 0,
            "time": time.time(),
            "method": method,
            "path": path,
            "query": query,
            "headers": headers,
            "operation_id": None,
            "content_type": headers.get("content-type"),
            "body_size": None,
            "json": None,
            "parts": None,
            "status": None,
            "error": None,
            "model_requested": None,
            "model_served": None,
        }

    def add(self, entry: dict[str, Any], status: int, error: str | None = None) -> None:
        if not self._enabled or entry.get("seq"):
            return  # seq set: already recorded (a handler may see a request twice)
        entry["seq"] = next(self._seq)
        entry["status"] = status
        entry["error"] = error
        size = entry_size(entry)
        self._entries.append((entry, size))
        self._bytes += size
        while len(self._entries) > self.limit or (self._bytes > self.max_bytes and len(self._entries) > 1):
            self._bytes -= self._entries.popleft()[1]

    def snapshot(self, since: int = 0, limit: int | None = None) -> dict[str, Any]:
        """The kept entries with a `seq` above `since`, oldest first, at most `limit` of them.

        `last_seq` is the newest number handed out; `more` says that entries after the last one returned are kept.
        """
        entries = [e for e, _ in self._entries if e["seq"] > since]
        more = limit is not None and len(entries) > limit
        if more:
            entries = entries[:limit]
        last = self._entries[-1][0]["seq"] if self._entries else self._last_cleared
        return {"limit": self.limit, "count": len(entries), "last_seq": last, "more": more, "requests": entries}

    @property
    def bytes(self) -> int:
        """Roughly the bytes the kept entries hold (see entry_size)."""
        return self._bytes

    def clear(self) -> int:
        cleared = len(self._entries)
        if self._entries:
            self._last_cleared = self._entries[-1][0]["seq"]
        self._entries.clear()
        self._bytes = 0
        return cleared
