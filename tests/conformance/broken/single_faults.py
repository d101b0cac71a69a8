"""Twelve relays in front of the recording provider, each with exactly one fault (issue 21): the suite must give each
one finding, with `where`, whose title is true of every pair it explains.

Each is a `Relay` (tests/conformance/broken/relay.py), or a relay wrapped for the faults that sit before the
forwarding path (a body the gateway cannot parse). Unlike real_failures.py, each runs every deterministic group on
every operation it touches, so a fault's symptoms in other groups (wrong dimensions for a changed size, an invalid
value a dropped field lets through) show up and must fold into the fault's one finding.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp

from tests.conformance.broken.real_failures import clamp_n, default_model
from tests.conformance.broken.relay import Relay, RelayGateway
from tests.conformance.broken.toolkit import Request, Response, on_request

#: The model a gateway fills in when the client names none.
#: A quoted name parameter followed by more than a `;` or the line's end: a quote inside the name.
_MALFORMED_NAME = re.compile(rb'name="[^"]*"[^;\r\n]')
#: One JSON and one multipart route: the cheapest pair where a fault shows in both encodings (edits cost the most).
JSON_AND_MULTIPART = ("createImage", "createImageVariation")
GROUPS = ("valid", "invalid", "robustness", "forwarding")


def _rewrite_size(req: Request) -> Request | None:
    """Every size the gateway understands becomes 256x256 (another size is left for the provider to refuse)."""
    size = req.field("size")
    if req.is_image_route and isinstance(size, str) and size != "256x256" and size in ("512x512", "1024x1024"):
        return req.with_field("size", "256x256")
    return None


def _drop(name: str) -> Callable[[Request], Request | None]:
    def dropped(req: Request) -> Request | None:
        return req.with_field(name, None) if req.is_image_route and req.field(name) is not None else None

    return dropped


def _unparseable_json(req: Request) -> Response | None:
    """The gateway's JSON reader fails on a body that is not JSON, and nothing maps the failure to a 400."""
    if not req.is_image_route or "json" not in (req.header("content-type") or ""):
        return None
    try:
        json.loads(req.body)
    except ValueError:
        return Response.error(500, "unexpected end of JSON input")
    return None


def _quoted_part_name(req: Request) -> Response | None:
    """The gateway's multipart reader fails on a part name holding a quote (`name=""quoted""`), and answers 500."""
    form = req.form()
    if req.is_image_route and form is not None and any(_MALFORMED_NAME.search(p.raw_headers) for p in form.parts):
        return Response.error(500, "multipart: malformed part header")
    return None


def _prompt_always(req: Request) -> Response | None:
    """The gateway demands an edit's prompt whatever its type (the spec waives it for type background_removal)."""
    if req.is_image_route and req.kind == "edits" and not req.field("prompt"):
        return Response.error(400, "prompt is required", "prompt")
    return None


def _prompt_never(req: Request) -> Request | None:
    """The gateway fills in a prompt an edit left out, so an edit without prompt and type is not refused."""
    if req.is_image_route and req.kind == "edits" and not req.field("prompt"):
        return req.with_field("prompt", "edit the image")
    return None


def _ends_in_500(req: Request, resp: Response) -> Response | None:
    """The provider answered; the gateway fails reading a multipart route's answer."""
    if req.kind in ("edits", "variations") and resp.status < 300:
        return Response.error(500, "Internal Server Error")
    return None


@dataclass(frozen=True)
class SingleFault:
    name: str
    finding: str
    """The id of the one finding the suite must report."""
    where: str | None
    relay: Relay
    operations: tuple[str, ...]
    wrap: Callable[[ASGIApp], ASGIApp] | None = None


SINGLE_FAULTS = (
    SingleFault("size-rewritten", "F-changed-size", "on-the-way", Relay(outgoing=_rewrite_size), ("createImage",)),
    SingleFault("user-dropped", "F-dropped-fields", "on-the-way", Relay(outgoing=_drop("user")), JSON_AND_MULTIPART),
    SingleFault("n-clamped", "F-changed-n", "on-the-way", Relay(received=clamp_n), ("createImage",)),
    SingleFault("default-model", "F-added-fields", "on-the-way", Relay(received=default_model), ("createImage",)),
    SingleFault(
        "background-dropped", "F-dropped-fields", "on-the-way", Relay(outgoing=_drop("background")), ("createImage",)
    ),
    SingleFault(
        "client-credential-passed-on",
        "F-client-credential",
        "on-the-way",
        Relay(own_credentials=False),
        ("createImage",),
    ),
    SingleFault(
        "every-image-file-forwarded",
        "F-variation-first-file-forwarded",
        "on-the-way",
        Relay(first_file_only=()),
        ("createImageVariation",),
    ),
    SingleFault(
        "truncated-json-500",
        "F-server-error-500-unexpected-json-input",
        "gateway",
        Relay(),
        ("createImage",),
        wrap=lambda app: on_request(app, _unparseable_json),
    ),
    SingleFault(
        "quoted-part-name-500",
        "F-server-error-500-multipart-malformed-part",
        "gateway",
        Relay(),
        ("createImageVariation",),
        wrap=lambda app: on_request(app, _quoted_part_name),
    ),
    SingleFault(
        "prompt-demanded-for-background-removal",
        "F-rejected-400-invalid-request-error",
        None,  # only the valid group sees it, and it does not read the recording: where is not said
        Relay(),
        ("createImageEdit",),
        wrap=lambda app: on_request(app, _prompt_always),
    ),
    SingleFault(
        "prompt-filled-in", "F-added-fields", "on-the-way", Relay(received=_prompt_never), ("createImageEdit",)
    ),
    SingleFault(
        "500-after-upstream-2xx",
        "F-server-error-500",
        "gateway",
        Relay(incoming=_ends_in_500),
        ("createImageVariation",),
    ),
)


def single_fault_gateway(fault: SingleFault, upstream: str) -> ASGIApp:
    app: ASGIApp = RelayGateway(upstream, fault.relay)
    return fault.wrap(app) if fault.wrap is not None else app
