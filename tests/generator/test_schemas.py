"""The generator's JSON-schema plumbing: which "required" rules it lifts out of an object schema, and which not."""

from __future__ import annotations

from typing import Any

import pytest

from pixelpact.generator.schemas import Alternative, RequiredRule, lift_required_rules

IMAGE_OR_LIST: dict[str, Any] = {"anyOf": [{"required": ["image"]}, {"required": ["image[]"]}]}
PROMPT_UNLESS_ERASE: dict[str, Any] = {
    "if": {"properties": {"kind": {"const": "erase"}}, "required": ["kind"]},
    "else": {"required": ["prompt"]},
}


def test_any_of_required_and_if_else_are_lifted_as_rules() -> None:
    schema = {"type": "object", "required": ["model"], **IMAGE_OR_LIST, **PROMPT_UNLESS_ERASE}
    rest, rules = lift_required_rules(schema)
    assert rest == {"type": "object", "required": ["model"]}
    assert rules == (
        RequiredRule((Alternative(("image",)), Alternative(("image[]",)))),
        RequiredRule((Alternative(("prompt",)), Alternative((), (("kind", "erase"),)))),
    )
    assert [rule.message() for rule in rules] == [
        "image or image[] is required",
        "prompt is required unless kind is erase",
    ]


@pytest.mark.parametrize(
    ("body", "holds"),
    [
        ({"prompt": "x"}, True),
        ({"kind": "erase"}, True),
        ({"kind": "paint"}, False),
        ({}, False),
        ({"kind": "paint", "prompt": "x"}, True),
    ],
)
def test_a_lifted_condition_holds_as_json_schema_says(body: dict[str, Any], holds: bool) -> None:
    (rule,) = lift_required_rules(PROMPT_UNLESS_ERASE)[1]
    assert any(alternative.holds(body) for alternative in rule.alternatives) is holds


@pytest.mark.parametrize(
    "schema",
    [
        {**PROMPT_UNLESS_ERASE, "then": {"required": ["mask"]}},  # a `then` is not "unless"
        {"if": {"properties": {"kind": {"const": "erase"}}}, "else": {"required": ["prompt"]}},  # holds when absent
        {"if": {"properties": {"kind": {"enum": ["erase"]}}, "required": ["kind"]}, "else": {"required": ["prompt"]}},
        {"anyOf": [{"required": ["image"]}, {"type": "object"}]},
    ],
)
def test_forms_it_cannot_state_as_a_rule_stay_in_the_schema(schema: dict[str, Any]) -> None:
    rest, rules = lift_required_rules(schema)
    assert rules == ()
    assert rest == schema
