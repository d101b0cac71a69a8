"""Failing models and fallbacks, as Bifrost documents them: the first fallback that works serves the request."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pixelpact.generator.runtime.errors import GatewayError

_PROVIDER_ERROR_TYPES = {429: "rate_limit_error", 401: "authentication_error", 403: "permission_error"}


@dataclass(frozen=True)
class Choice:
    """The model that serves a request and its place in the chain (0: the requested model, k: fallback k)."""

    model: str
    index: int

    @property
    def provider(self) -> str:
        return provider_of(self.model)


def provider_of(model: str) -> str:
    """`provider/model` names its provider; a bare model name is an OpenAI one (what Bifrost's OpenAI route assumes)."""
    provider, sep, _ = model.partition("/")
    return provider if sep and provider else "openai"


def model_name(fallback: Any) -> str:
    """A fallback as `provider/model`: a `{provider, model}` object (the native routes' form) or that string itself."""
    provider = getattr(fallback, "provider", None)
    model = getattr(fallback, "model", None)
    if isinstance(fallback, Mapping):
        provider, model = fallback.get("provider"), fallback.get("model")
    if isinstance(provider, str) and isinstance(model, str):
        return f"{provider}/{model}"
    return str(fallback)


def fails(model: str, fail_models: frozenset[str]) -> bool:
    """Whether `model` is told to fail; `--fail-model dall-e-3` also matches `openai/dall-e-3`."""
    return model in fail_models or model.partition("/")[2] in fail_models


def choose(
    requested: str,
    fallbacks: list[str],
    fail_models: frozenset[str],
    fail_status: int,
    request_type: str,
    *,
    provider: bool = False,
) -> Choice:
    """The model that serves the request, or the requested model's provider error if it and every fallback fail.

    A `provider` (the stub behind a gateway) knows nothing of fallbacks: trying them is the gateway's job, and a
    provider doing it would pass a gateway that never does.
    """
    if not fails(requested, fail_models):
        return Choice(requested, 0)  # the usual case, without building the chain
    if provider:
        fallbacks = []
    for index, model in enumerate([requested, *fallbacks]):
        if not fails(model, fail_models):
            return Choice(model, index)
    tried = f" (fallbacks tried: {', '.join(fallbacks)})" if fallbacks else ""
    status = fail_status
    error_type = _PROVIDER_ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    raise GatewayError(
        status,
        f"provider error: model {requested!r} is unavailable{tried}",
        None,
        error_type,
        code="model_unavailable",
        extra_fields={"provider": provider_of(requested), "model_requested": requested, "request_type": request_type},
        is_bifrost_error=False,
    )
