"""The stub gateway over a real socket: answers, errors, limits, auth, fallbacks, recording, streaming."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import socket
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator
from PIL import Image
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from pixelpact.generator.runtime.config import MIB, StubConfig
from pixelpact.generator.runtime.recording import redact_header
from tests.conftest import SPEC
from tests.stub.conftest import png

AZURE = "/openai/openai/deployments/my-dep/images"
_REGISTRY = Registry().with_resource("urn:spec", Resource(yaml.safe_load(SPEC.read_text()), DRAFT202012))


def conforms(body: Any, schema: str) -> None:
    """Assert `body` is valid against components/schemas/<schema> of the spec."""
    validator = Draft202012Validator({"$ref": f"urn:spec#/components/schemas/{schema}"}, registry=_REGISTRY)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
    assert not errors, errors


def error_of(response: httpx.Response, status: int, param: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    conforms(body, "BifrostError")
    assert body["error"]["message"]
    if param is not None:
        assert body["error"]["param"] == param, body
    return body


def decode(data: bytes) -> tuple[str, tuple[int, int]]:
    with Image.open(io.BytesIO(data)) as img:
        return str(img.format), img.size


def files(*names: str, data: bytes | None = None) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [
        (name, (f"f{i}.png", data if data is not None else png(color=(i * 40, 0, 0)), "image/png"))
        for i, name in enumerate(names)
    ]


# -- successful answers


def test_generation_with_urls_the_stub_serves(client: httpx.Client) -> None:
    r = client.post(
        "/v1/images/generations", json={"model": "openai/dall-e-3", "prompt": "a cat", "n": 3, "size": "1792x1024"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    conforms(body, "ImageResponse")
    assert body["model"] == "openai/dall-e-3" and body["size"] == "1792x1024" and body["id"]
    assert [d["index"] for d in body["data"]] == [0, 1, 2]
    urls = [d["url"] for d in body["data"]]
    assert len(set(urls)) == 3 and all(u.startswith(str(client.base_url)) for u in urls)
    image = httpx.get(urls[0])
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert decode(image.content) == ("PNG", (1792, 1024))
    extra = body["extra_fields"]
    assert extra["request_type"] == "image_generation" and extra["model_requested"] == "openai/dall-e-3"
    assert extra["model_deployment"] == "openai/dall-e-3" and extra["provider"] == "openai"
    assert isinstance(extra["latency"], int)
    assert body["usage"]["total_tokens"] > 0


@pytest.mark.parametrize(("fmt", "pil"), [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")])
def test_b64_images_in_the_requested_format_and_size(client: httpx.Client, fmt: str, pil: str) -> None:
    r = client.post(
        "/openai/v1/images/generations",
        json={
            "model": "gpt-image-1",
            "prompt": "a cat",
            "response_format": "b64_json",
            "output_format": fmt,
            "size": "1024x1536",
        },
    )
    body = r.json()
    conforms(body, "OpenAIImageResponse")
    assert decode(base64.b64decode(body["data"][0]["b64_json"])) == (pil, (1024, 1536))
    assert body["output_format"] == fmt


def test_transparent_jpeg_is_served_opaque_not_refused(client: httpx.Client) -> None:
    # The spec allows the combination; JPEG has no alpha channel, so the answer says "opaque".
    r = client.post(
        "/v1/images/generations",
        json={
            "model": "gpt-image-1",
            "prompt": "a cat",
            "background": "transparent",
            "output_format": "jpeg",
            "response_format": "b64_json",
            "size": "256x256",
        },
    )
    assert r.status_code == 200 and r.json()["background"] == "opaque"
    assert decode(base64.b64decode(r.json()["data"][0]["b64_json"])) == ("JPEG", (256, 256))


def test_served_image_urls_have_their_content_type_and_unknown_ones_are_404(client: httpx.Client) -> None:
    ok = client.get("/_pixelpact/images/256x256-opaque-0.webp")
    assert ok.headers["content-type"] == "image/webp" and decode(ok.content) == ("WEBP", (256, 256))
    error_of(client.get("/_pixelpact/images/99999x99999-opaque-0.png"), 404)


def test_variation_uses_the_first_of_several_files_and_edits_take_mask(client: httpx.Client) -> None:
    r = client.post(
        "/v1/images/variations",
        data={"model": "dall-e-2", "n": "2", "size": "256x256"},
        files=files("image[]", "image[]", "image[]"),
    )
    body = r.json()
    assert r.status_code == 200 and len(body["data"]) == 2 and body["extra_fields"]["request_type"] == "image_variation"
    assert body["usage"]["input_tokens_details"]["image_tokens"] == 65  # one input image used
    r = client.post(
        f"{AZURE}/edits?api-version=2024-02-01",
        data={"prompt": "hat", "response_format": "b64_json"},
        files=files("image[]", "image[]", "mask"),
    )
    body = r.json()
    assert r.status_code == 200, r.text
    assert body["extra_fields"]["model_requested"] == "my-dep"  # the deployment names the model
    assert body["usage"]["input_tokens_details"]["image_tokens"] == 130  # edits use every image


def test_stream_framing_events_and_done(client: httpx.Client) -> None:
    r = client.post(
        "/v1/images/generations",
        json={"model": "gpt-image-1", "prompt": "a cat", "n": 2, "stream": True, "partial_images": 2},
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    blocks = [b for b in r.text.split("\n\n") if b]
    events = []
    for block in blocks:
        event_line, data_line = block.split("\n")
        assert event_line.startswith("event: ") and data_line.startswith("data: ")
        payload = httpx.Response(200, content=data_line[6:]).json()
        conforms(payload, "ImageGenerationStreamEvent")
        assert payload["type"] == event_line[7:]
        events.append(payload)
    types = [e["type"].split(".")[1] for e in events]
    assert types == ["partial_image", "partial_image", "completed"] * 2
    assert [e.get("partial_image_index") for e in events[:2]] == [0, 1]
    assert all("usage" in e for e in events if e["type"].endswith("completed"))
    assert "[DONE]" not in r.text  # native generations streams end by closing, as Bifrost's do
    edit = client.post(
        "/openai/v1/images/edits", data={"model": "gpt-image-1", "prompt": "x", "stream": "true"}, files=files("image")
    )
    assert edit.text.startswith("event: image_edit.completed\n") and edit.text.endswith("data: [DONE]\n\n")
    conforms(httpx.Response(200, content=edit.text.split("\n")[1][6:]).json(), "ImageEditStreamEvent")


# -- refusals


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "m", "prompt": "p", "n": 11}, "n"),
        ({"model": "m", "prompt": "p", "n": 0}, "n"),
        ({"model": "m", "prompt": "p", "n": "2"}, "n"),  # JSON is strict: a string is not an integer
        ({"model": "m", "prompt": "p", "n": 1.5}, "n"),
        ({"model": "m", "prompt": "p", "size": "999x999"}, "size"),
        ({"model": "m", "prompt": "p", "response_format": "gif"}, "response_format"),
        ({"model": "m", "prompt": "p", "quality": "ultra"}, "quality"),
        ({"model": "m", "prompt": "p", "style": "odd"}, "style"),
        ({"model": "m", "prompt": "p", "background": "striped"}, "background"),
        ({"model": "m", "prompt": "p", "output_format": "gif"}, "output_format"),
        ({"model": "m", "prompt": "p", "fallbacks": ["openai/x"]}, "fallbacks"),  # native routes take objects
        ({"model": "m", "prompt": "p", "fallbacks": [{"provider": "openai"}]}, "fallbacks"),
        ({"model": "m", "prompt": "p", "fallbacks": [{"provider": "", "model": "x"}]}, "fallbacks"),
        ({"prompt": "p"}, "model"),
        ({"model": "m"}, "prompt"),
        ({"model": "m", "prompt": ""}, "prompt"),
    ],
)
def test_invalid_json_fields_are_400_naming_the_field(client: httpx.Client, body: dict[str, Any], param: str) -> None:
    error_of(client.post("/v1/images/generations", json=body), 400, param)


@pytest.mark.parametrize(
    ("data", "parts", "param"),
    [
        ({"model": "dall-e-2", "n": "11"}, ["image"], "n"),
        ({"model": "dall-e-2", "n": "abc"}, ["image"], "n"),
        ({"model": "dall-e-2", "size": "1x1"}, ["image"], "size"),
        ({"model": "dall-e-2"}, [], None),  # neither image nor image[]
        ({}, ["image"], "model"),
    ],
)
def test_invalid_form_fields_are_400(
    client: httpx.Client, data: dict[str, str], parts: list[str], param: str | None
) -> None:
    r = client.post("/v1/images/variations", data=data, files=files(*parts) or {"other": ("x.txt", b"x")})
    error_of(r, 400, param)


_OBJECT = {"provider": "openai", "model": "dall-e-2"}


def _json_part(value: Any) -> tuple[str, tuple[None, bytes, str]]:
    return ("fallbacks", (None, json.dumps(value).encode(), "application/json"))


@pytest.mark.parametrize(
    ("path", "fallback"),
    [
        ("/v1/images/generations", "openai/dall-e-2"),  # native: {provider, model} objects only
        ("/openai/v1/images/generations", _OBJECT),  # OpenAI-compatible and Azure: provider/model strings only
        (f"{AZURE}/generations?api-version=2024-02-01", _OBJECT),
    ],
)
def test_fallbacks_in_the_wrong_form_are_400_in_json(client: httpx.Client, path: str, fallback: Any) -> None:
    error_of(client.post(path, json={"model": "m", "prompt": "p", "fallbacks": [fallback]}), 400, "fallbacks")


@pytest.mark.parametrize(
    ("path", "part"),
    [
        # the spec's encoding makes a native `fallbacks` part application/json: plain text is not JSON
        ("/v1/images/variations", ("fallbacks", (None, b"openai/dall-e-2"))),
        ("/v1/images/edits", ("fallbacks", (None, b"openai/dall-e-2"))),
        # a part that says it holds JSON holds an object, which the OpenAI-compatible routes do not take
        ("/openai/v1/images/variations", _json_part(_OBJECT)),
        ("/openai/v1/images/edits", _json_part(_OBJECT)),
    ],
)
def test_fallbacks_in_the_wrong_form_are_400_in_multipart(
    client: httpx.Client, path: str, part: tuple[str, Any]
) -> None:
    fields = [("model", (None, b"dall-e-2")), ("prompt", (None, b"p")), part]
    error_of(client.post(path, files=[*files("image"), *fields]), 400, "fallbacks")


def test_edit_sizes_exclude_1792(client: httpx.Client) -> None:
    r = client.post("/v1/images/edits", data={"model": "m", "prompt": "p", "size": "1792x1024"}, files=files("image"))
    error_of(r, 400, "size")


@pytest.mark.parametrize(
    ("content", "ctype"),
    [
        (b'{"model": "m", "prompt": ', "application/json"),
        (b"[]", "application/json"),
        (b'{"model": "m", "prompt": "p"}', "text/plain"),
        (b"model=m&prompt=p", "application/x-www-form-urlencoded"),
        (b"", "application/json"),
    ],
)
def test_bad_json_bodies_and_content_types_are_400(client: httpx.Client, content: bytes, ctype: str) -> None:
    error_of(client.post("/v1/images/generations", content=content, headers={"content-type": ctype}), 400)


def test_json_sent_to_a_multipart_route_is_400(client: httpx.Client) -> None:
    error_of(client.post("/v1/images/variations", json={"model": "dall-e-2"}), 400)


def test_non_images_are_400_naming_the_part(client: httpx.Client) -> None:
    r = client.post(
        "/v1/images/edits",
        data={"model": "m", "prompt": "p"},
        files=[("image[]", ("a.png", png(), "image/png")), ("image[]", ("b.png", b"GIF89a..", "image/png"))],
    )
    assert "image[]" in error_of(r, 400, "image[]")["error"]["message"]
    r = client.post(
        "/v1/images/edits",
        data={"model": "m", "prompt": "p"},
        files=[("image", ("a.png", png(), "image/png")), ("mask", ("m.jpg", png(fmt="JPEG"), "image/jpeg"))],
    )
    error_of(r, 400, "mask")


def raw_post(url: str, path: str, body: bytes, ctype: str) -> tuple[int, bytes]:
    """POST over a plain socket, so no client library tidies up the hostile body; returns (status, body)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
        sock.sendall(head.encode() + b"Connection: close\r\n\r\n" + body)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    response = b"".join(chunks)
    status = int(response.split(b" ", 2)[1])
    return status, response.split(b"\r\n\r\n", 1)[1]


def part(disposition: bytes, data: bytes = b"v") -> bytes:
    return b"--B\r\nContent-Disposition: " + disposition + b"\r\n\r\n" + data + b"\r\n"


VALID_PARTS = part(b'form-data; name="model"', b"dall-e-2") + part(b'form-data; name="image"; filename="a.png"', png())


@pytest.mark.parametrize(
    "body",
    [
        VALID_PARTS + part(b'form-data; name="a;b"') + b"--B--\r\n",
        VALID_PARTS + part(b'form-data; name=""') + b"--B--\r\n",
        VALID_PARTS + part(b'form-data; name="\x00\x1b[31m"') + b"--B--\r\n",
        VALID_PARTS + part(b'form-data; name="x"') * 5000 + b"--B--\r\n",
        VALID_PARTS,  # truncated: no closing boundary
        VALID_PARTS[: len(VALID_PARTS) // 2],
        b'--B\r\nContent-Disposition: form-data; name="model"\r\n' + b"X-Pad: " + b"y" * 10000 + b"\r\n\r\nv\r\n--B--",
        b"\x00\xff" * 1000,
    ],
    ids=["semicolon", "empty-name", "control-chars", "5000-parts", "no-closing", "half", "huge-header", "binary"],
)
def test_hostile_multipart_is_400_with_the_error_body(stub_url: str, body: bytes) -> None:
    status, content = raw_post(stub_url, "/v1/images/variations", body, "multipart/form-data; boundary=B")
    assert status == 400, content
    conforms(httpx.Response(status, content=content).json(), "BifrostError")


def test_the_server_keeps_serving_after_hostile_input(client: httpx.Client, stub_url: str) -> None:
    for _ in range(20):
        raw_post(stub_url, "/v1/images/variations", part(b'form-data; name="a;b"'), "multipart/form-data; boundary=B")
    assert client.post("/v1/images/variations", data={"model": "m"}, files=files("image")).status_code == 200


def test_unknown_routes_and_methods_get_the_error_body(client: httpx.Client) -> None:
    error_of(client.get("/v1/images/generations"), 405)
    error_of(client.post("/v2/nothing", json={}), 404)
    # recorded too: a gateway that forwards to a path the spec lacks shows up in the recording
    last = client.get("/_pixelpact/requests").json()["requests"][-1]
    assert (last["method"], last["path"], last["status"]) == ("POST", "/v2/nothing", 404)


# -- limits, auth, fallbacks: stubs with their own settings


def test_bodies_over_the_limit_get_413_not_a_dropped_connection(run_stub: Callable[[StubConfig], Any]) -> None:
    with run_stub(StubConfig(max_body_bytes=1 * MIB)) as url, httpx.Client(base_url=url, timeout=30) as c:
        big = b"\0" * (3 * MIB)
        error_of(
            c.post("/v1/images/variations", data={"model": "m"}, files={"image": ("a.png", big, "image/png")}), 413
        )

        def stream() -> Any:  # chunked, no Content-Length: the limit is enforced while reading
            for _ in range(48):
                yield b"{" * 65536

        error_of(c.post("/v1/images/generations", content=stream(), headers={"content-type": "application/json"}), 413)
        ok = c.post("/v1/images/variations", data={"model": "m"}, files=files("image"))
        assert ok.status_code == 200  # and the next request is fine


def test_api_keys_in_every_accepted_place(run_stub: Callable[[StubConfig], Any]) -> None:
    with run_stub(StubConfig(api_keys=("sk-one", "sk-two"))) as url, httpx.Client(base_url=url) as c:
        body = {"model": "m", "prompt": "p"}
        assert "required" in error_of(c.post("/v1/images/generations", json=body), 401)["error"]["message"]
        error_of(c.post("/v1/images/generations", json=body, headers={"authorization": "Bearer nope"}), 401)
        basic = "Basic " + base64.b64encode(b"user:sk-two").decode()
        for headers in (
            {"authorization": "Bearer sk-one"},
            {"authorization": basic},
            {"x-bf-vk": "sk-two"},
            {"x-api-key": "sk-one"},
        ):
            assert c.post("/v1/images/generations", json=body, headers=headers).status_code == 200, headers
        # api-key is the Azure scheme: accepted on Azure routes only, as the spec's security lists say
        assert c.post(f"{AZURE}/generations", json=body, headers={"api-key": "sk-one"}).status_code == 200
        error_of(c.post("/v1/images/generations", json=body, headers={"api-key": "sk-one"}), 401)
        log = c.get("/_pixelpact/requests")  # reserved routes stay open
        assert log.status_code == 200
        statuses = [(e["status"], e["headers"].get("authorization")) for e in log.json()["requests"]]
        assert statuses[:2] == [(401, None), (401, redact_header("authorization", "Bearer nope"))]


def test_failing_models_and_fallbacks(run_stub: Callable[[StubConfig], Any]) -> None:
    config = StubConfig(fail_models=frozenset({"dall-e-3", "openai/broken"}), fail_status=503)
    with run_stub(config) as url, httpx.Client(base_url=url) as c:
        failed = error_of(c.post("/v1/images/generations", json={"model": "openai/dall-e-3", "prompt": "p"}), 503)
        assert failed["is_bifrost_error"] is False and failed["extra_fields"]["model_requested"] == "openai/dall-e-3"
        chain = [{"provider": "openai", "model": "broken"}, {"provider": "openai", "model": "gpt-image-1"}]
        r = c.post("/v1/images/generations", json={"model": "openai/dall-e-3", "prompt": "p", "fallbacks": chain})
        assert r.status_code == 200 and r.headers["x-bifrost-fallback-index"] == "2"
        body = r.json()
        assert body["model"] == "openai/gpt-image-1"
        assert body["extra_fields"]["model_requested"] == "openai/dall-e-3"
        assert body["extra_fields"]["model_deployment"] == "openai/gpt-image-1"
        # multipart, native: one JSON object per part, or one JSON array of them; OpenAI-compatible: text parts
        chain = [{"provider": "openai", "model": "broken"}, {"provider": "openai", "model": "dall-e-2"}]
        for path, fallbacks in (
            ("/v1/images/variations", [json.dumps(f) for f in chain]),
            ("/v1/images/variations", [json.dumps(chain)]),
            ("/openai/v1/images/variations", ["openai/broken", "openai/dall-e-2"]),
        ):
            r = c.post(
                path,
                files=[
                    *files("image"),
                    ("model", (None, b"dall-e-3")),
                    *[("fallbacks", (None, f.encode())) for f in fallbacks],
                ],
            )
            assert r.status_code == 200 and r.json()["model"] == "openai/dall-e-2", r.text
        failing = {"provider": "openai", "model": "broken"}
        error_of(
            c.post("/v1/images/generations", json={"model": "dall-e-3", "prompt": "p", "fallbacks": [failing]}), 503
        )
        log = c.get("/_pixelpact/requests").json()["requests"]
        assert [(e["status"], e["model_served"]) for e in log] == [
            (503, None),
            (200, "openai/gpt-image-1"),
            (200, "openai/dall-e-2"),
            (200, "openai/dall-e-2"),
            (200, "openai/dall-e-2"),
            (503, None),
        ]


def test_recording_of_what_arrived(run_stub: Callable[[StubConfig], Any]) -> None:
    with run_stub(StubConfig(record_limit=3)) as url, httpx.Client(base_url=url) as c:
        first, second = png(color=(1, 2, 3)), png(color=(4, 5, 6))
        r = c.post(
            "/v1/images/variations?trace=1",
            data={"model": "dall-e-2", "user": "u1"},
            files=[("image[]", ("one.png", first, "image/png")), ("image[]", ("two.png", second, "image/png"))],
            headers={"authorization": "Bearer sk-secret-key", "x-api-key": "other"},
        )
        assert r.status_code == 200
        error_of(c.post("/v1/images/generations", json={"model": "m", "prompt": "p", "n": 99}), 400, "n")
        log = c.get("/_pixelpact/requests").json()
        variation, invalid = log["requests"]
        assert variation["path"] == "/v1/images/variations" and variation["query"] == {"trace": "1"}
        assert variation["operation_id"].lower().endswith("imagevariation")
        assert variation["headers"]["authorization"] == redact_header("authorization", "Bearer sk-secret-key")
        assert "sk-secret-key" not in str(log) and variation["headers"]["x-api-key"] != "other"
        assert [(p["name"], p.get("value"), p.get("filename")) for p in variation["parts"]] == [
            ("model", "dall-e-2", None),
            ("user", "u1", None),
            ("image[]", None, "one.png"),
            ("image[]", None, "two.png"),
        ]
        assert variation["parts"][2]["sha256"] == hashlib.sha256(first).hexdigest()
        assert variation["parts"][3]["size"] == len(second)
        assert invalid["status"] == 400 and invalid["json"]["n"] == 99 and "n" in invalid["error"]
        for _ in range(3):
            c.post("/v1/images/generations", json={"model": "m", "prompt": "p"})
        log = c.get("/_pixelpact/requests").json()
        assert log["count"] == 3 and log["requests"][0]["seq"] == 3  # a bounded ring: the oldest went
        assert [e["seq"] for e in c.get("/_pixelpact/requests?since=4").json()["requests"]] == [5]
        error_of(c.get("/_pixelpact/requests?since=x"), 400, "since")
        assert c.delete("/_pixelpact/requests").json() == {"cleared": 3}
        assert c.get("/_pixelpact/requests").json() == {
            "limit": 3,
            "count": 0,
            "last_seq": 5,
            "more": False,
            "requests": [],
        }


@pytest.mark.parametrize("n", ["10 ", "1.0", "+2"])
def test_one_rule_for_n_in_both_encodings(client: httpx.Client, n: str) -> None:
    """The JSON form refuses the text "10 " for n (an integer); the multipart form must not trim and accept it."""
    error_of(client.post("/v1/images/generations", json={"model": "m", "prompt": "p", "n": n}), 400, "n")
    sent = client.post(
        "/v1/images/variations", data={"model": "dall-e-2", "n": n}, files=[("image", ("a.png", png(), "image/png"))]
    )
    error_of(sent, 400, "n")
    fine = client.post(
        "/v1/images/variations", data={"model": "dall-e-2", "n": "2"}, files=[("image", ("a.png", png(), "image/png"))]
    )
    assert fine.status_code == 200 and len(fine.json()["data"]) == 2


def test_duplicate_json_keys_are_refused(client: httpx.Client) -> None:
    raw = b'{"model":"dall-e-2","prompt":"p","n":1,"n":3}'
    sent = client.post("/v1/images/generations", content=raw, headers={"content-type": "application/json"})
    error_of(sent, 400, "n")


def test_answer_ids_stay_unique_inside_hypothesis_test_cases(client: httpx.Client) -> None:
    """hypothesis re-seeds the global random generator for every test case: the stub's ids must not come from it."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    ids: list[str] = []

    @settings(max_examples=5, database=None, deadline=None)
    @given(st.integers(0, 10**6))
    def answer(_drawn: int) -> None:
        response = client.post("/v1/images/generations", json={"model": "openai/dall-e-3", "prompt": "a cat"})
        ids.append(response.json()["id"])

    answer()
    assert len(ids) == 5 and len(set(ids)) == 5, ids
