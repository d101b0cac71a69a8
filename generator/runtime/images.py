"""Real images: synthesised at the requested pixel size (cached), and uploaded files checked to be images."""

from __future__ import annotations

import asyncio
import base64
import functools
import io
import re
import threading
import warnings
from collections.abc import Iterable
from dataclasses import dataclass

import orjson
from PIL import Image, ImageDraw

from pixelpact.generator.runtime.errors import GatewayError

#: Every size the spec's size enums name; URLs and rendering accept only these, so no request can make us draw a
#: gigapixel image.
SIZES: frozenset[tuple[int, int]] = frozenset(
    {(256, 256), (512, 512), (1024, 1024), (1792, 1024), (1024, 1792), (1536, 1024), (1024, 1536)}
)
#: What "auto" (or no size at all) means.
AUTO_SIZE = (1024, 1024)
FORMATS = {"png": ("PNG", "image/png"), "jpeg": ("JPEG", "image/jpeg"), "webp": ("WEBP", "image/webp")}
#: Upload formats the spec accepts ("An image file (PNG, JPEG or WebP)").
UPLOAD_FORMATS = frozenset({"PNG", "JPEG", "WEBP"})
#: Distinct pictures: image i of a response is picture i % VARIANTS, so n images differ from each other.
VARIANTS = 10
_PALETTE = [
    (231, 76, 60), (46, 204, 113), (52, 152, 219), (241, 196, 15), (155, 89, 182),
    (26, 188, 156), (230, 126, 34), (52, 73, 94), (236, 240, 241), (149, 165, 166),
]  # fmt: skip
_NAME = re.compile(r"^(\d{3,4})x(\d{3,4})-(opaque|transparent)-(p?)(\d)\.(png|jpeg|webp)$")


@dataclass(frozen=True)
class ImageSpec:
    """One picture the stub can serve: its pixels, encoding and which variant (partial pictures are separate)."""

    width: int
    height: int
    output_format: str = "png"
    transparent: bool = False
    variant: int = 0
    partial: bool = False

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"

    @property
    def content_type(self) -> str:
        return FORMATS[self.output_format][1]

    @property
    def name(self) -> str:
        """The file name under /_pixelpact/images/; `from_name` reads it back."""
        bg = "transparent" if self.transparent else "opaque"
        return f"{self.size}-{bg}-{'p' if self.partial else ''}{self.variant}.{self.output_format}"

    @staticmethod
    def from_name(name: str) -> ImageSpec | None:
        match = _NAME.match(name)
        if match is None:
            return None
        width, height = int(match[1]), int(match[2])
        if (width, height) not in SIZES:
            return None
        return ImageSpec(width, height, match[6], match[3] == "transparent", int(match[5]), match[4] == "p")


@functools.lru_cache(maxsize=64)
def parse_size(size: str | None) -> tuple[int, int]:
    """Pixel dimensions of a size value that validation already accepted; "auto" and None pick AUTO_SIZE."""
    if size is None or size == "auto":
        return AUTO_SIZE
    width, _, height = size.partition("x")
    dims = (int(width), int(height))
    return dims if dims in SIZES else AUTO_SIZE


def _draw(spec: ImageSpec) -> bytes:
    """The picture of `spec`, encoded: tens of milliseconds for a large one, so it is done once per spec (ENCODED)."""
    color = _PALETTE[spec.variant % len(_PALETTE)]
    mode = "RGBA" if spec.transparent and spec.output_format != "jpeg" else "RGB"
    background = (0, 0, 0, 0) if mode == "RGBA" else (250, 250, 250)
    img = Image.new(mode, (spec.width, spec.height), background)
    draw = ImageDraw.Draw(img)
    # A centred disc, smaller in partial pictures: real content a viewer can tell apart, cheap to encode.
    scale = 0.25 if spec.partial else 0.4
    r = int(min(spec.width, spec.height) * scale)
    cx, cy = spec.width // 2, spec.height // 2
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=color if mode == "RGB" else (*color, 255))
    out = io.BytesIO()
    fmt = FORMATS[spec.output_format][0]
    if fmt == "PNG":
        img.save(out, fmt, compress_level=6)
    else:
        img.save(out, fmt, quality=80)
    return out.getvalue()


@dataclass(frozen=True)
class Encoded:
    """One picture in every form an answer sends it: the file, its base64 text, and that text as a JSON string."""

    data: bytes
    b64: str
    json_b64: orjson.Fragment
    """`b64` already encoded as a JSON string, spliced into an answer by orjson without being scanned again."""


#: Pictures encoded so far, by spec (at most CACHE_LIMIT; the oldest goes first). Few specs exist (sizes x formats x
#: backgrounds x VARIANTS x partial), and every request for one after the first costs a dictionary lookup.
ENCODED: dict[ImageSpec, Encoded] = {}
_ENCODED_LOCK = threading.Lock()
CACHE_LIMIT = 512


def encoded(spec: ImageSpec) -> Encoded:
    """The encoded picture of `spec`, drawn on first use (see `prepare` to do that off the event loop)."""
    known = ENCODED.get(spec)
    if known is None:
        data = _draw(spec)
        b64 = base64.b64encode(data)
        known = Encoded(data, b64.decode("ascii"), orjson.Fragment(b'"' + b64 + b'"'))
        with _ENCODED_LOCK:  # worker threads (`prepare`) and the event loop add pictures
            while len(ENCODED) >= CACHE_LIMIT:
                ENCODED.pop(next(iter(ENCODED)), None)
            ENCODED[spec] = known
    return known


def render(spec: ImageSpec) -> bytes:
    """The encoded picture (cached: after the first request a large size costs what a small one does)."""
    return encoded(spec).data


def render_b64(spec: ImageSpec) -> str:
    """`render` as base64 text (cached too: encoding a large picture per request is not free)."""
    return encoded(spec).b64


async def prepare(specs: Iterable[ImageSpec]) -> None:
    """Draw the pictures of `specs` not encoded yet in a worker thread (Pillow releases the GIL while it draws).

    A first large picture takes tens of milliseconds; drawn on the event loop it would hold up every other
    connection's request that long. Cached pictures cost nothing here.
    """
    missing = [spec for spec in specs if spec not in ENCODED]
    if missing:
        await asyncio.get_running_loop().run_in_executor(None, _encode_all, missing)


def _encode_all(specs: list[ImageSpec]) -> None:
    for spec in specs:
        encoded(spec)


def check_upload(data: bytes, param: str, *, png_only: bool = False, digest: str | None = None) -> tuple[str, int, int]:
    """Format and size of an uploaded image; a 400 naming `param` if it is empty, not an image, or not allowed.

    With `digest` (the file's sha256, which the recording computes anyway) a file seen before is not decoded again:
    tests and gateways in front of the stub send the same fixtures over and over.
    """
    if digest is not None:
        known = _checked.get((digest, png_only))
        if known is not None:
            return known
    result = _check_upload(data, param, png_only)
    if digest is not None:
        if len(_checked) >= 1024:
            _checked.clear()  # bounded; re-decoding now and then is cheap
        _checked[(digest, png_only)] = result
    return result


#: sha256 and png_only -> format and size, of uploads that passed the check.
_checked: dict[tuple[str, bool], tuple[str, int, int]] = {}


def _check_upload(data: bytes, param: str, png_only: bool) -> tuple[str, int, int]:
    if not data:
        raise GatewayError(400, f"{param} is an empty file; an image (PNG, JPEG or WebP) is required", param)
    allowed = {"PNG"} if png_only else UPLOAD_FORMATS
    try:
        with warnings.catch_warnings():
            # DecompressionBombWarning would otherwise only be logged; treat it like the error it nearly is.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                fmt = img.format or ""
                width, height = img.size
                if fmt in allowed:
                    img.verify()
    except Exception:
        # Pillow raises a zoo of types (UnidentifiedImageError, SyntaxError, struct.error, OSError ...) for bad data.
        kinds = "a PNG" if png_only else "a PNG, JPEG or WebP image"
        raise GatewayError(400, f"{param} is not {kinds} (the file could not be decoded)", param) from None
    if fmt not in allowed:
        kinds = "PNG" if png_only else "PNG, JPEG or WebP"
        raise GatewayError(400, f"{param} is a {fmt or 'unknown'} file; {kinds} is required", param)
    return fmt, width, height
