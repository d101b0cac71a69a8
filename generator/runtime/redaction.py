"""Keeping keys out of what the stub stores and says: the recording's query, path and headers, and its 404 messages.

A key may arrive where no client should put it: in the query (`?api-key=...`), in the path, in a header that is not a
credential header. The recording and error messages are read by tests, logs and reports, so the stub redacts there:
query parameters named like credentials always (pixelpact.generator.runtime.credentials), and every occurrence of a
key the stub was given (`--api-key`) anywhere, when it is long enough to be told from a word (a shorter key is masked
in credential headers and parameters only). A 404 message names the path it could not route, with every segment that
looks like a secret masked too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pixelpact.generator.runtime.credentials import is_credential_name, long_enough
from pixelpact.generator.runtime.recording import record_headers, redact_secret

#: A path segment that looks like a token rather than a name: long, with letters and digits (sk-..., JWTs, hex).
_TOKEN_LIKE = re.compile(r"^(?=.*[0-9])(?=.*[A-Za-z])[A-Za-z0-9_\-.~+/=]{24,}$")
MASK = "<redacted>"


class Redactor:
    """Redacts the keys a stub was given (and credential-named query parameters) from text it keeps or sends."""

    def __init__(self, api_keys: tuple[str, ...]) -> None:
        # Longest first, so a key that contains another is masked whole.
        self.keys = tuple(sorted({key for key in api_keys if long_enough(key)}, key=len, reverse=True))

    def text(self, value: str) -> str:
        """`value` with every configured key replaced by its redacted stand-in."""
        for key in self.keys:
            if key in value:
                value = value.replace(key, redact_secret(key))
        return value

    def query(self, query: Mapping[str, str]) -> dict[str, str]:
        """Query parameters as the recording keeps them."""
        return {
            name: redact_secret(value) if is_credential_name(name) else self.text(value)
            for name, value in query.items()
        }

    def headers(self, headers: dict[str, str]) -> dict[str, str]:
        """Headers (lower-case names) as the recording keeps them: credential headers and configured keys redacted."""
        kept = record_headers(headers)
        if self.keys:
            kept = {name: self.text(value) for name, value in kept.items()}
        return kept

    def path_for_message(self, path: str) -> str:
        """A path fit for an error message: configured keys and token-like segments masked, at most 200 characters."""
        masked = "/".join(MASK if _TOKEN_LIKE.match(segment) else segment for segment in self.text(path).split("/"))
        return masked if len(masked) <= 200 else masked[:200] + "..."
