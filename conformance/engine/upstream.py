"""The recording upstream of a two-sided run: the stub gateway playing the provider behind the gateway under test
(`recording_upstream`, which pixelpact.conformance.api keeps running for the whole run, so every group's requests
reach it; the groups read its recording through pixelpact.conformance.groups._upstream), and what
`pixelpact check --upstream-port` prints before the run: how to point the gateway's providers at it
(`provider_settings`).

Gateways disagree on what an OpenAI provider's address is. Some want the provider's root and append `/v1/images/...`
themselves (Bifrost's `network_config.base_url`); others want the API base with `/v1`, as the openai SDK's
`base_url` does (LiteLLM's `api_base`). Given the wrong one, a request goes to `/v1/v1/images/...` or to
`/images/...` and the recording upstream answers 404: the banner gives both, saying which is which, so the user
picks by what the gateway's documentation calls the setting. Azure OpenAI endpoints are the root everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from starlette.types import ASGIApp, Receive, Scope, Send

from pixelpact.conformance.engine.context import Upstream

#: The model the recording upstream always fails (with a 503 provider error), so fallbacks can be exercised. A
#: gateway must route it to the upstream like any other model of the provider (e.g. a LiteLLM model_list entry).
FAILING_MODEL = "pixelpact-failing"


def upstream_url(upstream: Upstream) -> str:
    """The URL this process reaches the upstream at (a wildcard bind address is reached on loopback)."""
    host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(upstream.host, upstream.host)
    return f"http://[{host}]:{upstream.port}" if ":" in host else f"http://{host}:{upstream.port}"


class ProviderLayouts:
    """ASGI wrapper: serves the providers' own URL layouts on the stub's routes.

    A gateway calls Azure OpenAI at {endpoint}/openai/deployments/{id}/images/..., while the stub (following the
    spec) serves Azure deployments under Bifrost's /openai/openai/deployments/... mount; the OpenAI layout /v1/...
    needs no mapping. The path the gateway really used is kept in an `x-pixelpact-original-path` header, which the
    recording shows.
    """

    AZURE = "/openai/deployments/"

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.AZURE):
            original = scope["path"]
            path = "/openai" + original
            headers = [*scope["headers"], (b"x-pixelpact-original-path", original.encode("latin-1", "replace"))]
            scope = {**scope, "path": path, "raw_path": path.encode("latin-1", "replace"), "headers": headers}
        await self.app(scope, receive, send)


@contextmanager
def recording_upstream(upstream: Upstream, model_rules: str | None = None) -> Iterator[str]:
    """Run the stub gateway as the recording provider on upstream.host:port for the block; yields its URL. With
    `model_rules` it plays that model: it refuses what the model does not take, as OpenAI does.

    Raises OSError when the address cannot be used (port taken), RuntimeError when the server does not start.
    """
    from pixelpact.generator.runtime.config import StubConfig
    from pixelpact.generator.runtime.serve import default_app, stub_server

    config = StubConfig(fail_models=frozenset({FAILING_MODEL}), provider=True, model_rules=model_rules)
    app = ProviderLayouts(default_app(config))
    with stub_server(config, host=upstream.host, port=upstream.port, app=app):
        yield upstream_url(upstream)


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
