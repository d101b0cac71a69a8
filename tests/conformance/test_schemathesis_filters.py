"""schemathesis's known false positives on multipart are recognised from what reaches the wire; real failures stand."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
import schemathesis

from pixelpact.conformance.engine.contract import Contract, load_contract
from pixelpact.conformance.engine.images import png
from pixelpact.conformance.st.filters import false_positive
from tests.conftest import SPEC

REJECTION, ACCEPTANCE, SCHEMA = "negative_data_rejection", "positive_data_acceptance", "response_schema_conformance"
VARIATION, EDIT, GENERATE = "createImageVariation", "createImageEdit", "createImage"
OPENAI_VARIATION = "openaiCreateImageVariation"


@cache
def contract() -> Contract:
    return load_contract(SPEC)


@cache
def schema() -> Any:
    return schemathesis.openapi.from_path(SPEC)


def case(operation_id: str, body: dict[str, Any]) -> Any:
    operation = contract().operation(operation_id)
    api_operation = schema()[operation.path][operation.method]
    return api_operation.Case(body=body, media_type=operation.media_type)


class FakeResponse:
    def __init__(self, content: bytes, content_type: str) -> None:
        self.content = content
        self.headers = {"content-type": [content_type]}


OK = FakeResponse(b'{"created": 1, "data": []}', "application/json")


def judged(check: str, operation_id: str, body: dict[str, Any], response: FakeResponse = OK) -> str | None:
    return false_positive(check, contract().operation(operation_id), case(operation_id, body), response)


def variation(**fields: Any) -> dict[str, Any]:
    return {"model": "openai/dall-e-2", "image": png(4, 4), **fields}


@pytest.mark.parametrize(
    ("mutation", "wire"),
    [
        ({"user": False}, "a boolean string field arrives as the text false"),
        ({"user": None}, "null arrives as the text null"),
        ({"model": 0}, "a number arrives as the text 0"),
    ],
)
def test_mutations_that_do_not_survive_multipart_are_false_positives(mutation: dict[str, Any], wire: str) -> None:
    assert judged(REJECTION, VARIATION, variation(**mutation)) is not None, wire


@pytest.mark.parametrize(
    ("mutation", "wire"),
    [
        ({"fallbacks": {}}, "an object arrives as {}, a one-element array of strings"),
        ({"fallbacks": "openai/dall-e-3"}, "a scalar is a one-element array"),
    ],
)
def test_string_fallbacks_do_not_survive_multipart(mutation: dict[str, Any], wire: str) -> None:
    """On the OpenAI-compatible routes fallbacks are provider/model strings, one text part each."""
    assert judged(REJECTION, OPENAI_VARIATION, variation(**mutation)) is not None, wire


@pytest.mark.parametrize(
    "mutation",
    [
        {"fallbacks": {}},  # a JSON part holding {}: an object without provider and model
        {"fallbacks": "openai/dall-e-3"},  # text that is not JSON in an application/json part
        {"fallbacks": [{"provider": "openai"}]},
    ],
)
def test_object_fallbacks_still_invalid_on_the_wire_stand(mutation: dict[str, Any]) -> None:
    """On the native routes each fallback is a {provider, model} object in an application/json part."""
    assert judged(REJECTION, VARIATION, variation(**mutation)) is None


def test_object_fallbacks_in_json_parts_are_valid() -> None:
    fallback = {"provider": "openai", "model": "dall-e-3"}
    assert judged(ACCEPTANCE, VARIATION, variation(fallbacks=[fallback, fallback])) is None


def test_a_boolean_field_read_back_by_a_form_parser() -> None:
    assert judged(REJECTION, EDIT, {**variation(prompt="p"), "stream": 0}) is not None  # "0" is false
    assert judged(REJECTION, EDIT, {**variation(prompt="p"), "stream": "maybe"}) is None


@pytest.mark.parametrize(
    "mutation",
    [
        {"n": None},  # "null" is no integer
        {"n": 11},  # out of range on the wire too
        {"n": "abc"},
        {"size": "7x7"},
        {"model": ""},  # minLength
        {"image": "not a file"},  # text where a file belongs
    ],
)
def test_mutations_still_invalid_on_the_wire_stand(mutation: dict[str, Any]) -> None:
    assert judged(REJECTION, VARIATION, variation(**mutation)) is None


def test_a_missing_image_stands() -> None:
    assert judged(REJECTION, VARIATION, {"model": "openai/dall-e-2"}) is None


def test_an_edit_without_prompt_stands_unless_its_type_waives_it() -> None:
    """The spec's prompt-unless-background_removal: a gateway accepting an edit with neither is caught; an edit of
    type background_removal without a prompt is valid, so schemathesis calling it invalid is its false positive."""
    assert judged(REJECTION, EDIT, variation()) is None
    assert judged(REJECTION, EDIT, variation(type="inpainting")) is None
    assert judged(REJECTION, EDIT, variation(type="background_removal")) is not None


def test_json_bodies_are_typed_on_the_wire() -> None:
    assert judged(REJECTION, GENERATE, {"model": "m", "prompt": "p", "user": False}) is None


def test_hostile_part_names_may_be_refused() -> None:
    for name in ("a;b", "", 'say "hi"', "bell\x07", "ctl\x85"):
        assert judged(ACCEPTANCE, VARIATION, variation(**{name: "x"})) is not None, repr(name)
    assert judged(ACCEPTANCE, VARIATION, variation(extra_field="x")) is None
    assert judged(ACCEPTANCE, VARIATION, variation()) is None


def test_whole_floats_for_integers_may_be_refused_in_json() -> None:
    assert judged(ACCEPTANCE, GENERATE, {"model": "m", "prompt": "p", "n": 2.0}) is not None
    assert judged(ACCEPTANCE, GENERATE, {"model": "m", "prompt": "p", "n": 2}) is None


def stream(*events: dict[str, Any]) -> FakeResponse:
    lines = [f"event: {e.get('type', 'x')}\ndata: {json.dumps(e)}\n\n" for e in events]
    return FakeResponse(("".join(lines) + "data: [DONE]\n\n").encode(), "text/event-stream")


def test_streams_are_judged_by_their_data_lines() -> None:
    body = {"model": "m", "prompt": "p", "stream": True}
    good = stream({"type": "image_generation.completed", "b64_json": "aGk="})
    assert judged(SCHEMA, GENERATE, body, good) is not None
    bad = stream({"type": "image_generation.finished"})
    assert judged(SCHEMA, GENERATE, body, bad) is None
    assert judged(SCHEMA, GENERATE, body, OK) is None  # a JSON answer is schemathesis's to judge


def test_a_stream_line_is_cut_at_cr_and_lf_only() -> None:
    """A prompt echoed unescaped may hold U+0085 or U+2028, which str.splitlines() also treats as line ends."""
    body = {"model": "m", "prompt": "p", "stream": True}
    event = {"type": "image_generation.completed", "b64_json": "aGk=", "revised_prompt": "a\u0085b\u2028c\x1cd"}
    text = f"event: x\r\ndata: {json.dumps(event, ensure_ascii=False)}\r\n\r\ndata: [DONE]\r\n\r\n"
    assert judged(SCHEMA, GENERATE, body, FakeResponse(text.encode(), "text/event-stream")) is not None


def test_flaky_check_failures_are_observations_not_run_errors() -> None:
    from hypothesis.errors import FlakyFailure

    from pixelpact.conformance.st.group import _only_check_failures

    assert _only_check_failures(FlakyFailure("inconsistent", [AssertionError("a 500 once, a 400 the next time")]))
    # An internal error inside stays an error of the run.
    assert not _only_check_failures(FlakyFailure("inconsistent", [SystemError("AST recursion depth mismatch")]))
    assert not _only_check_failures(RuntimeError("boom"))


def test_a_negative_case_that_is_valid_as_sent_is_a_false_positive() -> None:
    # Removing `image` from the first anyOf branch leaves a body that satisfies the second (image[]).
    body = {"model": "openai/dall-e-2", "image[]": [png(4, 4)]}
    assert judged(REJECTION, VARIATION, body) is not None


def test_a_valid_body_sent_the_wrong_way_stands() -> None:
    operation = contract().operation(GENERATE)
    valid = {"model": "m", "prompt": "p"}
    as_text = schema()[operation.path][operation.method].Case(body=valid, media_type="text/plain")
    assert false_positive(REJECTION, operation, as_text, OK) is None
    with_header = case(GENERATE, valid)
    with_header.headers = {"Content-Type": "application/x-www-form-urlencoded"}
    assert false_positive(REJECTION, operation, with_header, OK) is None


def test_unknown_query_parameters_do_not_make_a_request_invalid() -> None:
    operation = contract().operation("azureCreateImage")
    api = schema()[operation.path][operation.method]
    body = {"prompt": "p"}
    extra = api.Case(
        body=body,
        media_type=operation.media_type,
        path_parameters={"deployment-id": "d"},
        query={"api-version": "2024-02-01", "unknown": "x"},
    )
    assert false_positive(REJECTION, operation, extra, OK) is not None
    empty_version = api.Case(
        body=body, media_type=operation.media_type, path_parameters={"deployment-id": "d"}, query={"api-version": ""}
    )
    assert false_positive(REJECTION, operation, empty_version, OK) is None  # minLength 1


def test_valid_bodies_a_gateway_may_read_another_way() -> None:
    # An unknown field given a list arrives as repeated parts: a gateway may refuse the "duplicate".
    assert judged(ACCEPTANCE, VARIATION, variation(qk=["a", "b"])) is not None
    # A fallback that starts like JSON array text, where gateways also accept the array as JSON text.
    assert judged(ACCEPTANCE, OPENAI_VARIATION, variation(fallbacks=["[openai/dall-e-3", "x"])) is not None
    # An integer the spec does not bound, beyond what typed decoders hold.
    assert judged(ACCEPTANCE, GENERATE, {"model": "m", "prompt": "p", "seed": 57597648067937648640}) is not None
    # Ordinary valid bodies stand.
    assert judged(ACCEPTANCE, OPENAI_VARIATION, variation(fallbacks=["openai/dall-e-3"], qk="a")) is None
    assert judged(ACCEPTANCE, GENERATE, {"model": "m", "prompt": "p", "seed": 2**40}) is None
