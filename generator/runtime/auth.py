"""Credentials: inference is open unless the stub is given API keys (the spec's security alternatives)."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping

from pixelpact.generator.runtime.errors import GatewayError


def _candidates(headers: Mapping[str, str], family: str) -> list[str]:
    """Every secret the request offers, in the places the spec's securitySchemes name."""
    found: list[str] = []
    authorization = headers.get("authorization", "")
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        found.append(value)
    elif scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        user, _, password = decoded.partition(":")
        # Basic carries user:password; a key may sit in either half (curl -u KEY: or -u user:KEY).
        found.extend(part for part in (password, user) if part)
    names = ["x-bf-vk", "x-api-key"]
    if family == "azure":
        # The spec lists AzureApiKeyAuth (`api-key`) on the Azure deployment routes only.
        names.append("api-key")
    found.extend(headers[name].strip() for name in names if headers.get(name, "").strip())
    return found


def check_credentials(headers: Mapping[str, str], api_keys: tuple[str, ...], family: str) -> None:
    """Raise a 401 GatewayError unless `api_keys` is empty or the request carries one of them.

    `headers` maps lower-case header names to values.
    """
    if not api_keys:
        return
    offered = _candidates(headers, family)
    for secret in offered:
        # compare_digest: no timing hints about how much of a key matched.
        if any(hmac.compare_digest(secret.encode(), key.encode()) for key in api_keys):
            return
    where = "Authorization: Bearer, Basic, x-bf-vk or x-api-key" + (" or api-key" if family == "azure" else "")
    message = (
        "invalid API key: the key given is not one this gateway accepts"
        if offered
        else f"an API key is required: send one with {where}"
    )
    raise GatewayError(
        401,
        message,
        None,
        "authentication_error",
        code="invalid_api_key" if offered else "missing_api_key",
        headers={"WWW-Authenticate": 'Bearer realm="pixelpact"'},
    )
