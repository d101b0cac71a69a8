"""Body reading on its own: size limit, JSON, multipart parsing of hostile input."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator

import pytest
from starlette.types import Message, Receive

from pixelpact.generator.runtime.bodies import (
    multipart_fields,
    parse_json,
    parse_multipart,
    read_limited,
    typed_form_fields,
)
from pixelpact.generator.runtime.errors import GatewayError

CT = "multipart/form-data; boundary=XyZ"


def form(*parts: tuple[bytes, bytes], end: bool = True) -> bytes:
    """A multipart body from (Content-Disposition value, data) pairs."""
    out = b""
    for disposition, data in parts:
        out += b"--XyZ\r\nContent-Disposition: " + disposition + b"\r\n\r\n" + data + b"\r\n"
    return out + (b"--XyZ--\r\n" if end else b"")


def receiving(pieces: Iterable[bytes]) -> Receive:
    """An ASGI receive callable giving `pieces` as the body, one per call (read lazily), then a disconnect."""
    it = iter(pieces)
    ahead: list[bytes] = [next(it, b"")]
    done = False

    async def receive() -> Message:
        nonlocal done
        if done:
            return {"type": "http.disconnect"}
        body = ahead.pop()
        following = next(it, None)
        if following is None:
            done = True
        else:
            ahead.append(following)
        return {"type": "http.request", "body": body, "more_body": not done}

    return receive


def chunks(total: int, size: int = 65536) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        n = min(size, total - sent)
        sent += n
        yield b"x" * n


def refused(status: int, call: object) -> GatewayError:
    with pytest.raises(GatewayError) as info:
        if asyncio.iscoroutine(call):
            asyncio.run(call)
        else:
            raise AssertionError("not a coroutine")
    assert info.value.status == status, info.value.message
    return info.value


def test_a_body_within_the_limit_is_read_whole() -> None:
    assert asyncio.run(read_limited("100", receiving(chunks(100)), 100)) == b"x" * 100
    assert asyncio.run(read_limited(None, receiving(chunks(100, size=7)), 100)) == b"x" * 100
    assert asyncio.run(read_limited("0", receiving([]), 100)) == b""


def test_a_body_over_the_limit_is_413_and_is_drained_without_being_kept() -> None:
    consumed = 0

    def counting() -> Iterator[bytes]:
        nonlocal consumed
        for c in chunks(5_000_000):
            consumed += len(c)
            yield c

    error = refused(413, read_limited(None, receiving(counting()), 1000))
    assert "1000 bytes" in error.message
    assert consumed == 5_000_000  # drained, so the client can read the 413


def test_a_client_that_leaves_before_the_body_is_complete_is_a_400() -> None:
    async def leaves() -> Message:
        return {"type": "http.disconnect"}

    error = refused(400, read_limited("100", leaves, 1000))
    assert "closed the connection" in error.message


def test_a_declared_length_beyond_the_drain_limit_is_refused_before_reading() -> None:
    async def never() -> Message:
        raise AssertionError("read")

    refused(413, read_limited(str(10**12), never, 1000, drain_limit=10_000))
    refused(400, read_limited("12abc", never, 1000))


@pytest.mark.parametrize(
    ("raw", "ctype", "needle"),
    [
        (b'{"a":', "application/json", "not valid JSON"),
        (b"[1,2]", "application/json", "JSON object"),
        (b'{"n": NaN}', "application/json", "not valid JSON"),
        (b"\xff\xfe\x00", "application/json", "not valid JSON"),
        (b"[" * 100_000, "application/json", "not valid JSON"),
        (b'{"n": 1' + b"0" * 5000 + b"}", "application/json", "not valid JSON"),
        (b'{"a":1}', "text/plain", "application/json"),
        (b'{"a":1}', "", "not none"),
        (b"", "application/json", "empty"),
    ],
)
def test_bad_json_is_400(raw: bytes, ctype: str, needle: str) -> None:
    with pytest.raises(GatewayError) as info:
        parse_json(raw, ctype)
    assert info.value.status == 400
    assert needle.replace("not none", "none") in info.value.message


def test_json_with_a_charset_and_vendor_type_is_accepted() -> None:
    assert parse_json(b'{"a":1}', "application/json; charset=utf-8") == {"a": 1}
    assert parse_json(b'{"a":1}', "application/vnd.x+json") == {"a": 1}


def test_multipart_parts_keep_order_names_files_and_values() -> None:
    body = form(
        (b'form-data; name="model"', b"dall-e-2"),
        (b'form-data; name="image[]"; filename="a.png"', b"\x89PNG1"),
        (b'form-data; name="image[]"; filename="b.png"', b"\x89PNG2"),
        (b'form-data; name="fallbacks"', b"openai/x"),
        (b'form-data; name="fallbacks"', b'["openai/y", "openai/z"]'),
    )
    parts = parse_multipart(body, CT, 100)
    assert [p.name for p in parts] == ["model", "image[]", "image[]", "fallbacks", "fallbacks"]
    assert parts[1].filename == "a.png"
    known = frozenset({"model", "image", "image[]", "fallbacks"})
    fields = multipart_fields(parts, frozenset({"image", "image[]"}), frozenset({"image[]", "fallbacks"}), known)
    assert fields == {
        "model": "dall-e-2",
        "image[]": [b"\x89PNG1", b"\x89PNG2"],
        "fallbacks": ["openai/x", "openai/y", "openai/z"],
    }


@pytest.mark.parametrize(
    ("disposition", "needle"),
    [
        (b'form-data; name="a;b"', "malformed name"),
        (b"form-data; name=a;b", None),  # unquoted: name "a" plus a parameter; harmless, accepted
        (b'form-data; name=""', "empty name"),
        (b"form-data", "no name"),
        (b'form-data; name="x\x01y"', "malformed name"),
        (b'form-data; name="x\x7f"', "malformed name"),
        ('form-data; name="x\u200by"'.encode(), "malformed name"),  # a zero-width space: category Cf
        (b'form-data; name="' + b"n" * 300 + b'"', "longer than"),
        (b'form-data; name="\xff"', "not UTF-8"),
        (b'attachment; name="x"', "not form-data"),
    ],
)
def test_hostile_part_names_are_400(disposition: bytes, needle: str | None) -> None:
    body = form((disposition, b"v"))
    if needle is None:
        assert parse_multipart(body, CT, 10)[0].name == "a"
        return
    with pytest.raises(GatewayError) as info:
        parse_multipart(body, CT, 10)
    assert info.value.status == 400
    assert needle in info.value.message


@pytest.mark.parametrize(
    ("body", "ctype", "needle"),
    [
        (form((b'form-data; name="a"', b"v"), end=False), CT, "closing boundary"),
        (b"garbage", CT, "does not occur"),
        (b"--XyZ\r\nno-colon-header\r\n\r\nv\r\n--XyZ--\r\n", CT, "malformed"),
        (b"--XyZ\r\nX-Other: 1\r\n\r\nv\r\n--XyZ--\r\n", CT, "no Content-Disposition"),
        (form((b'form-data; name="a"', b"v")), "multipart/form-data", "boundary"),
        (form((b'form-data; name="a"', b"v")), "multipart/form-data; boundary=" + "b" * 71, "boundary"),
        (form((b'form-data; name="a"', b"v")), "application/json", "multipart/form-data"),
        (form(*[(b'form-data; name="f"', b"v")] * 5000), CT, "more than 128 parts"),
    ],
)
def test_broken_multipart_bodies_are_400(body: bytes, ctype: str, needle: str) -> None:
    with pytest.raises(GatewayError) as info:
        parse_multipart(body, ctype, 128)
    assert info.value.status == 400
    assert needle in info.value.message


@pytest.mark.parametrize("name", ["\u169b\u1684\u1680\u1691\u169c", "caf\u00e9 au lait", "\u4e2d\u6587", "a b"])
def test_unknown_part_names_in_any_script_are_fields_not_malformed(name: str) -> None:
    """The spec lets a request carry fields it does not name; spaces of any script (U+1680) make no name malformed.

    Found by `pixelpact check --seed 1632933217` (schemathesis fuzzed such a name on openaiCreateImageVariation).
    """
    body = form((b'form-data; name="' + name.encode() + b'"', b"v"))
    assert parse_multipart(body, CT, 10)[0].name == name


def test_repeated_scalar_fields_and_bad_text_are_400_naming_the_field() -> None:
    files, lists = frozenset({"image", "image[]"}), frozenset({"image[]", "fallbacks"})
    known = frozenset({"image", "image[]", "fallbacks", "prompt"})
    parts = parse_multipart(form((b'form-data; name="image"', b"1"), (b'form-data; name="image"', b"2")), CT, 10)
    with pytest.raises(GatewayError) as info:
        multipart_fields(parts, files, lists, known)
    assert info.value.param == "image" and "image[]" in info.value.message
    parts = parse_multipart(form((b'form-data; name="prompt"', b"\xff\xfe")), CT, 10)
    with pytest.raises(GatewayError) as info:
        multipart_fields(parts, files, lists, known)
    assert info.value.param == "prompt"
    parts = parse_multipart(form((b'form-data; name="fallbacks"', b"[1,")), CT, 10)
    with pytest.raises(GatewayError) as info:
        multipart_fields(parts, files, lists, known)
    assert info.value.param == "fallbacks"


def test_an_unknown_field_may_repeat_and_is_kept_as_a_list() -> None:
    """Requests tolerate fields the spec does not name; a form sends an unknown array as repeated parts."""
    parts = parse_multipart(
        form((b'form-data; name="model"', b"m"), (b'form-data; name="qk"', b"1"), (b'form-data; name="qk"', b"2")),
        CT,
        10,
    )
    fields = multipart_fields(parts, frozenset(), frozenset(), frozenset({"model"}))
    assert fields == {"model": "m", "qk": ["1", "2"]}


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (b'{"n":1,"n":2}', "n"),
        (b'{"n" :1, "n": 2}', "n"),  # whitespace before the colon
        (b'{"a":"x\\":y","b":{"c":1,"c":1}}', "c"),  # nested, and a string holding `":`
    ],
)
def test_a_json_key_given_twice_is_400_naming_it(raw: bytes, key: str) -> None:
    with pytest.raises(GatewayError) as info:
        parse_json(raw, "application/json")
    assert info.value.status == 400 and info.value.param == key and "more than once" in info.value.message


def test_json_without_repeated_keys_is_read_as_is() -> None:
    raw = b'{"prompt":"say \\"a\\": b", "n" : 2, "x": [{"a": 1}, {"a": 2}]}'
    assert parse_json(raw, "application/json") == {"prompt": 'say "a": b', "n": 2, "x": [{"a": 1}, {"a": 2}]}


KINDS = {"n": "integer", "stream": "boolean", "strength": "number"}


def test_typed_form_text_is_read_as_json_reads_it() -> None:
    fields = {"n": "10", "stream": "false", "strength": "0.5", "prompt": "10 "}
    typed_form_fields(fields, KINDS)
    assert fields == {"n": 10, "stream": False, "strength": 0.5, "prompt": "10 "}


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("n", "10 "),
        ("n", " 10"),
        ("n", "+3"),
        ("n", "1.0"),
        ("n", "1_0"),
        ("n", ""),
        ("stream", "yes"),
        ("stream", "True"),
        ("strength", "1."),
        ("strength", "NaN"),
    ],
)
def test_typed_form_text_json_would_refuse_is_400(name: str, text: str) -> None:
    with pytest.raises(GatewayError) as info:
        typed_form_fields({name: text}, KINDS)
    assert info.value.status == 400 and info.value.param == name
