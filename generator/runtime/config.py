"""How a stub gateway behaves beyond the spec: credentials, failing models, limits, recording."""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024
#: Seconds a provider (the recording upstream) keeps an idle keep-alive connection, at least: longer than gateways keep
#: connections to a provider pooled (Bifrost's fasthttp client: 30 s). A provider that closes first races the gateway
#: writing its next request onto the closing connection, and a POST lost that way is not retried.
PROVIDER_IDLE_TIMEOUT = 90.0


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
    record_max_bytes: int = 16 * MIB
    """The recording's bound in bytes (roughly: kept text, headers, summaries); the oldest entries go first."""
    max_parts: int = 128
    """A multipart body with more parts than this gets 400 (the spec's forms have about 20 fields)."""
    provider: bool = False
    """Play a provider behind a gateway, not a gateway (the two-sided checks' recording upstream): fallbacks are the
    gateway's job, so a failing model fails whatever `fallbacks` the request names."""
    max_header_bytes: int = 32 * 1024
    """A request line longer than this gets 414, a head (request line and headers) longer than this 431."""
    header_timeout: float = 10.0
    """Seconds a request's head may take from its first byte (408 after), and a new connection to send one."""
    body_timeout: float = 10.0
    """Seconds a request body may pause between two reads before the request gets 408."""
    idle_timeout: float = 5.0
    """Seconds a keep-alive connection may sit idle between requests before it is closed (a provider: at least
    PROVIDER_IDLE_TIMEOUT; see `keep_alive`)."""
    latency_per_request_ms: float = 0.0
    """Milliseconds every answered image request waits before its answer starts (a slow provider)."""
    latency_per_image_ms: float = 0.0
    """Milliseconds more for each image the answer generates."""
    rate_limit_requests: int = 0
    """Requests on image routes allowed per `rate_limit_period` (a token bucket); beyond, 429 + Retry-After. 0: none."""
    rate_limit_period: float = 1.0
    """Seconds over which `rate_limit_requests` tokens come back."""
    model_rules: str | None = None
    """Play this provider model (pixelpact.generator.runtime.provider_api.MODELS, e.g. "gpt-image-1"): a valid request
    the model does not take (a size, n, response_format, an operation it does not serve ...) gets OpenAI's 400
    invalid_request_error naming `param`, whatever model it names; answers are base64 when the model takes no
    response_format. None: every request the spec allows is served."""

    @property
    def keep_alive(self) -> float:
        """Seconds an idle keep-alive connection is kept: `idle_timeout`, or PROVIDER_IDLE_TIMEOUT if longer when
        playing a provider (gateways pool their connections to a provider longer than clients do to a gateway)."""
        return max(self.idle_timeout, PROVIDER_IDLE_TIMEOUT) if self.provider else self.idle_timeout
