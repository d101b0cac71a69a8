"""schemathesis's requests, sent through the run's Sender: one budget, one timeout, --prefix, credentials, evidence.

schemathesis builds each request exactly as it would on its own (its serialisers, requests' multipart encoding); only
the sending changes: the prepared request goes to `pixelpact.conformance.wire.http.Sender`, so every request of
the run counts against --max-requests, carries the run's credentials, is mapped onto the gateway's route prefixes,
and leaves a redacted `Exchange` (curl line, status, headers, body excerpt) behind as evidence.

A valid (positive) case names the run's model (--model) in its body's `model` and `fallbacks`: a real gateway serves
only the models it is configured for, so a random model name would be refused (4xx) and reported as a valid request
rejected. It also keeps to that model's rules (sizes, n, the fields it takes), which the spec's schema cannot say.
Invalid (negative) cases are sent as generated, a missing or empty model included.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from http import HTTPStatus
from typing import Any

import requests
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.schemas import OpenApiSchema
from schemathesis.transport.requests import REQUESTS_TRANSPORT, RequestsTransport

from pixelpact.conformance.engine.context import map_url_prefix
from pixelpact.conformance.engine.contract import fallback_entry
from pixelpact.conformance.model import Exchange
from pixelpact.conformance.wire.http import BudgetExhausted, Sender, WireRequest

CASE_ID_HEADER = "X-Schemathesis-TestCaseId"
#: After this many requests of one operation timed out, the rest of its requests are not sent: a gateway that hangs
#: would otherwise cost a full --timeout per generated request.
MAX_NO_RESPONSE = 3


def bounded_probes(events: Iterable[Any], max_body: int) -> Iterator[Any]:
    """schemathesis's `events`; while they are drawn, its probes of the server read at most `max_body` bytes of an
    answer, and none of one whose Content-Length is larger.

    The probes (two requests before the first phase: does the server take a NUL in a header, an unsafe path) are the
    only requests schemathesis sends itself, through `requests`, not the Sender; `requests` reads their answers whole,
    so a gateway answering 50 MB made the run hold 100 MB whatever --max-body-mb said. Their sessions get a response
    hook, which runs before the body is read.
    """
    from schemathesis.engine import context

    def capped(response: requests.Response, **_: Any) -> requests.Response:
        declared = response.headers.get("content-length", "")
        too_large = declared.isdigit() and int(declared) > max_body
        # what Session.send would read next (`response.content`), bounded; closing leaves the rest unread
        response._content = b"" if too_large else _read_as_requests_would(response, max_body)
        response._content_consumed = True
        response.close()
        return response

    def make_session(*args: Any, **kwargs: Any) -> requests.Session:
        session = unbounded(*args, **kwargs)
        session.hooks["response"].append(capped)
        return session

    unbounded = context.make_session
    context.make_session = make_session
    try:
        yield from events
    finally:
        context.make_session = unbounded


def _read_as_requests_would(response: requests.Response, limit: int) -> bytes:
    """At most `limit` bytes of the body; a broken read raises what `response.content` raises, which schemathesis
    reports as the server's fault (a half-sent body is an answer it judges, not a crash of the run)."""
    from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError

    try:
        return response.raw.read(limit, decode_content=True) or b""
    except ProtocolError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from None
    except DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from None
    except ReadTimeoutError as exc:
        raise requests.exceptions.ConnectionError(exc) from None


class BudgetSpent(KeyboardInterrupt):
    """The --max-requests budget ran out mid-run; schemathesis stops as if interrupted, nothing is misreported."""


class NoResponse(Exception):
    """The gateway dropped the connection or timed out: there is no response for schemathesis's checks to judge.

    The transport records it (`SchemathesisTransport.dropped`) as a failure of its own; schemathesis sees an error that
    ends the operation's current scenario, not a network outage that would stop the whole run.
    """

    def __init__(self, case_id: str | None, exchange: Exchange) -> None:
        super().__init__(exchange.error or "no response")
        self.case_id = case_id
        self.exchange = exchange


class Forwarder:
    """Hands prepared requests to the Sender and turns its Reply into schemathesis's Response."""

    def __init__(self, sender: Sender, exchanges: dict[str, Exchange], on_budget_spent: Callable[[], None]) -> None:
        self._sender = sender
        self._exchanges = exchanges
        self._on_budget_spent = on_budget_spent
        self.dropped: list[tuple[str, NoResponse]] = []
        """(operation label, what happened) for every request that got no complete response."""
        self._no_response: dict[str, int] = {}

    def send(self, request: requests.PreparedRequest, label: str) -> Response:
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
        if self._no_response.get(label, 0) >= MAX_NO_RESPONSE:
            raise NoResponse(None, Exchange(wire.method, wire.url, "", None, error="not sent: the gateway hangs up"))
        started = time.perf_counter()
        try:
            # reuse: the cheapest example asks what the run's control asked (groups/_judge.control_body)
            reply = self._sender.send(wire, reuse=True)
        except BudgetExhausted:
            self._on_budget_spent()
            raise BudgetSpent from None
        raw_id = request.headers.get(CASE_ID_HEADER)
        case_id = _text(raw_id) if raw_id is not None else None
        if case_id is not None:
            self._exchanges[case_id] = reply.exchange
        if reply.error is not None:  # no response, or one cut short: nothing schemathesis could judge
            dropped = NoResponse(case_id, reply.exchange)
            if "Timeout" in reply.error.split(":", 1)[0]:  # a reset costs nothing; a hang costs a whole --timeout
                self._no_response[label] = self._no_response.get(label, 0) + 1
            self.dropped.append((label, dropped))
            raise dropped
        assert reply.status is not None
        headers_out: dict[str, list[str]] = {}
        for name, value in reply.headers.multi_items():
            headers_out.setdefault(name.lower(), []).append(value)
        return Response(
            status_code=reply.status,
            headers=headers_out,
            content=reply.content,
            request=request,
            elapsed=time.perf_counter() - started,
            verify=True,
            message=HTTPStatus(reply.status).phrase if reply.status in HTTPStatus._value2member_map_ else "",
        )


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


class SchemathesisTransport(RequestsTransport):
    """schemathesis's requests transport, with the gateway's prefixes and credentials, sending through the Sender."""

    def __init__(
        self,
        sender: Sender,
        *,
        prefixes: tuple[tuple[str, str], ...],
        credentials: Mapping[str, str],
        on_budget_spent: Callable[[], None],
        model: str | None = None,
        keep: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        super().__init__()
        self._copy_serializers_from(REQUESTS_TRANSPORT)
        self._prefixes = prefixes
        self._model = model
        self._keep = keep
        self._credentials = dict(credentials)
        self.exchanges: dict[str, Exchange] = {}
        self._forwarder = Forwarder(sender, self.exchanges, on_budget_spent)

    @property
    def dropped(self) -> list[tuple[str, NoResponse]]:
        return self._forwarder.dropped

    def serialize_case(self, case: Any, **kwargs: Any) -> dict[str, Any]:
        data = super().serialize_case(case, **kwargs)
        data["url"] = map_url_prefix(data["url"], self._prefixes)
        data["headers"] = {**data.get("headers", {}), **self._credentials}
        return data

    def send(self, case: Any, *, session: Any = None, **kwargs: Any) -> Any:
        if self._model is not None:
            pin_model(case, self._model)
        if self._keep is not None:
            keep_positive(case, self._keep)
        # requests only prepares the request (schemathesis's serialisation, multipart encoding); the Sender sends it.
        data = self.serialize_case(case, **kwargs)
        request = requests.Request(
            method=data["method"],
            url=data["url"],
            headers=data.get("headers"),
            params=data.get("params"),
            data=data.get("data"),
            json=data.get("json"),
            files=data.get("files"),
            cookies=data.get("cookies"),
            auth=data.get("auth"),
        )
        return self._forwarder.send(request.prepare(), case.operation.label)


def pin_model(case: Any, model: str) -> None:
    """In a valid case's body, `model` (when present) becomes `model` and every `fallbacks` entry names it too, in the
    entry's own form (a {provider, model} object or a provider/model string, as the operation's schema made it).

    The case itself is changed, so its evidence and the filters see what was sent. schemathesis has frozen the case's
    metadata by the time the transport sends it, so the case stays positive (a model name is as valid as any other).
    """
    meta = getattr(case, "meta", None)
    body = case.body
    if meta is None or not meta.generation.mode.is_positive or not isinstance(body, dict):
        return
    pinned = dict(body)
    if "model" in pinned:
        pinned["model"] = model
    if isinstance(pinned.get("fallbacks"), list):
        pinned["fallbacks"] = [fallback_entry(model, as_object=isinstance(f, dict)) for f in pinned["fallbacks"]]
    if pinned != body:
        case.body = pinned


def keep_positive(case: Any, keep: Callable[[str, dict[str, Any]], dict[str, Any]]) -> None:
    """A valid case's body brought within the provider model's rules (`keep(operation label, body)`:
    pixelpact.conformance.model_limits.ModelLimits.keep_to), so that a generated valid request the model does not
    take (a size, n, a field) is not sent to be refused and judged against the gateway. Changed in place, as
    `pin_model` does: the evidence and the checks see what was sent. A body schemathesis mutated keeps its mutations;
    a valid body keeps to the rules also when the case's invalid part lies elsewhere (an unexpected query parameter
    a provider ignores), as the provider then judges the body alone."""
    body = case.body
    if not _body_is_valid(case) or not isinstance(body, dict):
        return
    kept = keep(case.operation.label, body)
    if kept != body:
        case.body = kept


def _body_is_valid(case: Any) -> bool:
    """Whether schemathesis generated the case's body valid: the body's own mode, else (no record of it) the case's."""
    meta = getattr(case, "meta", None)
    if meta is None:
        return False
    component = meta.components.get(ParameterLocation.BODY)
    mode = component.mode if component is not None else meta.generation.mode
    return bool(mode.is_positive)


class RoutedSchema(OpenApiSchema):
    """An OpenApiSchema whose cases go through a SchemathesisTransport (schemathesis has no transport setting)."""

    pixelpact_transport: SchemathesisTransport

    @property
    def transport(self) -> Any:
        return self.pixelpact_transport


def route(schema: OpenApiSchema, transport: SchemathesisTransport) -> RoutedSchema:
    """Make `schema` send through `transport`."""
    schema.__class__ = RoutedSchema
    routed: RoutedSchema = schema  # type: ignore[assignment]
    routed.pixelpact_transport = transport
    return routed
