"""What a run spends at the provider, and the budget that bounds it: requests, images asked for, megapixels.

A gateway in production sits in front of paid providers that bill per generated image (and by its size), so the
suite counts, for every request it sends, the images that request asks a provider to generate: `n` (1 when absent)
at `size` on the image routes, read from the JSON body, the multipart parts or the raw body as sent. A request the
contract says must be refused (n outside 1..MAX_N or not an integer, a size that is neither WxH nor auto) is counted
as asking for none: a conforming gateway refuses it before any provider runs. Every other request counts, even one
a conforming gateway refuses for another reason (a missing prompt): the count is an upper bound of what a provider
bills. `Budget.spend` is called by the Sender before each request and raises `BudgetExhausted` when the request
would go over `--max-requests` or `--max-images`.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pixelpact.conformance.model import Unjudged

#: The largest n any image API of the spec accepts; beyond it a request asks for nothing a gateway may grant.
MAX_N = 10
#: The size a provider generates when the request names none (or "auto"): OpenAI's default, 1024x1024.
DEFAULT_SIZE = (1024, 1024)
_SIZE = re.compile(r"^\s*(\d{1,5})x(\d{1,5})\s*$")
_IMAGE_ROUTE = re.compile(r"/images/(generations|edits|variations)/?$")
_PART = re.compile(rb'Content-Disposition:[^\r\n]*name="([^"]*)"[^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n', re.IGNORECASE)


class BudgetExhausted(Exception):
    """The budget is spent (or the provider keeps refusing); the probe that wanted to send is not judged."""

    reason: Unjudged = Unjudged.BUDGET


@dataclass(frozen=True)
class Ask:
    """What one request asks a provider to generate."""

    images: int = 0
    megapixels: float = 0.0


@dataclass
class Spent:
    """Running totals: requests sent, images asked for, their megapixels."""

    requests: int = 0
    images: int = 0
    megapixels: float = 0.0

    def add(self, ask: Ask) -> None:
        self.requests += 1
        self.images += ask.images
        self.megapixels += ask.megapixels

    def minus(self, other: Spent) -> Spent:
        return Spent(self.requests - other.requests, self.images - other.images, self.megapixels - other.megapixels)

    def plus(self, other: Spent) -> Spent:
        return Spent(self.requests + other.requests, self.images + other.images, self.megapixels + other.megapixels)

    def as_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "images": self.images, "megapixels": round(self.megapixels, 3)}


def ask_of(method: str, url: str, fields: dict[str, str]) -> Ask:
    """The images a request with these body fields (as text) asks for; none off the image routes."""
    if method.upper() != "POST" or not _IMAGE_ROUTE.search(urlsplit(url).path):
        return Ask()
    n_text = fields.get("n")
    if n_text is None:
        n = 1
    else:
        try:
            n = int(n_text)
        except ValueError:
            return Ask()
        if not 1 <= n <= MAX_N:
            return Ask()
    size = fields.get("size")
    match = _SIZE.match(size or "")
    if size is not None and match is None and size != "auto":
        return Ask()  # an unknown size: refused before any provider runs
    width, height = (int(match.group(1)), int(match.group(2))) if match else DEFAULT_SIZE
    return Ask(n, n * width * height / 1_000_000)


def body_fields(json_body: Any, parts: Any, raw: bytes | None, content_type: str | None) -> dict[str, str]:
    """n and size as text from whatever form the body takes (a JSON value, multipart parts, raw bytes)."""
    wanted = ("n", "size")
    if json_body is None and parts is None and raw:
        if content_type and "multipart" in content_type:
            return _raw_multipart(raw, wanted)
        try:
            json_body = json.loads(raw)
        except ValueError:
            return {}
    if isinstance(json_body, dict):
        return {name: _text(json_body[name]) for name in wanted if name in json_body}
    if parts is not None:
        found: dict[str, str] = {}
        for part in parts:
            if part.name in wanted and part.filename is None and part.name not in found:
                found[part.name] = part.value if isinstance(part.value, str) else part.value.decode("utf-8", "replace")
        return found
    return {}


def _raw_multipart(raw: bytes, wanted: tuple[str, ...]) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in _PART.finditer(raw):
        name = match.group(1).decode("utf-8", "replace")
        if name in wanted and name not in found:
            end = raw.find(b"\r\n--", match.end())
            found[name] = raw[match.end() : end if end >= 0 else len(raw)].decode("utf-8", "replace")
    return found


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"  # n=true is not an integer
    return value if isinstance(value, str) else json.dumps(value)


@dataclass
class Budget:
    """Thread-safe counter of what a run spends, refusing requests beyond --max-requests or --max-images."""

    max_requests: int | None = None
    max_images: int | None = None
    spent: Spent = field(default_factory=Spent)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def spend(self, ask: Ask) -> None:
        """Count one request; raises BudgetExhausted (counting nothing) when it would go over a limit."""
        with self._lock:
            if self.max_requests is not None and self.spent.requests >= self.max_requests:
                raise BudgetExhausted(f"the request budget (--max-requests {self.max_requests}) is spent")
            if self.max_images is not None and ask.images and self.spent.images + ask.images > self.max_images:
                raise BudgetExhausted(
                    f"the image budget ({self.max_images} images) is spent: {self.spent.images} asked for, "
                    f"this request asks for {ask.images} more"
                )
            self.spent.add(ask)

    def retry(self) -> None:
        """Count a retried request (after a 429): a request, but no new images (the refused one made none)."""
        self.spend(Ask())

    def snapshot(self) -> Spent:
        with self._lock:
            return Spent(self.spent.requests, self.spent.images, self.spent.megapixels)


def body_cost(body: Any) -> float:
    """What a body (a dict of wire names, as the groups build it) would cost on an image route: its megapixels,
    plus a little per image so that among free requests the order stays, and n=1 beats n=2 at equal size."""
    if not isinstance(body, dict):
        return 0.0
    ask = ask_of("POST", "/v1/images/generations", {k: _text(v) for k, v in body.items() if k in ("n", "size")})
    return ask.megapixels + ask.images / 1000
