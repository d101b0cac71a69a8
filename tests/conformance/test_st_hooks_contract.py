"""pixelpact's schemathesis checks follow schemathesis's contract (checks.run_checks): a truthy return means the check
was skipped and records no success; None means it checked. So a check that never saw an image never passes."""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace
from typing import Any

import pytest

from pixelpact.conformance.st import hooks as st_hooks
from tests.conformance.broken.toolkit import png


def response(status: int, body: Any, content_type: str = "application/json") -> Any:
    return SimpleNamespace(
        status_code=status, content=json.dumps(body).encode(), headers={"content-type": [content_type]}
    )


def case(**body: Any) -> Any:
    mode = SimpleNamespace(is_positive=True)
    operation = SimpleNamespace(
        method="POST",
        label="POST /v1/images/generations",
        schema=SimpleNamespace(raw_schema={}),
        definition=SimpleNamespace(raw={}),
    )
    meta = SimpleNamespace(generation=SimpleNamespace(mode=mode))
    return SimpleNamespace(body=body, method="POST", operation=operation, meta=meta, media_type="application/json")


ERROR = response(400, {"error": {"message": "bad"}})
URL_ONLY = response(200, {"created": 1, "data": [{"url": "http://127.0.0.1/a.png"}]})
B64 = response(200, {"created": 1, "data": [{"b64_json": base64.b64encode(png(8, 8)).decode()}]})


@pytest.mark.parametrize(
    ("check", "answer"),
    [
        (st_hooks.image_b64_decodes, ERROR),
        (st_hooks.image_b64_decodes, URL_ONLY),  # no b64_json came back: nothing decoded
        (st_hooks.image_count_matches_n, ERROR),
        (st_hooks.image_dimensions_match_size, ERROR),
        (st_hooks.image_dimensions_match_size, URL_ONLY),  # no image measured
        (st_hooks.image_error_envelope, URL_ONLY),  # no error answer
    ],
)
def test_a_check_that_does_not_apply_says_skipped(check: Any, answer: Any) -> None:
    assert check(None, answer, case(n=1, size="8x8")) is st_hooks.SKIPPED
    assert st_hooks.SKIPPED  # truthy: schemathesis records no success


@pytest.mark.parametrize(
    ("check", "answer"),
    [
        (st_hooks.image_b64_decodes, B64),
        (st_hooks.image_count_matches_n, B64),
        (st_hooks.image_dimensions_match_size, B64),
        (st_hooks.image_error_envelope, ERROR),
    ],
)
def test_a_check_that_checked_returns_none(check: Any, answer: Any) -> None:
    assert check(None, answer, case(n=1, size="8x8")) is None
