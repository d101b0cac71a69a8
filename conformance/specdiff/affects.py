"""Which requirements a change of the spec touches: what `pixelpact check --changed-since OLD` re-runs.

After a spec change, a gateway that passed before needs re-checking only where the change reaches. Each change
(pixelpact.conformance.specdiff.compare.Change) is mapped to requirement ids by what it touches, and paired with the
operation it is on; the union of those (requirement, operation) pairs is the run. The mapping, from the most general to
the most particular:

- **an operation added or moved** (route changed): every requirement of that operation.
- **the request's media types** (`MEDIA`), **a multipart encoding** (`FILES`), **the body's required flag**
  (empty-body-rejected), **parameters** (`REQUEST` plus missing-required-rejected).
- **a request field's constraint**: the generic valid/invalid checks (`REQUEST`), plus by keyword (`BY_KEYWORD`:
  an enum -> unknown-enum-rejected; a range or type -> the property-based rejection; required-ness or a field that
  came or went -> missing-required-rejected, unknown-field-tolerated, and for a new field its enum and range
  checks), plus by field (`BY_FIELD`: `n` -> the count
  and range requirements and what is forwarded; `size` -> the image dimensions; `response_format` -> b64/url
  answers; `image`, `image[]`, `mask` -> the file requirements; `stream` -> streaming; `fallbacks`, `user`, `prompt`
  -> their forwarding).
- **auth** (alternatives or a scheme's header): every auth requirement and the credentials forwarded upstream.
- **the 200 JSON answer**: the response schema checks, plus the image checks when `data` changed; **the stream**
  (text/event-stream or its event schema): every streaming requirement; **error answers**: the error envelope checks.

Compatible changes that change no request or answer (deprecated) touch nothing. A requirement id named here that
the catalogue lost fails a test (tests/specdiff/test_affects.py), so the mapping cannot silently rot.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pixelpact.conformance.specdiff import facts
from pixelpact.conformance.specdiff.compare import MAX_LIKE, MIN_LIKE, Change, compare
from pixelpact.conformance.specdiff.facts import ANY_OF_REQUIRED, EXISTS, REQUIRED, Key
from pixelpact.conformance.specdiff.source import load_since

Pair = tuple[str, str]

REQUEST = (
    "valid-request-accepted",
    "st-valid-request-accepted",
    "st-invalid-request-rejected",
    "st-no-server-error",
    "request-forwarded-intact",  # every field of a request reaches the provider as sent
)
FILES = (
    "image-array-accepted",
    "non-image-file-rejected",
    "hostile-part-names-survive",
    "edit-files-forwarded",
    "variation-first-file-forwarded",
    "still-answering",  # judged after the hostile multipart requests the file checks send
)
MEDIA = (*REQUEST, *FILES, "non-multipart-rejected", "bad-json-rejected", "empty-body-rejected")
STREAMING = (
    "stream-content-type",
    "stream-event-types",
    "stream-partial-index",
    "stream-completed-per-image",
    "stream-no-server-error",
    "stream-response-format-tolerated",
    "st-response-schema",
    "st-content-type-documented",
)
AUTH = ("auth-missing-rejected", "auth-wrong-key-rejected", "auth-scheme-accepted", "gateway-credentials-upstream")
RESPONSE = ("response-schema", "st-response-schema", "provider-answer-relayed")
RESPONSE_MEDIA = (*RESPONSE, "response-content-type", "st-content-type-documented")
IMAGES = (
    "data-count-matches-n",
    "st-data-count-matches-n",
    "b64-json-is-image",
    "st-b64-json-is-image",
    "url-is-absolute",
    "url-serves-image",
    "image-dimensions-match-size",
    "st-image-dimensions-match-size",
    "image-format-matches-output-format",
    "prop-valid-images-match",
)
ERRORS = ("error-body-shape", "st-error-envelope", "st-response-schema", "st-status-code-documented")
BY_KEYWORD: dict[str, tuple[str, ...]] = {
    "enum": ("unknown-enum-rejected", "prop-invalid-rejected"),
    "type": ("prop-invalid-rejected",),
    "range": ("prop-invalid-rejected",),
    REQUIRED: ("missing-required-rejected",),
    ANY_OF_REQUIRED: ("missing-required-rejected",),
    EXISTS: ("missing-required-rejected", "unknown-field-tolerated"),
    "additionalProperties": ("unknown-field-tolerated",),
}
BY_FIELD: dict[str, tuple[str, ...]] = {
    "n": (
        "n-out-of-range-rejected",
        "n-not-integer-rejected",
        "huge-number-rejected",
        "still-answering",
        "data-count-matches-n",
        "st-data-count-matches-n",
        "prop-valid-images-match",
        "forwarded-n",
        "rejection-source-reported",
    ),
    "size": (
        "image-dimensions-match-size",
        "st-image-dimensions-match-size",
        "prop-valid-images-match",
        "forwarded-size",
        "rejection-source-reported",
    ),
    "response_format": (
        "b64-json-is-image",
        "st-b64-json-is-image",
        "url-is-absolute",
        "url-serves-image",
        "forwarded-response-format",
        "stream-response-format-tolerated",
    ),
    "output_format": ("image-format-matches-output-format",),
    "prompt": ("forwarded-prompt",),
    "user": ("forwarded-user",),
    "fallbacks": ("fallback-after-primary-failure",),
    "image": FILES,
    "image[]": FILES,
    "mask": FILES,
    "stream": STREAMING,
    "partial_images": STREAMING,
}
#: Kinds of change that alter no request and no answer.
UNTOUCHED = frozenset({"deprecated", "undeprecated"})


def requirements_for(change: Change, every: Iterable[str]) -> frozenset[str]:
    """The requirement ids a change touches on its operation; `every` is the whole catalogue (an operation added)."""
    if change.kind in UNTOUCHED or change.kind == "operation-removed":
        return frozenset()
    key = change.key
    if key == ("route",):
        return frozenset(every)
    if key[0] == "security":
        return frozenset(AUTH)
    if key[0] == "response":
        return frozenset(_response(key))
    if key[0] == "parameter":
        return frozenset((*REQUEST, "missing-required-rejected"))
    if len(key) == 2:  # ("request", "@required"): the body itself may be omitted or not
        return frozenset(("empty-body-rejected", *REQUEST))
    if key[2] == "encoding":  # a file part's content type
        return frozenset((*REQUEST, *FILES))
    if len(key) == 3:  # ("request", media type, "@exists"): a media type came or went
        return frozenset(MEDIA)
    field = key[4] if len(key) > 4 and key[3] == "properties" else None
    # a new field comes with its constraints (reported as the one addition): its enum and range are new too
    constraints = ("enum", "range") if change.kind == "field-added" else ()
    by_keyword = [id_ for keyword in (_keyword(key[-1]), *constraints) for id_ in BY_KEYWORD.get(keyword, ())]
    return frozenset((*REQUEST, *by_keyword, *BY_FIELD.get(field or "", ())))


def _response(key: Key) -> tuple[str, ...]:
    status = key[1]
    if not status.startswith("2"):
        return ERRORS
    if len(key) == 3:  # a success status came or went
        return ("st-status-code-documented", "valid-request-accepted")
    if key[2] == "text/event-stream":
        return STREAMING
    if len(key) == 4:  # the JSON media type came or went
        return RESPONSE_MEDIA
    field = key[5] if len(key) > 5 and key[4] == "properties" else None
    return (*RESPONSE, *(IMAGES if field == "data" else ()))


def _keyword(keyword: str) -> str:
    if keyword in MIN_LIKE or keyword in MAX_LIKE or keyword == "multipleOf":
        return "range"
    if keyword in ("format", "pattern", "const"):
        return "type"
    return keyword


def affected_pairs(changes: Iterable[Change], operations: Iterable[str], every: Iterable[str]) -> frozenset[Pair]:
    """(requirement id, operationId) pairs the changes touch, limited to `operations` (those of the new spec) and to
    the requirement ids in `every` (the catalogue the run knows)."""
    known, catalogue = set(operations), frozenset(every)
    pairs = {
        (requirement, change.operation)
        for change in changes
        if change.operation in known
        for requirement in requirements_for(change, catalogue)
    }
    return frozenset(pair for pair in pairs if pair[0] in catalogue)


def changed_since(old: str, spec: Path) -> tuple[frozenset[Pair], list[Change]]:
    """The pairs to re-check after `spec` changed from `old` (a file, git:REF:PATH, or a git ref of `spec`), and the
    changes that select them. Raises SourceError."""
    from pixelpact.conformance.suite import declared  # the catalogue of every group (imports them)

    before, after = load_since(old, spec), load_since(str(spec), spec)
    old_ops, new_ops = facts.operations(before.document), facts.operations(after.document)
    changes = compare(old_ops, new_ops)
    every = [requirement.id for requirement in declared()]
    return affected_pairs(changes, new_ops, every), changes
