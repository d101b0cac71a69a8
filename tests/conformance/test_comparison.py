"""The field-by-field comparison of the two-sided checks: every difference named with both values, only what the
contract allows let through."""

from __future__ import annotations

from pixelpact.conformance.groups.comparison import compare, placeholder_credential
from pixelpact.generator.runtime.recording import redact_header


def test_dropped_added_renamed_and_changed_fields_are_named_with_both_values() -> None:
    sent = {"model": "openai/dall-e-3", "n": 2, "seed": 42, "background": "opaque", "user": "u1"}
    received = {"model": "dall-e-2", "n": 1, "background": "opaque", "end_user": "u1", "extra": True}

    found = compare(sent, received, multipart=False, azure=False)

    assert found.dropped == {"seed": 42}
    assert found.renamed == {"user": "end_user"}
    assert found.added == {"extra": True}
    assert found.changed == {"model": ("openai/dall-e-3", "dall-e-2"), "n": (2, 1)}
    assert found.cause == "changed:model"
    assert "dropped seed (sent 42)" in found.describe() and "n (sent 2, received 1)" in found.describe()


def test_what_the_contract_allows_passes() -> None:
    sent = {"model": "openai/dall-e-3", "n": 2}
    assert not compare(sent, {"model": "dall-e-3", "n": 2}, multipart=False, azure=False)  # the provider prefix goes
    assert not compare(sent, {"n": 2}, multipart=False, azure=True)  # the deployment names the model
    assert not compare({"n": 2}, {"n": "2"}, multipart=True, azure=False)  # multipart carries text
    assert compare({"n": 2}, {"n": "2"}, multipart=False, azure=False).changed == {"n": (2, "2")}


def test_placeholder_credentials_are_told_from_keys_through_the_redaction() -> None:
    names = ("authorization", "api-key")
    for value in ("Bearer undefined", "Bearer null", "Bearer None", "Bearer"):
        assert placeholder_credential({"authorization": redact_header("authorization", value)}, names)
    assert placeholder_credential({"api-key": redact_header("api-key", "undefined")}, names) == "api-key: undefined"
    assert placeholder_credential({"authorization": redact_header("authorization", "Bearer sk-real")}, names) is None
