"""The catalogue of deliberately broken gateways: each is a correct gateway with exactly one requirement broken.

Most wrap the correct stub in a rewriting middleware (toolkit.py); the `relay-*` ones are a correct forwarding gateway
(relay.py) in front of the suite's recording upstream that forwards one thing wrong. A mutant names the requirement
id(s) whose failure proves the suite caught it (`kills`: ids of conformance/catalogue/requirements.py or of a
property-based group) and the operations worth checking (one or two keep the run short). Breakages no
requirement noticed when they were written are listed in GAPS.md with the requirement that closed each.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import yaml
from starlette.types import ASGIApp

from pixelpact.generator.runtime.credentials import KEY_HEADERS
from tests.conformance.broken import toolkit as t
from tests.conformance.broken.relay import Relay
from tests.conformance.broken.toolkit import DROP, Event, Request, Response
from tests.conftest import SPEC

GENERATE, EDIT, VARIATION = "createImage", "createImageEdit", "createImageVariation"
AZURE_GENERATE = "azureCreateImage"
#: A working key for the mutants that need the gateway to require one.
API_KEY = "sk-pixelpact-broken-0123456789"


@cache
def _schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = yaml.safe_load(SPEC.read_text())["components"]["schemas"]
    return schemas


def n_bounds() -> tuple[int, int]:
    """ImageCount's range, read from the spec like a gateway generated from it would."""
    count = _schemas()["ImageCount"]
    return int(count["minimum"]), int(count["maximum"])


def enum_values(*names: str) -> set[str]:
    return {value for name in names for value in _schemas()[name]["enum"]}


def _identity(app: ASGIApp) -> ASGIApp:
    return app


@cache
def enum_fields() -> dict[str, set[str]]:
    """Request field name -> every value any request schema of the spec allows it (for fields typed by an enum)."""
    fields: dict[str, set[str]] = {}
    for schema in _schemas().values():
        for name, prop in schema.get("properties", {}).items():
            ref = prop.get("$ref", "") if isinstance(prop, dict) else ""
            target = _schemas().get(ref.rsplit("/", 1)[-1], {}) if ref.startswith("#/components/schemas/") else {}
            if "enum" in target:
                fields.setdefault(name, set()).update(target["enum"])
    return fields


@dataclass(frozen=True)
class Mutant:
    """A broken gateway: `wrap` turns the correct stub's ASGI app into the broken one, or `relay` is set and the
    gateway is a RelayGateway in front of the suite's recording upstream (for the two-sided forwarding checks)."""

    name: str
    breaks: str
    """What this gateway gets wrong, in a sentence."""
    kills: tuple[str, ...]
    """Requirement ids; the suite kills the mutant when its verdict is fail with one of these among the failures."""
    wrap: Callable[[ASGIApp], ASGIApp] = _identity
    operations: tuple[str, ...] = (GENERATE,)
    api_keys: tuple[str, ...] = ()
    """Keys the stub requires (the suite is then run with --api-key API_KEY)."""
    relay: Relay | None = None
    groups: tuple[str, ...] = ()
    """The requirement groups to run; empty: the groups that judge `kills`."""


def _int(value: Any) -> int | None:
    try:
        return int(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


# --- request rewriters -----------------------------------------------------------------------------------------------


def clamp_n(req: Request) -> Request | None:
    """Accepts n above the maximum (n=11) by quietly asking the provider for the maximum instead."""
    n, (_, high) = _int(req.field("n")), n_bounds()
    return req.with_field("n", high) if n is not None and n > high else None


def raise_n(req: Request) -> Request | None:
    """Accepts n below the minimum (n=0, n=-1) by asking for the minimum."""
    n, (low, _) = _int(req.field("n")), n_bounds()
    return req.with_field("n", low) if n is not None and n < low else None


def drop_bad_n(req: Request) -> Request | None:
    """Treats a non-integer n ("abc", 1.5) as absent."""
    n = req.field("n")
    integer = isinstance(n, int) and not isinstance(n, bool)
    if n is None or integer or (isinstance(n, str) and n.lstrip("-").isdigit()):
        return None
    return req.with_field("n", None)


def huge_n_crashes(req: Request) -> Response | None:
    n = req.field("n")
    return t.Response.error(500, "integer overflow") if isinstance(n, str | int) and len(str(n)) > 30 else None


def drop_unknown(field: str, allowed: set[str]) -> Callable[[Request], Request | None]:
    """Ignores a value outside `allowed` (as if it were not sent) instead of rejecting it."""

    def rewrite(req: Request) -> Request | None:
        value = req.field(field)
        valid = isinstance(value, str) and value in allowed
        return req.with_field(field, None) if value is not None and not valid else None

    return rewrite


def files(req: Request, name: str) -> int:
    """How many parts named `name` a multipart request has (0 for other bodies)."""
    form = req.form()
    return len(form.named(name)) if form is not None else 0


def validates_nothing(req: Request) -> Request | None:
    """Repairs every invalid n (clamped or dropped) and drops every value outside an enum: no request is refused."""
    for fix in (clamp_n, raise_n, drop_bad_n, *(drop_unknown(name, values) for name, values in enum_fields().items())):
        req = fix(req) or req
    return req


def refuse(predicate: Callable[[Request], Any], message: str) -> Callable[[Request], Response | None]:
    """Answers a well-formed 400 to valid requests matching `predicate`."""
    return lambda req: Response.error(400, message) if req.is_image_route and predicate(req) else None


def fill_missing(field: str, value: str) -> Callable[[Request], Request | None]:
    """Supplies a default for a missing required field instead of rejecting the request."""

    def rewrite(req: Request) -> Request | None:
        if not req.is_image_route or (req.json() is None and req.form() is None) or req.field(field) is not None:
            return None
        return req.with_field(field, value)

    return rewrite


IMAGE_PARTS = ("image", "image[]", "mask")


def fill_missing_image(req: Request) -> Request | None:
    form = req.form()
    if form is None or req.kind == "generations" or form.named("image") or form.named("image[]"):
        return None
    return req.with_form(replace(form, parts=[*form.parts, t.Part.file("image", t.png())]))


def accept_non_images(req: Request) -> Request | None:
    """Replaces uploaded files that are not images with a placeholder picture instead of rejecting them."""
    form = req.form()
    if form is None or not any(p.name in IMAGE_PARTS and not t.is_image(p.data) for p in form.parts):
        return None
    parts = [
        t.Part.file(p.name, t.png()) if p.name in IMAGE_PARTS and p.name and not t.is_image(p.data) else p
        for p in form.parts
    ]
    return req.with_form(replace(form, parts=parts))


def minimal_body(req: Request) -> Request:
    """The smallest valid request for the route: what a gateway that 'repairs' unusable bodies sends on."""
    fields = {"model": "openai/dall-e-3", "prompt": "a red square"}
    if req.kind == "generations":
        return req.with_header("content-type", "application/json").with_json(fields)
    form = t.Form(b"pixelpact-repaired", [t.Part.field(k, v) for k, v in fields.items()])
    return req.with_form(replace(form, parts=[*form.parts, t.Part.file("image", t.png())]))


def repair_empty(req: Request) -> Request | None:
    return minimal_body(req) if req.is_image_route and not req.body.strip() else None


def repair_bad_json(req: Request) -> Request | None:
    ctype = req.header("content-type") or ""
    if not req.is_image_route or req.kind != "generations" or "json" not in ctype or not req.body.strip():
        return None
    return minimal_body(req) if req.json() is None else None


def form_from_json(req: Request) -> Request | None:
    """Accepts a JSON body on a multipart route by converting it to a form (files become one placeholder picture)."""
    body = req.json()
    if body is None or req.kind == "generations" or not req.is_image_route:
        return None
    parts = [
        t.Part.field(k, t.form_text(v)) for k, v in body.items() if k not in IMAGE_PARTS and not isinstance(v, dict)
    ]
    return req.with_form(t.Form(b"pixelpact-converted", [*parts, t.Part.file("image", t.png())]))


_SAFE_NAME = re.compile(r"[A-Za-z0-9_.\-]+(\[\])?")


def hostile(req: Request) -> bool:
    """A multipart body with a part name no client library would produce (a;b, empty, quotes, control characters)."""
    form = req.form()
    return form is not None and any(p.name is None or not _SAFE_NAME.fullmatch(p.name) for p in form.parts)


def dies_after_hostile() -> Callable[[Request], Response | None]:
    """Serves the hostile request fine, then answers 503 to everything (a worker that crashed and never came back)."""
    dead = False

    def rewrite(req: Request) -> Response | None:
        nonlocal dead
        if dead and req.is_image_route:
            return Response.error(503, "no healthy upstream")
        dead = dead or hostile(req)
        return None

    return rewrite


def first_is_last(req: Request) -> Request | None:
    """Variations use the first image of image[]; this gateway moves the last file first (it uses the last one)."""
    form = req.form()
    files = form.named("image[]") if form is not None else []
    if form is None or req.kind != "variations" or len(files) < 2:
        return None
    others = [p for p in form.parts if p.name != "image[]"]
    return req.with_form(replace(form, parts=[*others, files[-1], *files[:-1]]))


def inject_key(only_if_offered: bool) -> Callable[[Request], Request | None]:
    """Lets requests through whatever credentials they carry (or, with only_if_offered, any credential at all)."""

    def rewrite(req: Request) -> Request | None:
        if only_if_offered and not any(req.header(name) for name in KEY_HEADERS):
            return None
        for name in KEY_HEADERS:
            req = req.with_header(name, None)
        return req.with_header("authorization", f"Bearer {API_KEY}")

    return rewrite


# --- response rewriters ----------------------------------------------------------------------------------------------


def errors(fn: Callable[[Response], Response]) -> Callable[[Request, Response], Response | None]:
    """Applies `fn` to every 4xx/5xx answer."""
    return lambda _req, resp: fn(resp) if resp.status >= 400 else None


def plain_text(resp: Response) -> Response:
    message = ((resp.json() or {}).get("error") or {}).get("message", "error")
    return replace(resp, body=str(message).encode()).with_header("content-type", "text/plain; charset=utf-8")


def error_field(fn: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[Response], Response]:
    def rewrite(resp: Response) -> Response:
        body = resp.json()
        if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
            return resp
        return resp.with_json({**body, "error": fn(body["error"])})

    return rewrite


def bad_input_500(_req: Request, resp: Response) -> Response | None:
    return replace(resp, status=500) if resp.status == 400 else None


def auth_errors_as_text(_req: Request, resp: Response) -> Response | None:
    return plain_text(resp) if resp.status in (401, 403) else None


def served_images(fn: Callable[[Response], Response]) -> Callable[[Request, Response], Response | None]:
    """Applies `fn` to the answers of GET requests for image files (the targets of returned urls)."""
    return lambda req, resp: fn(resp) if req.method == "GET" and resp.content_type.startswith("image/") else None


def resize_everywhere(req: Request, resp: Response) -> Response | None:
    """Returns every image (b64_json, fetched url, streamed) at half its size."""
    if resp.content_type.startswith("image/"):
        return replace(resp, body=t.resize(resp.body))
    body = resp.json()
    if resp.status == 200 and isinstance(body, dict) and isinstance(body.get("data"), list):
        data = [{**d, "b64_json": t.map_b64(d["b64_json"], t.resize)} if "b64_json" in d else d for d in body["data"]]
        return resp.with_json({**body, "data": data})
    return None


def stream_events(fn: Callable[[Event], Event | None]) -> Callable[[Request, list[Event]], list[Event]]:
    """Maps each event of a stream; None drops it."""
    return lambda _req, events: [out for out in map(fn, events) if out is not None]


def _payload_map(fn: Callable[[dict[str, Any]], dict[str, Any] | None]) -> Callable[[Event], Event | None]:
    def rewrite(event: Event) -> Event | None:
        payload = event.payload
        if payload is None:
            return event
        changed = fn(payload)
        return None if changed is None else event.with_payload(changed)

    return rewrite


def _completed(payload: dict[str, Any]) -> bool:
    return str(payload.get("type", "")).endswith(".completed")


def rename_events(event: Event) -> Event:
    payload = event.payload
    if payload is None or "type" not in payload:
        return event
    renamed = str(payload["type"]).replace("image_generation.", "image.").replace("image_edit.", "image.")
    return event.with_payload({**payload, "type": renamed}, event=renamed if event.event is not None else None)


def raw_b64_events(event: Event) -> Event:
    """Sends a completed image as its bare base64 text instead of a JSON event."""
    payload = event.payload
    return replace(event, data=str(payload["b64_json"])) if payload and _completed(payload) else event


def error_mid_stream(_req: Request, events: list[Event]) -> list[Event]:
    """Cuts the stream after its first event with a provider error event."""
    error = {"type": "error", "error": {"message": "upstream provider failed", "type": "server_error", "code": "500"}}
    return [*events[:1], Event(data="", event="error").with_payload(error)] if events else events


def first_completed_only(_req: Request, events: list[Event]) -> list[Event]:
    """Streams n images but sends the completed event of the first one only."""
    seen = 0
    kept = []
    for event in events:
        payload = event.payload or {}
        seen += _completed(payload)
        if not (_completed(payload) and seen > 1):
            kept.append(event)
    return kept


def truncate_stream(req: Request, resp: Response) -> t.Drop | None:
    """Sends the first event of a stream, then closes the connection without ending the response."""
    if not resp.content_type.startswith("text/event-stream"):
        return None
    first = resp.body.split(b"\n\n", 1)[0] + b"\n\n"
    return t.Drop(replace(resp, body=first))


def count_short(_req: Request, body: dict[str, Any]) -> dict[str, Any]:
    data = body.get("data", [])
    return {**body, "data": data[:-1] if len(data) > 1 else data}


def count_extra(_req: Request, body: dict[str, Any]) -> dict[str, Any]:
    data = body.get("data", [])
    return {**body, "data": [*data, *data[:1]]}


def relative_url(item: dict[str, Any]) -> dict[str, Any]:
    if "url" not in item:
        return item
    parts = urlsplit(item["url"])
    return {**item, "url": parts.path + (f"?{parts.query}" if parts.query else "")}


NOT_AN_IMAGE = "bm90IGFuIGltYWdl"  # base64 of "not an image"


def _with(**changes: Any) -> Callable[[Request, dict[str, Any]], dict[str, Any]]:
    """Sets (or with None, removes) top-level fields of a 200 body."""
    return lambda _req, body: {k: v for k, v in {**body, **changes}.items() if not (k in changes and v is None)}


def _stream(req: Request) -> Request | None:
    return req.with_field("stream", None) if req.streams else None


def _json_ct(value: str) -> Callable[[Request, Response], Response | None]:
    """Answers 200 JSON bodies of image routes with Content-Type `value`."""
    return lambda req, resp: (
        resp.with_header("content-type", value)
        if req.is_image_route and resp.status == 200 and resp.content_type.startswith("application/json")
        else None
    )


def _sse_ct(req: Request, resp: Response) -> Response | None:
    return resp.with_header("content-type", "application/json") if resp.content_type.startswith("text/event") else None


def set_field(name: str, fn: Callable[[Any], Any]) -> Callable[[Request], Request | None]:
    """Rewrites body field `name` where it is present (fn returning None removes it)."""
    return lambda req: req.with_field(name, fn(value)) if (value := req.field(name)) is not None else None


def drop_part(name: str) -> Callable[[Request], Request | None]:
    return lambda req: req.with_form(form.without(name)) if (form := req.form()) and form.named(name) else None


def fallback_first(req: Request) -> Request | None:
    """Tries the first fallback instead of the model asked for (the primary is never tried)."""
    fallbacks = req.fallback_models()
    return req.with_field("model", fallbacks[0]) if fallbacks else None


def _object_fallbacks(req: Request) -> bool:
    """`fallbacks` holds a {provider, model} object: in JSON, or as the JSON text of a multipart part."""
    return any(isinstance(v, dict) or str(v).lstrip().startswith("{") for v in req.values("fallbacks"))


def _retype_n(req: Request) -> Request | None:
    """Forwards a JSON n as a string ("2"), as gateways that copy form text into JSON do."""
    body = req.json()
    return req.with_json({**body, "n": str(body["n"])}) if body is not None and "n" in body else None


def _hide_4xx(_req: Request, resp: Response) -> Response | None:
    return Response.error(502, "the provider rejected the request") if 400 <= resp.status < 500 else None


def _stream_resized(event: Event) -> Event:
    payload = event.payload
    if payload is None or not _completed(payload) or "b64_json" not in payload:
        return event
    return event.with_payload({**payload, "b64_json": t.map_b64(payload["b64_json"], t.resize)})


def _edit_types(event: Event) -> Event:
    payload = event.payload
    if payload is None or not str(payload.get("type", "")).startswith("image_generation."):
        return event
    renamed = str(payload["type"]).replace("image_generation.", "image_edit.")
    return event.with_payload({**payload, "type": renamed}, event=renamed if event.event is not None else None)


def _event_name(event: Event) -> Event:
    return replace(event, event="message") if event.event is not None else event


def _valid_only_dropped(value: Any) -> Any:
    """None (drop) for a valid output_format; an invalid one stays, so the gateway still rejects it."""
    return None if isinstance(value, str) and value in enum_values("OutputFormat") else value


def _error_ct(resp: Response) -> Response:
    return resp.with_header("content-type", "text/plain; charset=utf-8")


def _lax_json_n(req: Request) -> Request | None:
    """Coerces a JSON n that is a numeric string ("2") or a boolean to an integer, as lax validators do."""
    body = req.json()
    n = body.get("n") if body is not None else None
    if body is None or not (isinstance(n, bool) or (isinstance(n, str) and n.strip().isdigit())):
        return None
    return req.with_json({**body, "n": int(n)})


def _azure_requires_model(req: Request) -> Response | None:
    missing = "/deployments/" in req.path and req.is_image_route and req.field("model") is None
    return Response.error(400, "model is required", "model") if missing else None


def _any_x_api_key(req: Request) -> Request | None:
    """Checks Bearer keys properly but lets any x-api-key through."""
    if not req.header("x-api-key"):
        return None
    return req.with_header("x-api-key", None).with_header("authorization", f"Bearer {API_KEY}")


def _extra_partials(_req: Request, events: list[Event]) -> list[Event]:
    """Sends every partial image twice (more partials than partial_images asked for)."""
    return [copy for event in events for copy in ([event, event] if "partial" in t.event_type(event) else [event])]


def _gen_types(event: Event) -> Event:
    payload = event.payload
    if payload is None or not str(payload.get("type", "")).startswith("image_edit."):
        return event
    renamed = str(payload["type"]).replace("image_edit.", "image_generation.")
    return event.with_payload({**payload, "type": renamed}, event=renamed if event.event is not None else None)


def _unknown_fields(req: Request) -> Response | None:
    known = {name for schema in _schemas().values() for name in schema.get("properties", {})}
    body = req.json()
    names = set(body) if body is not None else {p.name for p in (req.form() or t.Form(b"", [])).parts}
    unknown = sorted(str(n) for n in names - known)
    return Response.error(400, f"unknown field {unknown[0]}") if req.is_image_route and unknown else None


_SAFE_FILENAME = re.compile(rb'filename="[A-Za-z0-9_.\-]*"')


def _hostile_filename(req: Request) -> Response | None:
    """A 500 for any part whose filename is more than letters, digits, dot, dash and underscore."""
    form = req.form()
    hostile_ = form is not None and any(
        b"filename" in p.raw_headers and not _SAFE_FILENAME.search(p.raw_headers) for p in form.parts
    )
    return Response.error(500, "bad filename") if hostile_ else None


def _dead_port(item: dict[str, Any]) -> dict[str, Any]:
    if "url" not in item:
        return item
    parts = urlsplit(item["url"])
    return {**item, "url": parts._replace(netloc=f"{parts.hostname}:9").geturl()}


def refuses_scheme(header: str, scheme: str = "") -> Callable[[Request], Response | None]:
    """Answers 401 to a request whose key comes in `header` (with `scheme`, e.g. "basic"), even a valid one."""

    def check(req: Request) -> Response | None:
        value = req.header(header) or ""
        if req.is_image_route and value and value.lower().startswith(scheme):
            return Response.error(401, f"{header} {scheme} credentials are not supported")
        return None

    return check


# --- the catalogue ---------------------------------------------------------------------------------------------------

SIZE_ENUMS = ("ImageSize", "EditImageSize")
QUALITY_ENUMS = ("ImageQuality", "OpenAIImageQuality", "EditImageQuality")


def _m(name: str, breaks: str, kills: str | tuple[str, ...], wrap: Callable[[ASGIApp], ASGIApp], **kw: Any) -> Mutant:
    return Mutant(name, breaks, (kills,) if isinstance(kills, str) else kills, wrap, **kw)


def _r(name: str, breaks: str, kills: str, operation: str = GENERATE, **relay: Any) -> Mutant:
    """A broken relay gateway, checked by the forwarding group on one operation."""
    return Mutant(name, breaks, (kills,), operations=(operation,), relay=Relay(**relay))


def req_(fn: Callable[[Request], Any]) -> Callable[[ASGIApp], ASGIApp]:
    return lambda app: t.on_request(app, fn)


def resp_(fn: Callable[[Request, Response], Any]) -> Callable[[ASGIApp], ASGIApp]:
    return lambda app: t.on_response(app, fn)


def ok_(fn: Callable[[Request, dict[str, Any]], dict[str, Any]]) -> Callable[[ASGIApp], ASGIApp]:
    return lambda app: t.on_json_ok(app, fn)


def items_(fn: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[ASGIApp], ASGIApp]:
    return lambda app: t.on_images(app, fn)


def events_(fn: Callable[[Request, list[Event]], list[Event]]) -> Callable[[ASGIApp], ASGIApp]:
    return lambda app: t.on_events(app, fn)


MUTANTS: tuple[Mutant, ...] = (
    # valid requests
    _m("rejects-image-array", "refuses any image[] part", "image-array-accepted",
       req_(refuse(lambda r: files(r, "image[]"), "use image, not image[]")), operations=(EDIT,)),
    _m("rejects-three-images", "refuses image[] with 3 files", "image-array-accepted",
       req_(refuse(lambda r: files(r, "image[]") >= 3, "at most 2 images")), operations=(EDIT,)),
    _m("rejects-single-image", "refuses the single `image` part", "valid-request-accepted",
       req_(refuse(lambda r: files(r, "image"), "use image[]")), operations=(VARIATION,)),
    _m("rejects-size-1792x1024", "refuses the valid size 1792x1024", "valid-request-accepted",
       req_(refuse(lambda r: r.field("size") == "1792x1024", "unsupported size"))),
    _m("rejects-n-max", "refuses n at its maximum (off by one)", "valid-request-accepted",
       req_(refuse(lambda r: _int(r.field("n")) == n_bounds()[1], "n too large"))),
    _m("rejects-style-natural", "refuses style=natural", "valid-request-accepted",
       req_(refuse(lambda r: r.field("style") == "natural", "unknown style"))),
    _m("rejects-quality-hd", "refuses quality=hd", "valid-request-accepted",
       req_(refuse(lambda r: r.field("quality") == "hd", "unknown quality"))),
    _m("rejects-user", "refuses the user field", "valid-request-accepted",
       req_(refuse(lambda r: r.field("user") is not None, "unknown field user"))),
    _m("rejects-fallbacks", "refuses the fallbacks field", "valid-request-accepted",
       req_(refuse(lambda r: r.field("fallbacks") is not None, "unknown field fallbacks")),
       operations=(GENERATE, EDIT)),
    _m("rejects-object-fallbacks", "takes fallbacks only as provider/model strings: {provider, model} objects get 400",
       "valid-request-accepted", req_(refuse(_object_fallbacks, "fallbacks: expected a string")),
       operations=(GENERATE, EDIT)),
    _m("answers-201", "answers valid requests 201 instead of 200", "valid-request-accepted",
       resp_(lambda req, resp: replace(resp, status=201) if req.is_image_route and resp.status == 200 else None)),
    _m("json-as-text-plain", "answers 200 JSON with Content-Type text/plain", "response-content-type",
       resp_(_json_ct("text/plain; charset=utf-8"))),
    _m("missing-created", "leaves out the required `created`", "response-schema", ok_(_with(created=None))),
    _m("created-as-string", "sends `created` as a string", "response-schema",
       ok_(lambda _r, b: {**b, "created": str(b.get("created"))})),
    _m("data-count-short", "returns one image fewer than n when n > 1", "data-count-matches-n", ok_(count_short)),
    _m("data-count-extra", "returns one image more than n", "data-count-matches-n", ok_(count_extra)),
    _m("b64-not-an-image", "b64_json decodes to text, not an image", "b64-json-is-image",
       items_(lambda d: {**d, "b64_json": NOT_AN_IMAGE} if "b64_json" in d else d)),
    _m("ignores-b64-json", "ignores response_format=b64_json and answers urls", "b64-json-is-image",
       req_(lambda r: r.with_field("response_format", None) if r.field("response_format") == "b64_json" else None)),
    _m("relative-urls", "returns urls without scheme and host", "url-is-absolute", items_(relative_url)),
    _m("url-not-served", "returned urls answer 404", "url-serves-image",
       resp_(served_images(lambda r: Response.error(404, "no such image")))),
    _m("url-serves-text", "returned urls answer text with a 200", "url-serves-image",
       resp_(served_images(lambda r: Response(200, [(b"content-type", b"text/plain")], b"image expired")))),
    _m("wrong-dimensions", "returns images at half the requested size", "image-dimensions-match-size",
       resp_(resize_everywhere)),
    # invalid requests
    _m("accepts-n-above-max", "accepts n=11 (asks the provider for the maximum)", "n-out-of-range-rejected",
       req_(clamp_n)),
    _m("accepts-n-below-min", "accepts n=0 and n=-1 (asks for the minimum)", "n-out-of-range-rejected", req_(raise_n)),
    _m("accepts-n-not-integer", 'treats n="abc" as absent', "n-not-integer-rejected", req_(drop_bad_n)),
    _m("accepts-unknown-size", "ignores an unknown size", "unknown-enum-rejected",
       req_(drop_unknown("size", enum_values(*SIZE_ENUMS)))),
    _m("accepts-unknown-response-format", "ignores an unknown response_format", "unknown-enum-rejected",
       req_(drop_unknown("response_format", enum_values("ResponseFormat")))),
    _m("accepts-unknown-quality", "ignores an unknown quality", "unknown-enum-rejected",
       req_(drop_unknown("quality", enum_values(*QUALITY_ENUMS)))),
    _m("accepts-unknown-style", "ignores an unknown style", "unknown-enum-rejected",
       req_(drop_unknown("style", enum_values("ImageStyle")))),
    _m("accepts-missing-prompt", "supplies a prompt when none is sent", "missing-required-rejected",
       req_(fill_missing("prompt", "a red square"))),
    _m("accepts-missing-model", "supplies a model when none is sent", "missing-required-rejected",
       req_(fill_missing("model", "openai/dall-e-3")), operations=(VARIATION,)),
    _m("accepts-missing-image", "supplies a picture when no image is sent", "missing-required-rejected",
       req_(fill_missing_image), operations=(EDIT,)),
    _m("accepts-json-on-multipart-route", "converts a JSON body on a multipart route into a form",
       "non-multipart-rejected", req_(form_from_json), operations=(EDIT,)),
    _m("accepts-bad-json", "repairs malformed JSON into a minimal request", "bad-json-rejected", req_(repair_bad_json)),
    _m("bad-input-500", "answers 500 where it should answer 400",
       ("n-out-of-range-rejected", "unknown-enum-rejected", "missing-required-rejected"), resp_(bad_input_500)),
    _m("errors-as-text", "answers errors as text/plain", "error-body-shape", resp_(errors(plain_text))),
    _m("error-without-message", "error bodies have no error.message", "error-body-shape",
       resp_(errors(error_field(lambda e: {k: v for k, v in e.items() if k != "message"})))),
    _m("error-empty-message", "error.message is empty", "error-body-shape",
       resp_(errors(error_field(lambda e: {**e, "message": ""})))),
    # robustness
    _m("hostile-names-500", "answers 500 to hostile multipart part names", "hostile-part-names-survive",
       req_(lambda r: Response.error(500, "parser crashed") if hostile(r) else None), operations=(EDIT,)),
    _m("hostile-names-drop", "drops the connection on hostile multipart part names", "hostile-part-names-survive",
       req_(lambda r: DROP if hostile(r) else None), operations=(EDIT,)),
    _m("dies-after-hostile", "stops answering after a hostile request", "still-answering",
       lambda app: t.on_request(app, dies_after_hostile()), operations=(EDIT,)),
    _m("accepts-non-image-file", "accepts a file that is not an image", "non-image-file-rejected",
       req_(accept_non_images), operations=(EDIT,)),
    _m("huge-n-500", "answers 500 to a huge n", "huge-number-rejected", req_(huge_n_crashes)),
    _m("accepts-empty-body", "repairs an empty body into a minimal request", "empty-body-rejected", req_(repair_empty)),
    # streaming
    _m("stream-as-json", "answers stream: true with JSON", "stream-content-type", req_(_stream)),
    _m("stream-content-type-json", "labels the event stream application/json", "stream-content-type", resp_(_sse_ct)),
    _m("stream-without-completed", "drops the completed events", "stream-completed-per-image",
       events_(stream_events(_payload_map(lambda p: None if _completed(p) else p)))),
    _m("stream-first-completed-only", "sends one completed event whatever n", "stream-completed-per-image",
       events_(first_completed_only)),
    _m("stream-completed-not-image", "completed events carry b64_json that is not an image",
       "stream-completed-per-image",
       events_(stream_events(_payload_map(lambda p: {**p, "b64_json": NOT_AN_IMAGE} if _completed(p) else p)))),
    _m("stream-wrong-event-names", "renames event types (image.completed)", "stream-event-types",
       events_(stream_events(rename_events))),
    _m("stream-data-not-json", "sends completed images as bare base64 data lines", "stream-event-types",
       events_(stream_events(raw_b64_events))),
    _m("stream-partial-without-index", "partial events lack partial_image_index", "stream-partial-index",
       events_(stream_events(_payload_map(lambda p: {k: v for k, v in p.items() if k != "partial_image_index"})))),
    _m("stream-error-mid-stream", "ends the stream with a 5xx error event after the first event",
       "stream-no-server-error", events_(error_mid_stream)),
    _m("stream-dropped", "closes the connection after the first event", "stream-no-server-error",
       resp_(truncate_stream)),
    # auth
    _m("ignores-auth", "serves requests without a key although keys are set",
       ("auth-missing-rejected", "auth-wrong-key-rejected"), req_(inject_key(only_if_offered=False)),
       api_keys=(API_KEY,)),
    _m("accepts-any-key", "accepts any key, checking only that one is sent", "auth-wrong-key-rejected",
       req_(inject_key(only_if_offered=True)), api_keys=(API_KEY,)),
    _m("auth-errors-as-text", "answers 401 with text/plain", ("auth-missing-rejected", "auth-wrong-key-rejected"),
       resp_(auth_errors_as_text), api_keys=(API_KEY,)),
    _m("refuses-x-bf-vk", "refuses the x-bf-vk header, even with a valid key (the spec lists VirtualKeyAuth)",
       "auth-scheme-accepted", req_(refuses_scheme("x-bf-vk")), api_keys=(API_KEY,)),
    _m("refuses-basic", "refuses Basic credentials, even a valid key (the spec lists BasicAuth)",
       "auth-scheme-accepted", req_(refuses_scheme("authorization", "basic")), api_keys=(API_KEY,)),
    _m("refuses-azure-api-key", "refuses the api-key header on Azure routes, even with a valid key",
       "auth-scheme-accepted", req_(refuses_scheme("api-key")), api_keys=(API_KEY,), operations=(AZURE_GENERATE,)),
    # more answers
    _m("default-n-not-1", "answers two images when n is absent (the default is 1)", "data-count-matches-n",
       req_(lambda r: r.with_field("n", 2) if r.is_image_route and r.field("n") is None and r.body else None)),
    _m("multipart-ignores-n", "ignores n in multipart bodies (always one image)", "data-count-matches-n",
       req_(drop_part("n")), operations=(EDIT,)),
    _m("url-image-wrong-size", "serves url images at half size (b64_json is right)", "image-dimensions-match-size",
       resp_(served_images(lambda r: replace(r, body=t.resize(r.body))))),
    _m("error-as-string", "error is a string, not an object", "error-body-shape",
       resp_(errors(lambda r: r.with_json({"error": "bad request"})))),
    _m("azure-requires-model", "Azure deployment routes refuse a body without model (the path names it)",
       "valid-request-accepted", req_(_azure_requires_model), operations=(AZURE_GENERATE,)),
    _m("stream-generation-types-on-edit", "types the events of an edit stream image_generation.*",
       "stream-event-types", events_(stream_events(_gen_types)), operations=(EDIT,)),
    _m("json-n-numeric-string", 'accepts n="2" and n=true in JSON bodies (lax coercion)', "n-not-integer-rejected",
       req_(_lax_json_n)),
    _m("accepts-any-x-api-key", "checks Bearer keys but lets any x-api-key through", "auth-wrong-key-rejected",
       req_(_any_x_api_key), api_keys=(API_KEY,)),
    _m("stream-extra-partials", "streams every partial image twice (more than partial_images)", "stream-partial-index",
       events_(_extra_partials)),
    _m("created-in-milliseconds", "sends created in milliseconds, not seconds", "response-schema",
       ok_(lambda _r, b: {**b, "created": b["created"] * 1000} if isinstance(b.get("created"), int) else b)),
    _m("get-on-image-route-500", "answers GET on an image route with 500", "st-no-server-error",
       resp_(lambda req, resp: Response.error(500, "boom") if req.method == "GET" and req.kind == "generations"
             else None), groups=("schemathesis",)),
    _m("b64-data-url", "prefixes b64_json with data:image/png;base64,", "b64-json-is-image",
       items_(lambda d: {**d, "b64_json": "data:image/png;base64," + d["b64_json"]} if "b64_json" in d else d)),
    _m("accepts-empty-prompt", 'accepts prompt ""', "missing-required-rejected",
       req_(set_field("prompt", lambda p: p or "a red square"))),
    _m("rejects-mask", "refuses a mask", "valid-request-accepted",
       req_(refuse(lambda r: files(r, "mask"), "mask not supported")), operations=(EDIT,)),
    _m("hostile-filename-500", "answers 500 to a part filename beyond [A-Za-z0-9._-] (quotes, ;, control chars)",
       "hostile-part-names-survive", req_(_hostile_filename), operations=(EDIT,)),
    _m("rejects-unknown-fields", "refuses fields the spec does not name (the spec: requests tolerate them)",
       "unknown-field-tolerated", req_(_unknown_fields)),
    _m("urls-on-dead-port", "returns urls on the gateway's host but a port nothing listens on", "url-serves-image",
       items_(_dead_port)),
    # what reaches the provider: a relay gateway in front of the suite's recording upstream
    _r("relay-variation-uses-last-image", "variations use the last file of image[] instead of the first",
       "variation-first-file-forwarded", VARIATION, received=first_is_last),
    _r("relay-forwards-every-variation-file", "forwards every image[] file of a variation",
       "variation-first-file-forwarded", VARIATION, first_file_only=()),
    _r("relay-edit-first-file-only", "forwards only the first file of an edit's image[]", "edit-files-forwarded",
       EDIT, first_file_only=("variations", "edits")),
    _r("relay-drops-mask", "does not forward the mask", "edit-files-forwarded", EDIT, outgoing=drop_part("mask")),
    _r("relay-rewrites-prompt", "prepends its own system prompt", "forwarded-prompt",
       outgoing=set_field("prompt", lambda p: f"[safe] {p}")),
    _r("relay-n-as-string", "forwards n as a JSON string", "forwarded-n", outgoing=_retype_n),
    _r("relay-clamps-n", "always asks the provider for one image", "forwarded-n", outgoing=set_field("n", lambda n: 1)),
    _r("relay-drops-size", "does not forward size", "forwarded-size", outgoing=set_field("size", lambda v: None)),
    _r("relay-drops-response-format", "does not forward response_format", "forwarded-response-format",
       outgoing=set_field("response_format", lambda v: None)),
    _r("relay-drops-user", "does not forward user", "forwarded-user", outgoing=set_field("user", lambda v: None)),
    _r("relay-hides-provider-4xx", "answers 502 when the provider rejects the input", "rejection-source-reported",
       incoming=_hide_4xx),
    _r("relay-no-fallbacks", "passes fallbacks on instead of trying them", "fallback-after-primary-failure",
       fallbacks=False),
    _r("relay-fallback-first", "tries the first fallback instead of the primary model",
       "fallback-after-primary-failure", received=fallback_first),
    _r("relay-object-fallback-as-text", "reads a multipart fallbacks part as a provider/model string, so the JSON of "
       "a {provider, model} object names no model", "fallback-after-primary-failure", EDIT, fallback_objects=False),
    _r("relay-forwards-client-key", "passes the client's key on to the provider", "gateway-credentials-upstream",
       own_credentials=False),
    _r("relay-no-credentials", "sends the provider no credentials", "gateway-credentials-upstream",
       outgoing=lambda r: r.with_header("authorization", None)),
    _m("error-content-type-text", "labels JSON error bodies text/plain", "error-body-shape", resp_(errors(_error_ct))),
    _m("stream-event-name-mismatch", "names every SSE event `message`", "stream-event-types",
       events_(stream_events(_event_name))),
    _m("ignores-output-format", "ignores a valid output_format (always PNG)", "image-format-matches-output-format",
       req_(set_field("output_format", _valid_only_dropped))),
    _m("stream-wrong-size", "streams completed images at half the requested size", "image-dimensions-match-size",
       events_(stream_events(_stream_resized)), groups=("streaming",)),
    _m("stream-edit-types-on-generation", "types the events of a generation stream image_edit.*", "stream-event-types",
       events_(stream_events(_edit_types))),
)  # fmt: skip


def _also(name: str, group: str, kills: str, operation: str) -> Mutant:
    """The same broken gateway again, to be caught by a property-based group alone (on one cheap operation)."""
    mutant = next(m for m in MUTANTS if m.name == name)
    return replace(mutant, name=f"{name}/{group}", kills=(kills,), operations=(operation,), groups=(group,))


def _on(name: str, operation: str) -> Mutant:
    """The same broken gateway, checked on another route family's operation (the OpenAI-compatible or Azure one)."""
    mutant = next(m for m in MUTANTS if m.name == name)
    return replace(mutant, name=f"{name}@{operation}", operations=(operation,))


#: Every route family is checked, not only the native routes.
MUTANTS += (
    _on("missing-created", "openaiCreateImage"),
    _on("accepts-n-above-max", "openaiCreateImageVariation"),
    _on("stream-as-json", "openaiCreateImageEdit"),
    _on("rejects-image-array", "azureCreateImageEdit"),
    _on("wrong-dimensions", "azureCreateImageVariation"),
    _on("errors-as-text", "azureCreateImage"),
    _on("ignores-auth", "azureCreateImageEdit"),
)

#: The property-based groups (schemathesis with our checks, hypothesis over the generated client) must catch
#: breakages on their own, not only ride along with the deterministic probes.
MUTANTS += (
    _also("accepts-n-above-max", "schemathesis", "st-invalid-request-rejected", VARIATION),
    _also("bad-input-500", "schemathesis", "st-no-server-error", VARIATION),
    _also("missing-created", "schemathesis", "st-response-schema", VARIATION),
    _also("errors-as-text", "schemathesis", "st-error-envelope", VARIATION),
    _also("b64-not-an-image", "schemathesis", "st-b64-json-is-image", VARIATION),
    _also("data-count-extra", "schemathesis", "st-data-count-matches-n", VARIATION),
    _also("wrong-dimensions", "schemathesis", "st-image-dimensions-match-size", VARIATION),
    _also("rejects-single-image", "schemathesis", "st-valid-request-accepted", VARIATION),
    _also("data-count-short", "properties", "prop-valid-images-match", GENERATE),
    _also("wrong-dimensions", "properties", "prop-valid-images-match", GENERATE),
    _m(
        "validates-nothing",
        "repairs or drops every invalid n and enum value instead of refusing the request",
        "prop-invalid-rejected",
        req_(validates_nothing),
        groups=("properties",),
    ),
)


#: Known gaps: broken gateways no requirement notices yet (GAPS.md says what is missing). Each runs with the groups
#: that should catch it, as a strict xfail: the day the suite catches one, its test XPASSes and the mutant moves to
#: MUTANTS with the requirement id that caught it.
GAPS: tuple[Mutant, ...] = ()
