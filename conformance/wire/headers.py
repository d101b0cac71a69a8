"""Custom headers (`--header "Name: value"`): sent on every request to the gateway, never to another host.

Some gateways route by request headers (a provider, a virtual key, a tenant); `pixelpact check` sends the headers
the user gives on every request to the gateway's own host (not to third-party hosts of returned image urls), and
every curl reproduction carries them. Values of credential-bearing headers are secrets: the Redactor removes them
from every output. A header is credential-bearing when one of its name's whole words is a credential word
(authorization, api-key, x-tenant-token, x-session-id ...; the rule is pixelpact.generator.runtime.credentials, the
stub's recording uses it too), or when the user marks it (`--secret-header NAME`). `X-Turnkey-Provider` is not: its
value (`openai`) stays readable, and so do the model names that contain it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from pixelpact.generator.runtime.credentials import is_credential_name

_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


class HeaderError(ValueError):
    """A --header that is not `Name: value`; the message is one line naming it."""


def parse_header(text: str) -> tuple[str, str]:
    """`"Name: value"` -> ("Name", "value"); raises HeaderError naming the text when it is not a header."""
    name, sep, value = text.partition(":")
    name, value = name.strip(), value.strip()
    if not sep or not _TOKEN.match(name):
        raise HeaderError(f"header {_shown(text)!r} is not 'Name: value'")
    if any(ch in value for ch in "\r\n\x00"):
        raise HeaderError(f"header {name!r}: the value holds a line break or a NUL")
    return name, value


def is_secret(name: str, marked: Iterable[str] = ()) -> bool:
    """Whether a header's value is a credential (see the module docstring)."""
    return is_credential_name(name) or name.lower() in {m.lower() for m in marked}


def secret_values(headers: Iterable[tuple[str, str]], marked: Iterable[str] = ()) -> list[str]:
    """The values to redact: every credential-bearing header's value, and its token after a scheme ("Bearer x")."""
    marked = tuple(marked)
    values: list[str] = []
    for name, value in headers:
        if is_secret(name, marked) and value:
            values.append(value)
            scheme, _, token = value.partition(" ")
            if token and scheme.isalpha():
                values.append(token)
    return values


def merged(custom: Iterable[tuple[str, str]], request: Mapping[str, str]) -> dict[str, str]:
    """The custom headers, then the request's own; a request header of the same name (any case) wins, so a probe
    that deliberately sends no key or a wrong one still does."""
    own = {name.lower() for name in request}
    headers = {name: value for name, value in custom if name.lower() not in own}
    headers.update(request)
    return headers


def _shown(text: str) -> str:
    """What of a malformed header an error message may show: its name part only (the value may be a secret)."""
    return text.partition(":")[0].strip()[:60]
