"""Real images for request bodies (Pillow-made PNGs) and the decoding of the images a gateway returns."""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import threading
from functools import lru_cache

from PIL import Image, UnidentifiedImageError

#: The formats a returned image may have (ImageFile: "An image file (PNG, JPEG or WebP)").
ACCEPTED_FORMATS = frozenset({"PNG", "JPEG", "WEBP"})
THUMBNAIL_SIDE = 96
THUMBNAILS_CACHED = 512


@lru_cache(maxsize=64)
def png(width: int = 32, height: int = 32, color: tuple[int, int, int] = (200, 60, 40)) -> bytes:
    """An opaque RGB PNG of the given size and colour; distinct colours give distinct bytes (and hashes)."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


@lru_cache(maxsize=8)
def mask_png(width: int = 32, height: int = 32) -> bytes:
    """An RGBA PNG whose left half is transparent: the area an edit may change."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 255))
    image.paste((0, 0, 0, 0), (0, 0, width // 2, height))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def distinct_pngs(count: int, width: int = 32, height: int = 32) -> list[bytes]:
    """`count` PNGs that differ in colour, so a gateway that mixes up files can be told apart."""
    palette = [(200, 60, 40), (40, 160, 90), (50, 80, 210), (230, 200, 30), (120, 40, 160)]
    return [png(width, height, palette[i % len(palette)]) for i in range(count)]


class NotAnImage(ValueError):
    """Bytes (or base64 text) that do not decode to a PNG, JPEG or WebP image."""


def decode_image(data: bytes) -> tuple[str, int, int]:
    """(format, width, height) of an image in an accepted format; raises NotAnImage otherwise."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify() if image.format == "PNG" else image.load()
            fmt, (width, height) = image.format or "", image.size
    except UnidentifiedImageError:
        # Pillow's message names the BytesIO object by its address: a report must read the same on every run.
        raise NotAnImage("not a decodable image (no PNG, JPEG or WebP header)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise NotAnImage(f"not a decodable image ({exc})") from None
    if fmt not in ACCEPTED_FORMATS:
        raise NotAnImage(f"a {fmt or 'unknown'} image, expected PNG, JPEG or WebP")
    return fmt, width, height


def decode_b64(text: object) -> bytes:
    """The bytes of a base64 string; raises NotAnImage when it is not a string or not base64."""
    if not isinstance(text, str) or not text:
        raise NotAnImage(f"b64_json is {type(text).__name__ if not isinstance(text, str) else 'empty'}")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NotAnImage(f"b64_json is not valid base64 ({exc})") from None


def thumbnail(data: bytes) -> bytes | None:
    """A small PNG of an image for the HTML report, or None when it cannot be read.

    Cached by content: gateways (and the stub) often return the same picture many times, and decoding a 1792x1024
    image for a thumbnail costs more than the request that brought it.
    """
    key = hashlib.blake2b(data, digest_size=16).digest()
    with _THUMBNAILS_LOCK:
        if key in _THUMBNAILS:
            return _THUMBNAILS[key]
    small = _thumbnail(data)
    with _THUMBNAILS_LOCK:
        if len(_THUMBNAILS) >= THUMBNAILS_CACHED:
            _THUMBNAILS.clear()  # a crude bound; runs return few distinct pictures
        _THUMBNAILS[key] = small
    return small


_THUMBNAILS: dict[bytes, bytes | None] = {}
_THUMBNAILS_LOCK = threading.Lock()


def _thumbnail(data: bytes) -> bytes | None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
            buffer = io.BytesIO()
            image.convert("RGBA").save(buffer, format="PNG")
            return buffer.getvalue()
    except (UnidentifiedImageError, OSError, ValueError):
        return None
