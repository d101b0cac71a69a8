"""What `pixelpact check --upstream-port` prints before a two-sided run: how to point the gateway's providers at the
recording upstream.

Gateways disagree on what an OpenAI provider's address is. Some want the provider's root and append `/v1/images/...`
themselves (Bifrost's `network_config.base_url`); others want the API base with `/v1`, as the openai SDK's
`base_url` does (LiteLLM's `api_base`). Given the wrong one, a request goes to `/v1/v1/images/...` or to
`/images/...` and the recording upstream answers 404: the banner gives both, saying which is which, so the user
picks by what the gateway's documentation calls the setting. Azure OpenAI endpoints are the root everywhere.
"""

from __future__ import annotations

from pixelpact.conformance.engine.context import Upstream
from pixelpact.conformance.groups._upstream import upstream_url
from pixelpact.conformance.groups.forwarding import FAILING_MODEL


def provider_settings(upstream: Upstream) -> str:
    """How to point a gateway's providers at the recording upstream: a few lines for the terminal."""
    url = upstream_url(upstream)
    return "\n".join(
        (
            f"recording upstream on {url} (for the two-sided checks); point the gateway under test at it:",
            "  OpenAI provider, by what the gateway asks for:",
            f"    the provider's root, when the gateway appends /v1 itself (e.g. Bifrost's base_url): {url}",
            f"    the API base with /v1, as the openai SDK's base_url (e.g. LiteLLM's api_base): {url}/v1",
            "    (a 404 from the upstream for /v1/v1/images/... or /images/... means the other one)",
            f"  Azure OpenAI provider: endpoint {url} (deployments under /openai/deployments/...)",
            f"  any provider API key will do; model {FAILING_MODEL!r} always fails there (503): the fallback checks",
            f"  what it received: GET {url}/_pixelpact/requests",
        )
    )
