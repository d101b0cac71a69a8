"""One exchange judges every requirement it can: the valid control's answer also answers schemathesis's cheapest
example and the properties' cheapest draw, which ask exactly the same, so the provider makes that image once."""

from __future__ import annotations

import httpx

from pixelpact.conformance.api import CheckOptions, check
from pixelpact.conformance.model import Status
from pixelpact.conformance.wire.http import Part, Redactor, Sender, WireRequest, encode_multipart
from pixelpact.conformance.wire.meaning import meaning
from tests.conformance.test_cost import metered

EDITS = "http://gw/v1/images/edits?b=2&a=1"


def test_a_request_means_the_same_whatever_encoded_it() -> None:
    assert meaning(WireRequest("POST", "http://gw/x", json_body={"n": 1, "prompt": "p"})) == meaning(
        WireRequest("POST", "http://gw/x", raw=b'{"prompt":"p","n":1}', content_type="application/json")
    )
    parts = (Part("prompt", "p"), Part("image", b"\x89PNG-1", filename="image.png", content_type="image/png"))
    # another boundary, another file name and part content type, another query order: the same request
    raw = encode_multipart((Part("image", b"\x89PNG-1", filename="x.bin"), Part("prompt", "p"))).replace(
        b"pixelpact", b"other"
    )
    ours = WireRequest("POST", EDITS, parts=parts)
    multipart = "multipart/form-data; boundary=other-boundary-7f3a9c"
    theirs = WireRequest("POST", "http://gw/v1/images/edits?a=1&b=2", raw=raw, content_type=multipart)
    assert b"other" in raw and meaning(ours) == meaning(theirs)
    # a different file, field value or method is another request
    other_file = (Part("prompt", "p"), Part("image", b"\x89PNG-2", filename="image.png"))
    assert meaning(WireRequest("POST", EDITS, parts=other_file)) != meaning(ours)
    assert meaning(WireRequest("POST", "http://gw/x", json_body={"n": 2, "prompt": "p"})) != meaning(
        WireRequest("POST", "http://gw/x", json_body={"n": 1, "prompt": "p"})
    )
    assert meaning(WireRequest("PUT", EDITS, parts=parts)) != meaning(ours)


def test_only_a_request_that_allows_it_gets_a_remembered_answer() -> None:
    sent: list[bytes] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.read())
        return httpx.Response(200, json={"created": 1, "data": []})

    sender = Sender(
        timeout=5, concurrency=1, max_requests=None, redactor=Redactor(), transport=httpx.MockTransport(answer)
    )
    control = WireRequest("POST", "http://gw/v1/images/generations", json_body={"prompt": "p", "size": "256x256"})
    first = sender.send(control, remember=True)
    again = sender.send(control)  # still answering after hostile input: sent again
    reused = sender.send(control, reuse=True)
    other = sender.send(WireRequest("POST", control.url, json_body={"prompt": "q"}), reuse=True)

    assert len(sent) == 3 and reused is first and again is not first and other is not first


def _run(url: str, groups: tuple[str, ...]) -> tuple[int, dict[tuple[str, str], Status]]:
    report = check(
        CheckOptions(
            base_url=url,
            operations=("createImage", "createImageEdit"),
            groups=groups,
            profile="quick",
            seed=7,
            timeout=15.0,
        )
    )
    return report.requests_sent, {(r.requirement.id, r.operation_id): r.status for r in report.results}


def test_the_control_answers_the_cheapest_example_and_draw_on_json_and_multipart_routes() -> None:
    judged_here = ("st-b64-json-is-image", "st-image-dimensions-match-size", "prop-valid-images-match")
    with metered() as (url, shared):
        _, statuses = _run(url, ("invalid", "schemathesis", "properties"))
    with metered() as (url, alone):
        _run(url, ("schemathesis", "properties"))

    for operation in ("createImage", "createImageEdit"):
        for requirement_id in judged_here:
            assert statuses[(requirement_id, operation)] is Status.PASSED, (requirement_id, operation)
    # without the control, schemathesis's example and the properties' draw each make the provider draw an image (2
    # per operation); with it, the control's image is the only one (the invalid variants make none)
    assert alone.images == 4
    assert shared.images == 2
