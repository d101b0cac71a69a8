"""The recording upstream plays a provider, not a gateway: a failing model fails whatever fallbacks the request
names, so a gateway that does not try them itself is caught (the stub as a gateway would have done it for it)."""

from __future__ import annotations

import httpx

from pixelpact.generator.runtime.config import StubConfig
from pixelpact.generator.runtime.serve import stub_server

BODY = {"model": "openai/broken", "prompt": "p", "fallbacks": [{"provider": "openai", "model": "dall-e-3"}]}


def test_a_provider_tries_no_fallbacks_a_gateway_does() -> None:
    answers = {}
    for provider in (True, False):
        config = StubConfig(fail_models=frozenset({"openai/broken"}), provider=provider)
        with stub_server(config) as url:
            answers[provider] = httpx.post(f"{url}/v1/images/generations", json=BODY, timeout=10).status_code

    assert answers == {True: 503, False: 200}
