"""What counts as a credential is decided in one place, pixelpact.generator.runtime.credentials, and every user
reads it: the stub's recording, the conformance suite's redaction, its forwarding check (the gateway's own key, not
the client's, must reach the provider) and the ways `--auth` sends a key. A key in any header it travels in is
therefore masked by the recording, redacted from every output (tests/conformance/hostile/test_sender_bounds.py runs
a gateway that echoes them all) and looked for in what the provider received."""

from __future__ import annotations

from pixelpact.conformance.engine.context import auth_headers
from pixelpact.conformance.groups import forwarding
from pixelpact.conformance.wire.headers import is_secret, secret_values
from pixelpact.conformance.wire.schemes import AUTH_SCHEMES
from pixelpact.generator.runtime.credentials import CREDENTIAL_NAMES, KEY_HEADERS, is_credential_name
from pixelpact.generator.runtime.recording import record_headers, redact_secret

SECRET = "sk-credential-0123456789abcdef"


def test_every_key_header_is_a_credential_to_the_redactor_and_the_recording() -> None:
    assert set(KEY_HEADERS) <= CREDENTIAL_NAMES
    for name in KEY_HEADERS:
        assert is_credential_name(name) and is_secret(name.title()), name
        assert secret_values([(name.title(), SECRET)]) == [SECRET], name
        assert record_headers({name: SECRET}) == {name: redact_secret(SECRET)}, name


def test_every_way_check_sends_a_key_is_a_key_header() -> None:
    """Whatever --auth says, the header the key goes in is one the forwarding check reads and every output masks."""
    for scheme in AUTH_SCHEMES:
        for name in auth_headers(scheme, SECRET):
            assert name.lower() in KEY_HEADERS, (scheme, name)


def test_the_forwarding_check_reads_the_one_list() -> None:
    assert vars(forwarding)["KEY_HEADERS"] is KEY_HEADERS
    assert not hasattr(forwarding, "CREDENTIAL_HEADERS")
