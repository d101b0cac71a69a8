"""The recording under hostile clients: bounded in bytes, read page by page, and free of keys sent in odd places."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import httpx

from pixelpact.generator.runtime.config import MIB, StubConfig
from pixelpact.generator.runtime.recording import MAX_KEPT_TEXT, record_headers, redact_secret
from pixelpact.generator.runtime.redaction import Redactor
from tests.stub.conftest import png
from tests.stub.test_gateway import error_of

KEY = "sk-stub-test-0123456789abcdef"


def big_form(parts: int, size: int) -> list[tuple[str, tuple[None, bytes]]]:
    return [(f"extra{i}", (None, bytes([97 + i % 26]) * size)) for i in range(parts)]


def test_large_text_values_are_kept_as_size_and_hash(run_stub: Callable[[StubConfig], Any]) -> None:
    with run_stub(StubConfig()) as url, httpx.Client(base_url=url, timeout=30) as c:
        extra = big_form(120, 64 * 1024)
        r = c.post(
            "/v1/images/variations",
            data={"model": "dall-e-2"},
            files=[("image", ("a.png", png(), "image/png")), *extra],
        )
        assert r.status_code == 200, r.text
        entry = c.get("/_pixelpact/requests").json()["requests"][-1]
        texts = [p for p in entry["parts"] if p["name"].startswith("extra")]
        assert len(texts) == 120
        kept = sum(len(p["value"]) for p in texts if not p.get("truncated"))
        assert kept <= MAX_KEPT_TEXT
        summary = texts[-1]
        assert summary["truncated"] and summary["size"] == 64 * 1024 and len(summary["value"]) <= 256
        assert summary["value_sha256"] == hashlib.sha256(extra[-1][1][1]).hexdigest()
        assert "sha256" not in summary  # that key marks a file part
        assert len(c.get("/_pixelpact/requests").content) < 2 * MIB


def test_the_recording_is_bounded_in_bytes_and_read_in_pages(run_stub: Callable[[StubConfig], Any]) -> None:
    config = StubConfig(record_max_bytes=1 * MIB)
    with run_stub(config) as url, httpx.Client(base_url=url, timeout=30) as c:
        for _ in range(20):
            r = c.post(
                "/v1/images/variations",
                data={"model": "dall-e-2"},
                files=[("image", ("a.png", png(), "image/png")), *big_form(120, 16 * 1024)],
            )
            assert r.status_code == 200
        log = c.get("/_pixelpact/requests")
        assert len(log.content) < 1.5 * MIB  # 20 requests of 1.9 MiB each arrived
        body = log.json()
        assert 1 < body["count"] < 20 and body["last_seq"] == 20 and body["more"] is False
        assert body["requests"][-1]["seq"] == 20  # the oldest went
        first = c.get("/_pixelpact/requests", params={"limit": 2}).json()
        assert first["count"] == 2 and first["more"] is True
        rest = c.get("/_pixelpact/requests", params={"since": first["requests"][-1]["seq"]}).json()
        assert [e["seq"] for e in first["requests"] + rest["requests"]] == [e["seq"] for e in body["requests"]]
        error_of(c.get("/_pixelpact/requests", params={"limit": "0"}), 400, "limit")


def test_a_key_in_the_query_path_or_any_header_is_not_recorded(run_stub: Callable[[StubConfig], Any]) -> None:
    with run_stub(StubConfig(api_keys=(KEY,))) as url, httpx.Client(base_url=url) as c:
        ok = c.post(
            "/v1/images/generations",
            params={"api-key": KEY, "token": "t0ken", "trace": "1"},
            json={"model": "dall-e-2", "prompt": "p"},
            headers={"authorization": f"Bearer {KEY}", "x-forwarded-key": f"k={KEY}"},
        )
        assert ok.status_code == 200, ok.text
        lost = c.post(f"/v1/images/{KEY}/generations", json={"model": "dall-e-2", "prompt": "p"})
        assert KEY not in error_of(lost, 404)["error"]["message"]
        log = c.get("/_pixelpact/requests").json()["requests"]
        assert KEY not in str(log) and "t0ken" not in str(log)
        assert log[0]["query"] == {"api-key": redact_secret(KEY), "token": redact_secret("t0ken"), "trace": "1"}
        assert log[1]["path"] == f"/v1/images/{redact_secret(KEY)}/generations"


def test_a_404_never_echoes_a_token_or_the_query(client: httpx.Client) -> None:
    """The open stub knows no key; a path segment that looks like one is masked all the same."""
    token = "sk-proj-AbCdEf0123456789XyZ"
    message = error_of(client.get(f"/v1/{token}/images", params={"api-key": "q-secret"}), 404)["error"]["message"]
    assert token not in message and "q-secret" not in message
    assert message == "no route for GET /v1/<redacted>/images"


def test_credential_headers_are_told_by_whole_words_and_short_keys_only_masked_there() -> None:
    """The rule the conformance suite redacts by (pixelpact.generator.runtime.credentials): whole words of the name."""
    kept = record_headers({"x-turnkey-provider": "openai", "x-session-token": "st-1", "x-tenant_secret": "ts-2"})
    assert kept == {
        "x-turnkey-provider": "openai",
        "x-session-token": redact_secret("st-1"),
        "x-tenant_secret": redact_secret("ts-2"),
    }
    short = Redactor(("dall",))  # a key too short to tell from a word: masked in credential parameters only
    assert short.text("model dall-e-3") == "model dall-e-3"
    assert short.query({"key": "dall", "model": "dall-e-3"}) == {"key": redact_secret("dall"), "model": "dall-e-3"}
    assert Redactor((KEY,)).text(f"k={KEY}") == f"k={redact_secret(KEY)}"
