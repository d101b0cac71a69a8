"""The --upstream-port banner gives both ways gateways name an OpenAI provider's address, and each works as said:
the provider's root for a gateway that appends /v1 itself, the API base with /v1 for one that does not (the openai
SDK's base_url), and the 404 it names when the two are mixed up."""

from __future__ import annotations

import re

import httpx
from openai import OpenAI

from pixelpact.conformance.engine.context import Upstream
from pixelpact.conformance.engine.upstream import provider_settings, recording_upstream
from tests.processes import free_port

BODY = {"model": "dall-e-2", "prompt": "a fox", "size": "256x256", "response_format": "b64_json"}


def test_the_banner_gives_the_root_and_the_v1_base_and_each_reaches_the_provider() -> None:
    upstream = Upstream("127.0.0.1", free_port())
    banner = provider_settings(upstream)
    root = re.search(r"the provider's root, when the gateway appends /v1 itself.*: (\S+)$", banner, re.M)
    base = re.search(r"the API base with /v1, as the openai SDK's base_url.*: (\S+)$", banner, re.M)
    assert root and base, banner
    assert base[1] == root[1] + "/v1"
    assert re.search(rf"Azure OpenAI provider: endpoint {re.escape(root[1])} ", banner)
    with recording_upstream(upstream):
        # a gateway that appends /v1/images/... to the root it was given
        assert httpx.post(f"{root[1]}/v1/images/generations", json=BODY, timeout=10).status_code == 200
        # a gateway (or the SDK) that appends /images/... to the base
        images = OpenAI(base_url=base[1], api_key="any").images.generate(**BODY)  # type: ignore[call-overload]
        assert images.data and images.data[0].b64_json
        # the mix-up the banner warns of: the base given to a gateway that appends /v1 itself
        assert "/v1/v1/images/..." in banner
        assert httpx.post(f"{base[1]}/v1/images/generations", json=BODY, timeout=10).status_code == 404
