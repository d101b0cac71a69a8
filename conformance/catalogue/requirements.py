"""The catalogue of requirements: every promise of the image API contract the suite checks, by stable id.

Ids are public: reports, JUnit test names, baselines and the broken-gateway tests key on them, so an id never changes
once released. Each requirement quotes the sentence of the spec (spec/openapi.yaml) or of the seed issue it comes
from; the values it checks (n's range, the enums, the required fields) are read from the spec at run time.
"""

from __future__ import annotations

from collections.abc import Iterable

from pixelpact.conformance.catalogue import concerns as spec
from pixelpact.conformance.model import Origin, Precondition, Requirement, Severity

_CRITICAL, _MAJOR, _MINOR = Severity.CRITICAL, Severity.MAJOR, Severity.MINOR

# What a requirement needs on an operation before it can be judged there; a pair whose precondition never held is
# blocked by the finding that explains it (pixelpact.conformance.catalogue.preconditions).
ANY_ANSWER: tuple[Precondition, ...] = ()
"""Nothing: judged on any answer, an error of a route not served included."""
ROUTE = (Precondition.ROUTE_SERVED,)
"""The operation's route is served (the default)."""
ACCEPTED = (*ROUTE, Precondition.VALID_ACCEPTED)
"""A valid request was accepted."""
STREAMED = (*ACCEPTED, Precondition.STREAM_STARTED)
"""A stream started."""


def declare(
    group: str,
    id_: str,
    severity: Severity,
    title: str,
    source: str,
    *,
    origin: Origin,
    concerns: tuple[str, ...],
    needs: tuple[Precondition, ...] = ROUTE,
) -> Requirement:
    """One requirement, declared once, beside the others of its group: its id (public, never changes), the group
    whose judge decides it, severity, title, the sentence it comes from, origin, the spec it concerns
    (pixelpact.conformance.catalogue.concerns) and what it needs on an operation before it can be judged there."""
    unknown = [concern for concern in concerns if not spec.is_known(concern)]
    if unknown or not concerns:
        raise ValueError(f"requirement {id_!r}: concerns {unknown or 'missing'} (see catalogue/concerns.py)")
    return Requirement(
        id=id_,
        title=title,
        source=source,
        severity=severity,
        group=group,
        origin=origin,
        needs=needs,
        concerns=concerns,
    )


VALID = (
    declare(
        "valid",
        "valid-request-accepted",
        _CRITICAL,
        "A valid request (each size, response_format, quality, style, n at its bounds, user, fallbacks) gets 200",
        "paths.*.post.responses.200: Successful response.",
        origin=Origin.SEEDS,
        concerns=(spec.REQUEST, spec.SUCCESS_STATUS),
    ),
    declare(
        "valid",
        "response-content-type",
        _MAJOR,
        "A 200 without stream is application/json",
        "ImageJson / Image{Generation,Edit}StreamOrJson: content application/json",
        origin=Origin.SEEDS,
        needs=ACCEPTED,
        concerns=(spec.RESPONSE_MEDIA_TYPE,),
    ),
    declare(
        "valid",
        "response-schema",
        _CRITICAL,
        "A 200 body validates against the operation's response schema",
        "ImageResponse / OpenAIImageResponse: required [created, data]",
        origin=Origin.CONVENTION,
        needs=ACCEPTED,
        concerns=(spec.RESPONSE,),
    ),
    declare(
        "valid",
        "data-count-matches-n",
        _CRITICAL,
        "len(data) equals the requested n (its default when n is absent)",
        "ImageCount: Number of images to generate",
        origin=Origin.SEEDS,
        needs=ACCEPTED,
        concerns=(spec.IMAGES, spec.field("n")),
    ),
    declare(
        "valid",
        "b64-json-is-image",
        _CRITICAL,
        "With response_format=b64_json every item's b64_json decodes to a PNG, JPEG or WebP image",
        "ImageData.b64_json: The image, base64-encoded",
        origin=Origin.SEEDS,
        needs=ACCEPTED,
        concerns=(spec.IMAGES, spec.field("response_format")),
    ),
    declare(
        "valid",
        "url-is-absolute",
        _MAJOR,
        "With response_format=url every item's url is an absolute http(s) URL",
        "ImageData.url: {type: string, format: uri}",
        origin=Origin.BIFROST,
        needs=ACCEPTED,
        concerns=(spec.IMAGES, spec.field("response_format")),
    ),
    declare(
        "valid",
        "image-dimensions-match-size",
        _MAJOR,
        "A returned image's pixel dimensions equal the requested size (unless auto)",
        "ImageSize: Size of the generated images",
        origin=Origin.SEEDS,
        needs=ACCEPTED,
        concerns=(spec.IMAGES, spec.field("size")),
    ),
    declare(
        "valid",
        "url-serves-image",
        _MAJOR,
        "Fetching a returned url (on a host the suite can reach) returns the image",
        "ImageData.url: URL of the generated image",
        origin=Origin.BIFROST,
        needs=ACCEPTED,
        concerns=(spec.IMAGES, spec.field("response_format")),
    ),
    declare(
        "valid",
        "image-array-accepted",
        _CRITICAL,
        "A multipart body with image[] of 1, 2 and 3 files is accepted",
        "Use field name `image` for a single file or `image[]` for multiple files",
        origin=Origin.SEEDS,
        needs=ACCEPTED,
        concerns=(spec.FILES,),
    ),
    declare(
        "valid",
        "image-format-matches-output-format",
        _MINOR,
        "A returned image is encoded in the requested output_format (png, jpeg, webp)",
        "OutputFormat: Output image format",
        origin=Origin.BIFROST,
        needs=ACCEPTED,
        concerns=(spec.IMAGES, spec.field("output_format")),
    ),
    declare(
        "valid",
        "unknown-field-tolerated",
        _MAJOR,
        "A valid request with a field the spec does not name is still answered with 200",
        "spec/README.md: Requests tolerate unknown fields (no request schema says additionalProperties: false)",
        origin=Origin.CONVENTION,
        needs=ACCEPTED,
        concerns=(spec.FIELDS,),
    ),
)

INVALID = (
    declare(
        "invalid",
        "n-out-of-range-rejected",
        _CRITICAL,
        "n below ImageCount's minimum or above its maximum gets a 4xx (from the gateway or its provider)",
        "ImageCount: minimum / maximum",
        origin=Origin.SEEDS,
        concerns=(spec.field("n"),),
    ),
    declare(
        "invalid",
        "n-not-integer-rejected",
        _MAJOR,
        'A non-integer n ("abc") gets a 4xx',
        "ImageCount: type: integer",
        origin=Origin.SEEDS,
        concerns=(spec.field("n"),),
    ),
    declare(
        "invalid",
        "unknown-enum-rejected",
        _MAJOR,
        "A value outside an enum (size, response_format, quality, style, ...) gets a 4xx",
        "ImageSize, ResponseFormat, ImageQuality, ImageStyle ...: enum",
        origin=Origin.SEEDS,
        concerns=(spec.ENUM,),
    ),
    declare(
        "invalid",
        "missing-required-rejected",
        _CRITICAL,
        "A body missing a required field (model, prompt, image) gets a 4xx",
        "required: [model, prompt]; anyOf: [{required: [image]}, {required: [image[]]}]",
        origin=Origin.SEEDS,
        concerns=(spec.REQUIRED,),
    ),
    declare(
        "invalid",
        "non-multipart-rejected",
        _MAJOR,
        "A JSON body sent to a multipart route gets a 4xx",
        "Request must be sent as multipart/form-data",
        origin=Origin.SEEDS,
        concerns=(spec.REQUEST_MEDIA_TYPE,),
    ),
    declare(
        "invalid",
        "bad-json-rejected",
        _MAJOR,
        "A malformed JSON body sent to a JSON route gets a 4xx",
        "requestBody: content application/json",
        origin=Origin.BIFROST,
        concerns=(spec.REQUEST_MEDIA_TYPE,),
    ),
    declare(
        "invalid",
        "error-body-shape",
        _MAJOR,
        "Every error answer is JSON with an `error` object holding a non-empty string `message`",
        "BifrostError: required [error]; ErrorField: required [message], minLength 1",
        origin=Origin.BIFROST,
        needs=ANY_ANSWER,
        concerns=(spec.ERRORS,),
    ),
)

ROBUSTNESS = (
    declare(
        "robustness",
        "hostile-part-names-survive",
        _CRITICAL,
        "Hostile multipart part names and filenames (a;b, empty, quotes, %, control characters) get no 5xx and no "
        "dropped connection",
        "seed: hostile multipart part names -> a 4xx, or a 2xx where the spec allows an extra part",
        origin=Origin.CONVENTION,
        concerns=(spec.FILES,),
    ),
    declare(
        "robustness",
        "non-image-file-rejected",
        _MAJOR,
        "A file that is not an image where an image is required gets a 4xx",
        "ImageFile: An image file (PNG, JPEG or WebP)",
        origin=Origin.CONVENTION,
        concerns=(spec.FILES,),
    ),
    declare(
        "robustness",
        "huge-number-rejected",
        _MAJOR,
        "A huge n (a thousand digits) gets a 4xx, not a 5xx",
        "seed: a huge n string -> 4xx",
        origin=Origin.CONVENTION,
        concerns=(spec.field("n"),),
    ),
    declare(
        "robustness",
        "empty-body-rejected",
        _MAJOR,
        "An empty body gets a 4xx",
        "requestBody: required: true",
        origin=Origin.CONVENTION,
        concerns=(spec.REQUEST_MEDIA_TYPE, spec.BODY),
    ),
    declare(
        "robustness",
        "still-answering",
        _CRITICAL,
        "After the hostile requests the gateway still answers a valid request with 200",
        "seed: the gateway still answering afterwards",
        origin=Origin.CONVENTION,
        needs=ACCEPTED,
        concerns=(spec.FILES, spec.field("n")),
    ),
)

STREAMING = (
    declare(
        "streaming",
        "stream-content-type",
        _CRITICAL,
        "stream: true is answered with text/event-stream",
        "Image{Generation,Edit}StreamOrJson: a server-sent event stream of Image{Generation,Edit}StreamEvent",
        origin=Origin.SEEDS,
        needs=ACCEPTED,
        concerns=(spec.STREAMING,),
    ),
    declare(
        "streaming",
        "stream-event-types",
        _CRITICAL,
        "Every event's data is JSON with a `type` from the spec's enum ([DONE] and `:` comments allowed)",
        "Image{Generation,Edit}StreamEvent: required [type]; may end with `data: [DONE]`; `:` lines are comments",
        origin=Origin.BIFROST,
        needs=STREAMED,
        concerns=(spec.STREAMING,),
    ),
    declare(
        "streaming",
        "stream-partial-index",
        _MAJOR,
        "Partial-image events carry an integer partial_image_index",
        "Image{Generation,Edit}StreamEvent: Partial images carry partial_image_index",
        origin=Origin.BIFROST,
        needs=STREAMED,
        concerns=(spec.STREAMING,),
    ),
    declare(
        "streaming",
        "stream-completed-per-image",
        _CRITICAL,
        "At least one completed event per image, whose b64_json decodes to an image",
        "Image{Generation,Edit}StreamEvent: each image ends with one completed event carrying usage",
        origin=Origin.BIFROST,
        needs=STREAMED,
        concerns=(spec.STREAMING,),
    ),
    declare(
        "streaming",
        "stream-no-server-error",
        _CRITICAL,
        "A valid stream has no 5xx, no error event and no dropped connection",
        "Image{Generation,Edit}StreamEventType: error",
        origin=Origin.CONVENTION,
        needs=STREAMED,
        concerns=(spec.STREAMING,),
    ),
    declare(
        "streaming",
        "stream-response-format-tolerated",
        _MINOR,
        "response_format with stream: true is either ignored (a valid stream) or rejected with a 4xx error body",
        "ResponseFormat: This parameter is not supported for streaming requests.",
        origin=Origin.SEEDS,
        needs=STREAMED,
        concerns=(spec.STREAMING, spec.field("response_format")),
    ),
)

AUTH = (
    declare(
        "auth",
        "auth-missing-rejected",
        _CRITICAL,
        "When the gateway needs a key (--api-key), a request without credentials gets 401 or 403 with the error body",
        "Unauthorized: Credentials are missing or not accepted.",
        origin=Origin.BIFROST,
        concerns=(spec.AUTH,),
    ),
    declare(
        "auth",
        "auth-wrong-key-rejected",
        _CRITICAL,
        "When the gateway needs a key (--api-key), a request with a wrong key gets 401 or 403 with the error body",
        "Unauthorized: Credentials are missing or not accepted.",
        origin=Origin.BIFROST,
        concerns=(spec.AUTH,),
    ),
    declare(
        "auth",
        "auth-scheme-accepted",
        _MAJOR,
        "When the gateway needs a key (--api-key), the valid request with that key gets 2xx in every scheme the "
        "operation's security lists (Bearer; Basic with the key as password, user `pixelpact`, or a user:password "
        "key as given; each apiKey header: x-bf-vk, x-api-key, api-key on Azure routes)",
        "security: BearerAuth, BasicAuth, VirtualKeyAuth, ApiKeyAuth (AzureApiKeyAuth on the Azure deployment "
        "routes): alternatives, any one of them authenticates a request",
        origin=Origin.SEEDS,
        needs=ACCEPTED,
        concerns=(spec.AUTH,),
    ),
)

FORWARDING = (
    declare(
        "forwarding",
        "forwarded-prompt",
        _MAJOR,
        "The prompt that reaches the provider behind the gateway is the one the client sent",
        "seed: the prompt, n, size, response_format and user that reached the upstream are what the client sent",
        origin=Origin.CONVENTION,
        needs=ACCEPTED,
        concerns=(spec.field("prompt"),),
    ),
    declare(
        "forwarding",
        "forwarded-n",
        _MAJOR,
        "The n that reaches the provider is the one the client sent (not dropped, clamped or retyped)",
        "seed: the prompt, n, size, response_format and user that reached the upstream are what the client sent",
        origin=Origin.CONVENTION,
        needs=ACCEPTED,
        concerns=(spec.field("n"),),
    ),
    declare(
        "forwarding",
        "forwarded-size",
        _MAJOR,
        "The size that reaches the provider is the one the client sent",
        "seed: the prompt, n, size, response_format and user that reached the upstream are what the client sent",
        origin=Origin.CONVENTION,
        needs=ACCEPTED,
        concerns=(spec.field("size"),),
    ),
    declare(
        "forwarding",
        "forwarded-response-format",
        _MAJOR,
        "The response_format that reaches the provider is the one the client sent",
        "seed: the prompt, n, size, response_format and user that reached the upstream are what the client sent",
        origin=Origin.CONVENTION,
        needs=ACCEPTED,
        concerns=(spec.field("response_format"),),
    ),
    declare(
        "forwarding",
        "forwarded-user",
        _MINOR,
        "The user that reaches the provider is the one the client sent",
        "seed: the prompt, n, size, response_format and user that reached the upstream are what the client sent",
        origin=Origin.CONVENTION,
        needs=ACCEPTED,
        concerns=(spec.field("user"),),
    ),
    declare(
        "forwarding",
        "variation-first-file-forwarded",
        _MAJOR,
        "A variation sent with image[] of several files reaches the provider with exactly the first file's bytes",
        "ImageVariationRequest: `image` or `image[]`, first image used",
        origin=Origin.SEEDS,
        needs=ACCEPTED,
        concerns=(spec.FILES,),
    ),
    declare(
        "forwarding",
        "edit-files-forwarded",
        _CRITICAL,
        "An edit's image files (every image[] part, in order) and its mask reach the provider byte for byte",
        "ImageEditRequest: `image` for a single file or `image[]` for multiple files; all files are edited",
        origin=Origin.BIFROST,
        needs=ACCEPTED,
        concerns=(spec.FILES,),
    ),
    declare(
        "forwarding",
        "rejection-source-reported",
        _MAJOR,
        "Invalid input (n out of range, an unknown size) gets a 4xx from the gateway or from the provider behind it;"
        " the report says which",
        "seed: a rejection of invalid input may come from the gateway or from the upstream, and the report says which",
        origin=Origin.CONVENTION,
        concerns=(spec.field("n"), spec.field("size")),
    ),
    declare(
        "forwarding",
        "fallback-after-primary-failure",
        _MAJOR,
        "With the primary model failing at the provider, a request with fallbacks is answered by the fallback, the"
        " provider seeing the primary attempt(s) first and then the fallback's",
        "Fallbacks: Fallback models to try if primary model fails",
        origin=Origin.SEEDS,
        needs=ACCEPTED,
        concerns=(spec.field("fallbacks"),),
    ),
    declare(
        "forwarding",
        "provider-answer-relayed",
        _CRITICAL,
        "When the provider answers a forwarded request with a 2xx, the client gets a 2xx too, not a 5xx of the"
        " gateway's own",
        "convention: the gateway returns the provider's answer to the client",
        origin=Origin.CONVENTION,
        concerns=(spec.RESPONSE,),
    ),
    declare(
        "forwarding",
        "request-forwarded-intact",
        _MAJOR,
        "A request with every optional field reaches the provider with each field as sent: none dropped, added, renamed"
        " or changed, but for what the contract allows (a bare model name; on Azure routes, the deployment's model)",
        "convention: the gateway forwards the client's request to the provider, field for field",
        origin=Origin.CONVENTION,
        needs=ACCEPTED,
        concerns=(spec.REQUEST,),
    ),
    declare(
        "forwarding",
        "gateway-credentials-upstream",
        _CRITICAL,
        "The provider receives the gateway's own credentials, never the client's key, nothing, or a placeholder"
        " (Bearer undefined, null, None, a bare scheme), with and without a client key",
        "seed: the gateway's own credentials, not the client's, reach the upstream",
        origin=Origin.CONVENTION,
        needs=ACCEPTED,
        concerns=(spec.AUTH,),
    ),
)

#: Every requirement the built-in groups check, in report order.
CATALOGUE: tuple[Requirement, ...] = VALID + INVALID + ROBUSTNESS + STREAMING + AUTH + FORWARDING


def by_id(requirements: Iterable[Requirement]) -> dict[str, Requirement]:
    """Index requirements by id, refusing duplicates (two groups claiming one id is a programming error)."""
    index: dict[str, Requirement] = {}
    for requirement in requirements:
        if requirement.id in index:
            raise ValueError(f"duplicate requirement id {requirement.id!r}")
        index[requirement.id] = requirement
    return index
