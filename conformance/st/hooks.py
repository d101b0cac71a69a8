"""What pixelpact adds to schemathesis: real images for `format: binary` parts, and image-API checks.

Importing this module registers both, process-wide (schemathesis keeps one registry). It is what the
"schemathesis" requirement group runs with, and it works as a hooks module for the schemathesis CLI too:

    SCHEMATHESIS_HOOKS=pixelpact.conformance.st.hooks st run spec/openapi.yaml --url URL \\
        --checks all,image_error_envelope,image_b64_decodes,image_count_matches_n,image_dimensions_match_size
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from hypothesis import strategies as st
from schemathesis.core.failures import Failure

from pixelpact.conformance.engine.images import NotAnImage, decode_b64, decode_image, png

#: Colours and sides of the generated upload images: small, so generation and upload stay cheap, yet distinct.
_COLOURS = ((200, 60, 40), (40, 160, 90), (50, 80, 210), (230, 200, 30), (0, 0, 0), (255, 255, 255))
_SIDES = (1, 2, 8, 16)

# schemathesis's own `binary` strategy mostly sends random bytes (or a JPEG labelled image/png); a gateway that checks
# what it is given rejects those, which schemathesis would then report as "valid request rejected". Every file part
# is a real PNG instead, as the spec's encoding (contentType: image/png) promises.
IMAGE_FILES = st.builds(png, st.sampled_from(_SIDES), st.sampled_from(_SIDES), st.sampled_from(_COLOURS))
schemathesis.openapi.format("binary", IMAGE_FILES)


#: What a check returns where it does not apply. schemathesis (checks.run_checks) records a check as a success
#: unless it returns a truthy value, which means "skipped": a check that returned None where it never looked would
#: pass on no evidence. Each check below returns SKIPPED where it does not apply and None where it checked.
SKIPPED = True
CHECKED = None


class ImageCheckFailed(Failure):
    """An image-API promise broken by a response to a generated request."""

    code = "ST901"
    kind_title = "Image API check failed"


def _fail(case: Any, title: str, message: str) -> None:
    raise ImageCheckFailed(operation=case.operation.label, title=title, message=message, case_id=case.id)


def _json(response: Any) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def _is_event_stream(response: Any) -> bool:
    content_type = (response.headers.get("content-type") or [""])[0]
    return str(content_type).startswith("text/event-stream")


def _body(case: Any) -> dict[str, Any]:
    return case.body if isinstance(case.body, dict) else {}


def _is_positive(case: Any) -> bool:
    """Only a request schemathesis generated as valid has a defined answer (n images of the asked size)."""
    meta = getattr(case, "meta", None)
    return meta is None or bool(meta.generation.mode.is_positive)


def _images(case: Any, response: Any) -> list[Any] | None:
    """The `data` items of a JSON 200 answer to a valid request, or None when the checks of images do not apply."""
    if response.status_code != 200 or _is_event_stream(response) or not _is_positive(case):
        return None
    body = _json(response)
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return None  # the shape is response_schema_conformance's business
    return list(body["data"])


def _default_n(case: Any) -> int:
    """n's default from the spec (ImageCount.default), following the request body's local $refs."""
    root = case.operation.schema.raw_schema
    node: Any = case.operation.definition.raw.get("requestBody", {})
    for key in ("content", case.media_type or "", "schema", "properties", "n", "default"):
        node = _deref(root, node)
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, int) and not isinstance(node, bool) else 1


def _deref(root: Any, node: Any) -> Any:
    seen = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/") and seen < 16:
        target: Any = root
        for part in node["$ref"][2:].split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        node, seen = target, seen + 1
    return node


@schemathesis.check
def image_error_envelope(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 4xx answer carries the spec's error envelope: JSON, an `error` object, a non-empty string `message`."""
    # Only for the operation's own method: a TRACE the spec never declares is answered by the gateway's web
    # framework (405), outside the contract's error responses.
    if not 400 <= response.status_code < 500 or case.method.upper() != case.operation.method.upper():
        return SKIPPED
    body = _json(response)
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        _fail(
            case,
            "Error answer without the error envelope",
            f"Received: {response.content[:300]!r}\n"
            "Documented: BifrostError, an `error` object with a non-empty string `message`",
        )
    message = body["error"].get("message")
    if not isinstance(message, str) or not message.strip():
        _fail(
            case,
            "Error answer without a message",
            f"Received: error.message = {message!r}\nDocumented: ErrorField.message, a non-empty string",
        )
    return CHECKED


@schemathesis.check
def image_b64_decodes(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every `b64_json` of a 200 answer decodes to a PNG, JPEG or WebP image."""
    items = _images(case, response)
    encoded = [(index, item) for index, item in enumerate(items or ()) if isinstance(item, dict) and "b64_json" in item]
    if not encoded:
        return SKIPPED  # no b64_json came back: nothing to decode
    for index, item in encoded:
        try:
            decode_image(decode_b64(item["b64_json"]))
        except NotAnImage as exc:
            _fail(case, "b64_json is not an image", f"data[{index}].b64_json: {exc}")
    return CHECKED


@schemathesis.check
def image_count_matches_n(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 200 answer to a valid request carries n images (n's default when the request has none)."""
    items = _images(case, response)
    if items is None:
        return SKIPPED
    n = _body(case).get("n", _default_n(case))
    if not isinstance(n, int) or isinstance(n, bool):
        return SKIPPED
    if len(items) != n:
        _fail(case, "Image count differs from n", f"Received: {len(items)} items in data\nRequested: n = {n}")
    return CHECKED


@schemathesis.check
def image_dimensions_match_size(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every b64_json image of a 200 answer has the requested pixel size (unless the size is auto or absent)."""
    items = _images(case, response)
    size = _body(case).get("size")
    if not items or not isinstance(size, str) or "x" not in size:
        return SKIPPED
    width, _, height = size.partition("x")
    if not (width.isdigit() and height.isdigit()):
        return SKIPPED
    measured = False
    for index, item in enumerate(items):
        if isinstance(item, dict) and isinstance(item.get("b64_json"), str):
            try:
                _, got_width, got_height = decode_image(decode_b64(item["b64_json"]))
            except NotAnImage:
                continue  # image_b64_decodes reports it
            measured = True
            if (got_width, got_height) != (int(width), int(height)):
                _fail(
                    case,
                    "Image size differs from the requested size",
                    f"data[{index}]: Received {got_width}x{got_height}\nRequested: size = {size}",
                )
    return CHECKED if measured else SKIPPED


#: The checks above, by name, for `--checks` and for the group's configuration.
IMAGE_CHECKS: tuple[str, ...] = (
    "image_error_envelope",
    "image_b64_decodes",
    "image_count_matches_n",
    "image_dimensions_match_size",
)
