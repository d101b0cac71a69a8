"""The Bifrost tier never vanishes silently under CI: without a binary it fails there, is skipped elsewhere with
one line saying how to point it at one, and only PIXELPACT_SKIP_BIFROST=1 skips it knowingly.

These tests run without Bifrost (no `bifrost` marker): they exercise the gate and the unpacking with stand-ins."""

from __future__ import annotations

import hashlib
import lzma
import os
from pathlib import Path

import pytest

from tests.bifrost.gateway import BIN_ENV, SCHEMA, Binary, BinaryMissing, locate, unpack
from tests.bifrost.tier import SKIP_ENV, ensure_binary


def missing() -> Binary:
    raise BinaryMissing(f"no Bifrost build at /nowhere/bifrost-http.xz; set {BIN_ENV}=/path/to/bifrost-http")


@pytest.mark.parametrize("ci", ["true", "1"])
def test_a_missing_binary_fails_the_tier_under_ci(ci: str) -> None:
    with pytest.raises(pytest.fail.Exception) as failure:
        ensure_binary({"CI": ci}, missing)
    assert "/nowhere/bifrost-http.xz" in str(failure.value) and f"{SKIP_ENV}=1" in str(failure.value)


def test_a_missing_binary_skips_the_tier_elsewhere_in_one_line_naming_the_variable() -> None:
    with pytest.raises(pytest.skip.Exception) as skipped:
        ensure_binary({}, missing)
    message = str(skipped.value)
    assert "\n" not in message and BIN_ENV in message


def test_the_opt_out_skips_even_under_ci_without_looking() -> None:
    def must_not_run() -> Binary:
        raise AssertionError("looked for the binary despite the opt-out")

    with pytest.raises(pytest.skip.Exception, match=SKIP_ENV):
        ensure_binary({"CI": "true", SKIP_ENV: "1"}, must_not_run)


def test_the_variable_names_a_binary_and_the_schema_beside_it(tmp_path: Path) -> None:
    binary = tmp_path / "bifrost-http"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    with pytest.raises(BinaryMissing, match=SCHEMA):
        locate({BIN_ENV: str(binary)}, shared=tmp_path / "no-shared")
    (tmp_path / SCHEMA).write_text("{}")
    assert locate({BIN_ENV: str(binary)}, shared=tmp_path / "no-shared") == Binary(binary, tmp_path / SCHEMA)
    with pytest.raises(BinaryMissing, match="not an executable"):
        locate({BIN_ENV: str(tmp_path / "nothing")})


def test_without_the_variable_the_shared_build_is_unpacked_into_the_cache_once(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    content = b"\x7fELF pretend bifrost"
    (shared / "bifrost-http.xz").write_bytes(lzma.compress(content))
    (shared / SCHEMA).write_text("{}")
    folder = tmp_path / "cache"
    path = unpack(shared / "bifrost-http.xz", folder, sha256=hashlib.sha256(content).hexdigest())
    assert path.read_bytes() == content and os.access(path, os.X_OK)
    before = path.stat().st_mtime_ns
    assert unpack(shared / "bifrost-http.xz", folder, sha256="not checked again") == path
    assert path.stat().st_mtime_ns == before
    with pytest.raises(BinaryMissing, match="sha256"):
        unpack(shared / "bifrost-http.xz", tmp_path / "other", sha256="0" * 64)
    assert not (tmp_path / "other" / "bifrost-http").exists()
    with pytest.raises(BinaryMissing, match=BIN_ENV):
        locate({"XDG_CACHE_HOME": str(tmp_path)}, shared=tmp_path / "empty")
