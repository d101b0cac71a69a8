"""What counts as a credential, for the stub's recording and for the conformance suite's redaction alike.

A header or query parameter carries a credential when its name is a known credential name (`x-bf-vk`, `api-key`
...) or when one of its name's whole words, split on `-` and `_`, is a credential word (`X-Tenant-Token`,
`x-session-id`, `access_token`). Whole words only: `X-Turnkey-Provider` routes, it does not authenticate, and
masking its value (`openai`) everywhere would mask every model name that contains it.

A secret value is masked wherever it appears only when it is long enough to be one (LONG_ENOUGH characters): a
three-letter value would be masked inside every word that happens to contain it. A shorter one is masked in its own
header only.
"""

from __future__ import annotations

import functools
import re

#: Names whose value is a credential although none of their words says so.
CREDENTIAL_NAMES = frozenset({"x-bf-vk", "set-cookie"})
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
