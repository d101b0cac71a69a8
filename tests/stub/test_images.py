"""Synthesised images are real, the requested size, cached; uploads that are not images are refused."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image

from pixelpact.generator.runtime.errors import GatewayError
from pixelpact.generator.runtime.images import ImageSpec, check_upload, parse_size, render, render_b64
from tests.stub.conftest import png


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_rendered_images_decode_to_the_requested_size_and_format(fmt: str) -> None:
    spec = ImageSpec(1536, 1024, fmt, transparent=fmt != "jpeg", variant=3)
    with Image.open(io.BytesIO(render(spec))) as img:
        assert img.size == (1536, 1024)
        assert img.format == {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}[fmt]
        if fmt == "png":
            assert img.mode == "RGBA" and img.getpixel((0, 0))[3] == 0  # transparent background


def test_variants_differ_and_auto_picks_a_square() -> None:
    assert render(ImageSpec(256, 256, variant=0)) != render(ImageSpec(256, 256, variant=1))
    assert parse_size("auto") == parse_size(None) == (1024, 1024)
    assert parse_size("1024x1792") == (1024, 1792)


def test_a_large_image_costs_nothing_after_the_first_render() -> None:
    spec = ImageSpec(1792, 1024, "png", variant=7)
    render_b64(spec)
    start = time.perf_counter()
    for _ in range(1000):
        render_b64(spec)
    assert time.perf_counter() - start < 0.05


def test_names_round_trip_and_unknown_sizes_are_not_served() -> None:
    spec = ImageSpec(1024, 1792, "webp", True, 9, partial=True)
    assert ImageSpec.from_name(spec.name) == spec
    assert ImageSpec.from_name("4096x4096-opaque-0.png") is None
    assert ImageSpec.from_name("../../etc/passwd") is None


@pytest.mark.parametrize(
    ("data", "png_only", "needle"),
    [
        (b"", False, "empty"),
        (b"hello, not an image", False, "not a PNG"),
        (png()[:30], False, "not a PNG"),
        (png(fmt="GIF"), False, "GIF"),
        (png(fmt="JPEG"), True, "PNG is required"),
    ],
)
def test_uploads_that_are_not_allowed_images_are_400(data: bytes, png_only: bool, needle: str) -> None:
    with pytest.raises(GatewayError) as info:
        check_upload(data, "image[]", png_only=png_only)
    assert info.value.status == 400 and info.value.param == "image[]"
    assert needle in info.value.message


def test_real_uploads_are_accepted() -> None:
    assert check_upload(png(5, 7), "image") == ("PNG", 5, 7)
    assert check_upload(png(fmt="WEBP"), "image")[0] == "WEBP"
    assert check_upload(png(fmt="JPEG"), "image")[0] == "JPEG"
