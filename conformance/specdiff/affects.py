"""Which requirements a change of the spec touches: what `pixelpact check --changed-since OLD` re-runs.

After a spec change, a gateway that passed before needs re-checking only where the change reaches. Each change
(pixelpact.conformance.specdiff.compare.Change) is mapped to the part of the spec it touches, a concern
(pixelpact.conformance.catalogue.concerns), and so to the requirements whose declaration lists that concern
(`Requirement.concerns`), paired with the operation it is on; the union of those (requirement, operation) pairs is
the run. No requirement id is named here: the tables below are derived from the catalogue. From the most general to
the most particular:

- **an operation added or moved** (route changed): every requirement of that operation.
- **the request's media types** (`MEDIA`: request, files, request-media-type), **a multipart encoding** (`FILES`),
  **the body's required flag** (body, plus `REQUEST`), **parameters** (`REQUEST` plus required).
- **a request field's constraint**: the generic request checks (`REQUEST`), plus by keyword (`BY_KEYWORD`: enum,
  type, range, required; a field that came or went -> required and fields, and for a new field its enum and range
  too), plus by field (`BY_FIELD`: the requirements naming the field, `concerns.field(name)`; `image`, `image[]`,
  `mask` -> files; `stream`, `partial_images` -> streaming).
- **auth** (alternatives or a scheme's header): auth.
- **the 200 JSON answer**: response (and response-media-type when its media type came or went), plus images when
  `data` changed; a success status that came or went: success-status; **the stream** (text/event-stream or its
  event schema): streaming; **error answers**: errors.

Compatible changes that change no request or answer (deprecated) touch nothing. A requirement no change would re-run
fails a test (tests/specdiff/test_affects.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pixelpact.conformance.catalogue import concerns as spec
from pixelpact.conformance.specdiff import facts
from pixelpact.conformance.specdiff.compare import MAX_LIKE, MIN_LIKE, Change, compare
from pixelpact.conformance.specdiff.facts import ANY_OF_REQUIRED, EXISTS, REQUIRED, REQUIRED_UNLESS, Key
from pixelpact.conformance.specdiff.source import load_since
from pixelpact.conformance.suite import catalogue

Pair = tuple[str, str]


def _concerning(*concerns: str) -> tuple[str, ...]:
    """The ids of the catalogue's requirements that concern any of these parts of the spec, in catalogue order."""
    return tuple(requirement.id for requirement in catalogue() if set(requirement.concerns) & set(concerns))


REQUEST = _concerning(spec.REQUEST)
FILES = _concerning(spec.FILES)
MEDIA = _concerning(spec.REQUEST, spec.FILES, spec.REQUEST_MEDIA_TYPE)
STREAMING = _concerning(spec.STREAMING)
AUTH = _concerning(spec.AUTH)
RESPONSE = _concerning(spec.RESPONSE)
RESPONSE_MEDIA = _concerning(spec.RESPONSE, spec.RESPONSE_MEDIA_TYPE)
IMAGES = _concerning(spec.IMAGES)
ERRORS = _concerning(spec.ERRORS)
BY_KEYWORD: dict[str, tuple[str, ...]] = {
    "enum": _concerning(spec.ENUM),
    "type": _concerning(spec.TYPE),
    "range": _concerning(spec.RANGE),
    REQUIRED: _concerning(spec.REQUIRED),
    ANY_OF_REQUIRED: _concerning(spec.REQUIRED),
    REQUIRED_UNLESS: _concerning(spec.REQUIRED),
    EXISTS: _concerning(spec.REQUIRED, spec.FIELDS),  # a field came or went
    "additionalProperties": _concerning(spec.FIELDS),
}
#: Request fields whose change re-runs more than the generic request checks: the file parts and the stream's fields
#: by what they are, any other by the requirements naming it (`concerns.field(name)`).
_BY_WHAT: dict[str, tuple[str, ...]] = {
    "image": FILES,
    "image[]": FILES,
    "mask": FILES,
    "stream": STREAMING,
    "partial_images": STREAMING,
}
_NAMED = {concern for requirement in catalogue() for concern in requirement.concerns if spec.field_of(concern)}
BY_FIELD: dict[str, tuple[str, ...]] = {
    **{str(spec.field_of(concern)): _concerning(concern) for concern in sorted(_NAMED)},
    **_BY_WHAT,
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
        return frozenset((*REQUEST, *BY_KEYWORD[REQUIRED]))
    if len(key) == 2:  # ("request", "@required"): the body itself may be omitted or not
        return frozenset((*_concerning(spec.BODY), *REQUEST))
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
        return _concerning(spec.SUCCESS_STATUS)
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
    before, after = load_since(old, spec), load_since(str(spec), spec)
    old_ops, new_ops = facts.operations(before.document), facts.operations(after.document)
    changes = compare(old_ops, new_ops)
    every = [requirement.id for requirement in catalogue()]
    return affected_pairs(changes, new_ops, every), changes
