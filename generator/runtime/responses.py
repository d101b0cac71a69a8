"""Successful answers filled in as the spec describes: JSON image responses and the events of an image stream."""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass
from typing import Any

from pixelpact.generator.runtime.fallbacks import Choice
from pixelpact.generator.runtime.images import ImageSpec, parse_size, render_b64

REQUEST_TYPES = {"generation": "image_generation", "edit": "image_edit", "variation": "image_variation"}
#: The openai SDK discriminates stream events by this prefix of `type`.
EVENT_PREFIX = {"generation": "image_generation", "edit": "image_edit", "variation": "image_generation"}


@dataclass(frozen=True)
class Plan:
    """What to answer, derived once from a validated request."""

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
        return ImageSpec(self.width, self.height, self.output_format, self.transparent, index % 10, partial)

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"


def make_plan(kind: str, fields: dict[str, Any], requested: str, choice: Choice, input_images: int) -> Plan:
    """A Plan from the request's fields (wire names, plain values)."""
    output_format = fields.get("output_format") or "png"
    # JPEG has no alpha: a transparent JPEG is served opaque and says so. The spec allows the combination, so refusing
    # it would make the stub stricter than the contract it embodies.
    background = fields.get("background") or "auto"
    transparent = background == "transparent" and output_format != "jpeg"
    width, height = parse_size(fields.get("size"))
    return Plan(
        kind=kind,
        n=int(fields.get("n") or 1),
        width=width,
        height=height,
        output_format=output_format,
        transparent=transparent,
        response_format=fields.get("response_format") or "url",
        quality=fields.get("quality") or ("standard" if "dall-e" in choice.model else "auto"),
        background="transparent" if transparent else "opaque",
        prompt=fields.get("prompt"),
        input_images=input_images,
        choice=choice,
        requested=requested,
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


def image_response(plan: Plan, base_url: str, started: float) -> dict[str, Any]:
    """The JSON body of a 200: n images as URLs the stub serves or as base64, plus the Bifrost fields."""
    data: list[dict[str, Any]] = []
    for index in range(plan.n):
        spec = plan.spec(index)
        item: dict[str, Any]
        if plan.response_format == "b64_json":
            item = {"b64_json": render_b64(spec)}
        else:
            item = {"url": f"{base_url}_pixelpact/images/{spec.name}"}
        if plan.prompt and "dall-e-3" in plan.choice.model:
            item["revised_prompt"] = plan.prompt  # dall-e-3 is the model that reports a revised prompt
        item["index"] = index
        data.append(item)
    return {
        "id": f"img-{uuid.uuid4().hex}",
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
    request_id = f"img-{uuid.uuid4().hex}"
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
                    "b64_json": render_b64(plan.spec(index, partial=True)),
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
            "b64_json": render_b64(plan.spec(index)),
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
