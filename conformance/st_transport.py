"""schemathesis's requests, sent through the run's Sender: one budget, one timeout, --prefix, credentials, evidence.

schemathesis builds each request exactly as it would on its own (bodies, multipart, event-stream reading); only the
last hop changes: a requests adapter hands the prepared request to `conformance.http.Sender`, so every request of
the run counts against --max-requests, carries the run's credentials, is mapped onto the gateway's route prefixes,
and leaves a redacted `Exchange` (curl line, status, headers, body excerpt) behind as evidence.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from schemathesis.specs.openapi.schemas import OpenApiSchema
from schemathesis.transport.requests import REQUESTS_TRANSPORT, ManagedCookiesSession, RequestsTransport
from urllib3 import HTTPHeaderDict, HTTPResponse

from conformance.http import BudgetExhausted, Sender, WireRequest
from conformance.model import Exchange

CASE_ID_HEADER = "X-Schemathesis-TestCaseId"


class BudgetSpent(KeyboardInterrupt):
    """The --max-requests budget ran out mid-run; schemathesis stops as if interrupted, nothing is misreported."""


def map_prefix(url: str, prefixes: tuple[tuple[str, str], ...]) -> str:
    """Replace the first spec route prefix the URL's path starts with by the gateway's (--prefix)."""
    parts = urlsplit(url)
    for spec_prefix, gateway_prefix in prefixes:
        if parts.path.startswith(spec_prefix):
            return urlunsplit(parts._replace(path=gateway_prefix + parts.path[len(spec_prefix) :]))
    return url


class SenderAdapter(BaseAdapter):
    """A requests adapter that sends through the Sender and turns its Reply back into a requests.Response."""

    def __init__(self, sender: Sender, exchanges: dict[str, Exchange], on_budget_spent: Callable[[], None]) -> None:
        super().__init__()
        self._sender = sender
        self._exchanges = exchanges
        self._on_budget_spent = on_budget_spent

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None, **kwargs: Any
    ) -> requests.Response:
        body = request.body.encode() if isinstance(request.body, str) else request.body
        headers = {name: _text(value) for name, value in request.headers.items() if name.lower() != "content-type"}
        content_type = request.headers.get("Content-Type")
        wire = WireRequest(
            method=request.method or "GET",
            url=request.url or "",
            headers=headers,
            raw=body if isinstance(body, bytes) else b"",
            content_type=_text(content_type) if content_type is not None else None,
        )
        try:
            reply = self._sender.send(wire)
        except BudgetExhausted:
            self._on_budget_spent()
            raise BudgetSpent from None
        case_id = request.headers.get(CASE_ID_HEADER)
        if case_id is not None:
            self._exchanges[_text(case_id)] = reply.exchange
        if reply.status is None:
            raise requests.ConnectionError(reply.error or "no response", request=request)
        raw = HTTPResponse(
            body=io.BytesIO(reply.content),
            headers=HTTPHeaderDict(list(reply.headers.multi_items())),
            status=reply.status,
            version=11,
            preload_content=False,
            decode_content=False,
        )
        # Content was already decoded by httpx; the header would make requests decode it a second time.
        raw.headers.discard("content-encoding")
        return HTTPAdapter().build_response(request, raw)

    def close(self) -> None:
        pass


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


class SenderTransport(RequestsTransport):
    """schemathesis's requests transport, with the gateway's prefixes and credentials, sending through the Sender."""

    def __init__(
        self,
        sender: Sender,
        *,
        prefixes: tuple[tuple[str, str], ...],
        credentials: Mapping[str, str],
        on_budget_spent: Callable[[], None],
    ) -> None:
        super().__init__()
        self._copy_serializers_from(REQUESTS_TRANSPORT)
        self._prefixes = prefixes
        self._credentials = dict(credentials)
        self.exchanges: dict[str, Exchange] = {}
        self._adapter = SenderAdapter(sender, self.exchanges, on_budget_spent)
        self._local = threading.local()

    def serialize_case(self, case: Any, **kwargs: Any) -> dict[str, Any]:
        data = super().serialize_case(case, **kwargs)
        data["url"] = map_prefix(data["url"], self._prefixes)
        data["headers"] = {**data.get("headers", {}), **self._credentials}
        return data

    def send(self, case: Any, *, session: Any = None, **kwargs: Any) -> Any:
        # The engine's per-thread session carries schemathesis's own adapters; ours replaces them.
        return super().send(case, session=self._session(), **kwargs)

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = ManagedCookiesSession()
            session.mount("http://", self._adapter)
            session.mount("https://", self._adapter)
            self._local.session = session
        return session


class RoutedSchema(OpenApiSchema):
    """An OpenApiSchema whose cases go through a SenderTransport (schemathesis has no transport setting)."""

    pixelpact_transport: SenderTransport

    @property
    def transport(self) -> Any:
        return self.pixelpact_transport


def route(schema: OpenApiSchema, transport: SenderTransport) -> RoutedSchema:
    """Make `schema` send through `transport`."""
    schema.__class__ = RoutedSchema
    routed: RoutedSchema = schema  # type: ignore[assignment]
    routed.pixelpact_transport = transport
    return routed
