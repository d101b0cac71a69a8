"""How a stub gateway behaves beyond the spec: credentials, failing models, limits, recording."""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True)
class StubConfig:
    """Settings of one stub gateway; the defaults give an open, strict, realistic gateway."""

    api_keys: tuple[str, ...] = ()
    """When non-empty, every image route needs one of these keys (Bearer, Basic, x-bf-vk, x-api-key or api-key)."""
    fail_models: frozenset[str] = frozenset()
    """Models that fail with a provider error; a request naming one is served by its first working fallback."""
    fail_status: int = 503
    """The HTTP status of a failing model's provider error."""
    max_body_bytes: int = 25 * MIB
    """Bodies larger than this get 413 without being read whole."""
    record_limit: int = 1000
    """How many served requests the recording ring keeps (0: record nothing)."""
    max_parts: int = 128
    """A multipart body with more parts than this gets 400 (the spec's forms have about 20 fields)."""
    provider: bool = False
    """Play a provider behind a gateway, not a gateway (the two-sided checks' recording upstream): fallbacks are the
    gateway's job, so a failing model fails whatever `fallbacks` the request names."""
