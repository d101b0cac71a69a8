"""Successful answers filled in as the spec describes: JSON image responses and the events of an image stream."""

from __future__ import annotations

import functools
import math
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from pixelpact.generator.runtime.fallbacks import Choice
from pixelpact.generator.runtime.images import ImageSpec, encoded, parse_size

REQUEST_TYPES = {"generation": "image_generation", "edit": "image_edit", "variation": "image_variation"}
#: The openai SDK discriminates stream events by this prefix of `type`.
EVENT_PREFIX = {"generation": "image_generation", "edit": "image_edit", "variation": "image_generation"}


@dataclass(slots=True)
class Plan:
    """What to answer, derived once from a validated request (not frozen: a frozen dataclass is slow to build)."""

    kind: str
    n: int
    width: int
    height: int
    output_format: str
    transparent: bool
    response_format: str
    quality: str
    background: str
    prompt: str | None
    input_images: int
    choice: Choice
    requested: str

    def spec(self, index: int, partial: bool = False) -> ImageSpec:
        return _spec(self.width, self.height, self.output_format, self.transparent, index % 10, partial)

    def specs(self, partial_images: int = 0) -> Iterator[ImageSpec]:
        """Every picture the answer sends (with `partial_images` partial pictures per image, in a stream)."""
        for index in range(min(self.n, 10)):  # image i is picture i % 10: ten cover every n
            yield self.spec(index)
            if partial_images:  # one partial picture per image: partial events differ by partial_image_index only
                yield self.spec(index, partial=True)

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"

    def key(self) -> tuple[Any, ...]:
        """Everything an answer depends on apart from its id, time and latency (plain values: it is hashed for every
        answer, and a dataclass such as Choice hashes in Python)."""
        return (
            self.kind, self.n, self.width, self.height, self.output_format, self.transparent, self.response_format,
            self.quality, self.background, self.prompt, self.input_images, self.choice.model, self.choice.index,
            self.requested,
        )  # fmt: skip


@functools.lru_cache(maxsize=1024)
def _spec(width: int, height: int, output_format: str, transparent: bool, variant: int, partial: bool) -> ImageSpec:
    """One ImageSpec object per picture, so its URL below is computed once (a spec's values are few and bounded)."""
    return ImageSpec(width, height, output_format, transparent, variant, partial)


@functools.lru_cache(maxsize=1024)
def _url(base_url: str, spec: ImageSpec) -> str:
    return f"{base_url}_pixelpact/images/{spec.name}"


#: The answers' ids come from a generator of their own, not the module's global one: hypothesis re-seeds that one for
#: every test case it runs, so an in-process stub (a check's, or one in a test) gave the first answer of every case
#: the same id, and each answer moved the global state the code under test draws from.
_IDS = random.Random()


def response_id() -> str:
    """A fresh answer id, `img-` and 32 hex digits: unique, not secret (getrandbits: no system call)."""
    return f"img-{_IDS.getrandbits(128):032x}"


def make_plan(kind: str, fields: dict[str, Any], requested: str, choice: Choice, input_images: int) -> Plan:
    """A Plan from the request's fields (wire names, plain values)."""
    output_format = fields.get("output_format") or "png"
    # JPEG has no alpha: a transparent JPEG is served opaque and says so. The spec allows the combination, so refusing
    # it would make the stub stricter than the contract it embodies.
    background = fields.get("background") or "auto"
    transparent = background == "transparent" and output_format != "jpeg"
    width, height = parse_size(fields.get("size"))
    # Positional: a dataclass's __init__ takes keywords several times slower, and this runs for every request.
    return Plan(
        kind,
        int(fields.get("n") or 1),
        width,
        height,
        output_format,
        transparent,
        fields.get("response_format") or "url",
        fields.get("quality") or ("standard" if "dall-e" in choice.model else "auto"),
        "transparent" if transparent else "opaque",
        fields.get("prompt"),
        input_images,
        choice,
        requested,
    )


def usage(plan: Plan) -> dict[str, Any]:
    """Token usage in the shape gpt-image models report; the counts are synthetic but consistent."""
    text_tokens = math.ceil(len(plan.prompt or "") / 4)
    image_in = 65 * plan.input_images
    per_image = math.ceil(plan.width / 32) * math.ceil(plan.height / 32)
    output = per_image * plan.n
    return {
        "input_tokens": text_tokens + image_in,
        "input_tokens_details": {"image_tokens": image_in, "text_tokens": text_tokens},
        "output_tokens": output,
        "output_tokens_details": {"image_tokens": output, "text_tokens": 0},
        "total_tokens": text_tokens + image_in + output,
    }


def extra_fields(plan: Plan, started: float, stream: bool) -> dict[str, Any]:
    request_type = REQUEST_TYPES[plan.kind] + ("_stream" if stream else "")
    return {
        "request_type": request_type,
        "provider": plan.choice.provider,
        "model_requested": plan.requested,
        "model_deployment": plan.choice.model,
        "latency": max(0, int((time.perf_counter() - started) * 1000)),
    }


#: Encoded answers by Plan.key() and base URL, without their id, time and latency (see image_response_body).
_ANSWERS: dict[tuple[Any, ...], bytes] = {}
_ANSWERS_LOCK = threading.Lock()
#: At most this many kept, each at most ANSWER_CACHE_BYTES: enough for the few request shapes a client repeats.
ANSWER_CACHE_SIZE = 256
ANSWER_CACHE_BYTES = 16 * 1024


def image_response_body(plan: Plan, base_url: str, started: float) -> bytes:
    """The JSON body of a 200, encoded: n images as URLs the stub serves or as base64, plus the Bifrost fields.

    The same request gets the same answer but for its id, `created` and the latency in extra_fields, so the rest is
    encoded once per request shape and base URL and reused (small answers only: a base64 one is mostly its images,
    which are spliced in pre-encoded anyway). The keys are in the order `image_response` gives them.
    """
    key = (*plan.key(), base_url)
    middle = _ANSWERS.get(key)
    if middle is None:
        answer = image_response(plan, base_url, started)
        del answer["id"], answer["created"], answer["extra_fields"]["latency"]
        # '{"model":...,"extra_fields":{...,"model_deployment":"..."}}' without its first and last two characters:
        # what follows `"created":N,` and precedes `,"latency":N}}`.
        middle = orjson.dumps(answer)[1:-2]
        if len(middle) <= ANSWER_CACHE_BYTES:
            with _ANSWERS_LOCK:  # stubs in one process (tests, a check's upstream) answer on threads of their own
                if len(_ANSWERS) >= ANSWER_CACHE_SIZE:
                    _ANSWERS.pop(next(iter(_ANSWERS)), None)
                _ANSWERS[key] = middle
    latency = max(0, int((time.perf_counter() - started) * 1000))
    return b'{"id":"img-%032x","created":%d,%b,"latency":%d}}' % (
        _IDS.getrandbits(128),
        int(time.time()),
        middle,
        latency,
    )


def image_response(plan: Plan, base_url: str, started: float) -> dict[str, Any]:
    """The JSON body of a 200 as a dict (`image_response_body` is the same, encoded and cached).

    A b64_json image is an orjson.Fragment, the picture's base64 already encoded as a JSON string once for all
    answers (`images.encoded`): orjson copies it into the body rather than scan a megabyte of text per answer.
    """
    data: list[dict[str, Any]] = []
    b64 = plan.response_format == "b64_json"
    for index in range(plan.n):
        spec = plan.spec(index)
        item: dict[str, Any] = {"b64_json": encoded(spec).json_b64} if b64 else {"url": _url(base_url, spec)}
        if plan.prompt and "dall-e-3" in plan.choice.model:
            item["revised_prompt"] = plan.prompt  # dall-e-3 is the model that reports a revised prompt
        item["index"] = index
        data.append(item)
    return {
        "id": response_id(),
        "created": int(time.time()),
        "model": plan.choice.model,
        "data": data,
        "background": plan.background,
        "output_format": plan.output_format,
        "quality": plan.quality,
        "size": plan.size,
        "usage": usage(plan),
        "extra_fields": extra_fields(plan, started, stream=False),
    }


def stream_events(plan: Plan, started: float, partial_images: int) -> list[dict[str, Any]]:
    """partial_images partial-image events, then one completed event with usage, for each image."""
    prefix = EVENT_PREFIX[plan.kind]
    created = int(time.time())
    request_id = response_id()
    common = {
        "created_at": created,
        "size": plan.size,
        "quality": plan.quality,
        "background": plan.background,
        "output_format": plan.output_format,
    }
    events: list[dict[str, Any]] = []
    sequence = 0
    for index in range(plan.n):
        for partial in range(partial_images):
            events.append(
                {
                    "id": request_id,
                    "type": f"{prefix}.partial_image",
                    "b64_json": encoded(plan.spec(index, partial=True)).json_b64,
                    "partial_image_index": partial,
                    "sequence_number": sequence,
                    **common,
                    "extra_fields": {**extra_fields(plan, started, stream=True), "chunk_index": sequence},
                }
            )
            sequence += 1
        completed: dict[str, Any] = {
            "id": request_id,
            "type": f"{prefix}.completed",
            "b64_json": encoded(plan.spec(index)).json_b64,
            "sequence_number": sequence,
            **common,
            "usage": usage(plan),
            "extra_fields": {**extra_fields(plan, started, stream=True), "chunk_index": sequence},
        }
        if plan.prompt and "dall-e-3" in plan.choice.model:
            completed["revised_prompt"] = plan.prompt
        events.append(completed)
        sequence += 1
    return events
