"""What counts as a credential, in one place: for the stub's recording, the conformance suite's redaction (every
output of `pixelpact check`), its forwarding checks (the gateway's own key, not the client's, reaches the provider)
and its config file (`--show-config`).

The headers a key travels in (`KEY_HEADERS`) are what a two-sided run looks for in what the provider received. A
header or query parameter carries a credential when its name is one of them or another known credential name, or
when one of its name's whole words, split on `-` and `_`, is a credential word (`X-Tenant-Token`, `x-session-id`,
`access_token`). Whole words only: `X-Turnkey-Provider` routes, it does not authenticate, and
masking its value (`openai`) everywhere would mask every model name that contains it.

A secret value is masked wherever it appears only when it is long enough to be one (LONG_ENOUGH characters): a
three-letter value would be masked inside every word that happens to contain it. A shorter one is masked in its own
header only.
"""

from __future__ import annotations

import functools
import re

#: The headers a key travels in, from a client to a gateway or from a gateway to its provider (lower case): Bearer or
#: Basic in (proxy-)authorization, OpenAI-style and Azure keys, Google's, Bifrost's virtual key.
KEY_HEADERS = ("authorization", "api-key", "x-api-key", "x-goog-api-key", "x-bf-vk", "proxy-authorization")
#: Names whose value is a credential: the key headers (x-bf-vk says so in none of its words), and set-cookie.
CREDENTIAL_NAMES = frozenset({*KEY_HEADERS, "set-cookie"})
#: Words of a name that make its value a credential (matched on whole words of the lower-cased name).
CREDENTIAL_WORDS = frozenset(
    {
        "key",
        "apikey",
        "token",
        "secret",
        "auth",
        "authorization",
        "cookie",
        "password",
        "passwd",
        "session",
        "credential",
        "credentials",
        "signature",
    }
)
#: The shortest value masked wherever it appears, not only in its own header.
LONG_ENOUGH = 8
_WORD_SEPARATORS = re.compile(r"[-_]")


@functools.lru_cache(maxsize=1024)
def is_credential_name(name: str) -> bool:
    """Whether a header or query parameter named `name` carries a credential (see the module docstring).

    Cached: the stub asks for every header of every request, and clients send the same few names.
    """
    lowered = name.strip().lower()
    return lowered in CREDENTIAL_NAMES or not CREDENTIAL_WORDS.isdisjoint(_WORD_SEPARATORS.split(lowered))


def long_enough(secret: str) -> bool:
    """Whether `secret` is masked wherever it appears (else only in its own header)."""
    return len(secret) >= LONG_ENOUGH
