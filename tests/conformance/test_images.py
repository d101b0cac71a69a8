"""Decoding the images a gateway returns: the verdict's words are the same on every run."""

from __future__ import annotations

import pytest

from pixelpact.conformance.engine.images import NotAnImage, decode_image, png


def test_a_body_that_is_no_image_is_said_without_a_memory_address() -> None:
    messages = set()
    for _ in range(3):
        with pytest.raises(NotAnImage) as caught:
            decode_image(b"<html>not an image</html>")
        messages.add(str(caught.value))
    assert messages == {"not a decodable image (no PNG, JPEG or WebP header)"}


def test_a_png_decodes_to_its_format_and_size() -> None:
    assert decode_image(png(3, 2)) == ("PNG", 3, 2)
