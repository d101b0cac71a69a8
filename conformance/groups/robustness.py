"""Robustness: hostile multipart part names, a file that is not an image, a huge n, an empty body; none of them may
crash the gateway (5xx or a dropped connection), and the gateway must still answer a valid request afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pixelpact.conformance.catalogue.evidence import rejected, unattributable
from pixelpact.conformance.catalogue.requirements import ROBUSTNESS
from pixelpact.conformance.engine.context import RunContext
from pixelpact.conformance.engine.contract import OperationContract
from pixelpact.conformance.engine.images import png
from pixelpact.conformance.groups._judge import (
    Control,
    control_body,
    error_body_problem,
    expect_rejection,
    guarded,
    judge_probes,
    observe,
    skip,
    transport_problem,
)
from pixelpact.conformance.groups._upstream import send_traced, traced
from pixelpact.conformance.model import Observation
from pixelpact.conformance.wire.http import BOUNDARY, Part

#: Part names a careless multipart parser mishandles: separators, nothing, quotes, control characters.
HOSTILE_NAMES = ("a;b", "", '"quoted"', 'x"; filename="evil.png', "ctl\x01\x1f\x7f", "nul\x00byte", "tab\tname")
#: Filenames of a real image part that a careless parser or a log line mishandles.
HOSTILE_FILENAMES = ('qu"ote.png', "semi;colon.png", "100%.png", "ctl\x01\x1f.png", "", "../../etc/passwd.png")
NOT_AN_IMAGE = b"This is a text file, not an image.\n"
#: A PNG signature and a header chunk, then nothing: passes a magic-byte sniff, fails any decoder.
TRUNCATED_PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00 \x00\x00\x00 \x08\x02"
HUGE_DIGITS = 1000


@dataclass(frozen=True)
class Probe:
    requirement_id: str
    label: str
    body: dict[str, Any] | None = None
    extra_parts: tuple[Part, ...] = ()
    raw: bytes | None = None
    content_type: str | None = None
    error_body: bool = field(default=True)
    """Whether a 4xx answer must carry the spec's error body (hostile names: a 2xx is fine too)."""


class RobustnessGroup:
    name = "robustness"
    requirements = ROBUSTNESS

    def run(self, ctx: RunContext) -> Iterator[Observation]:
        # The controls are sent before any hostile request: they are also the baseline of still-answering (only an
        # operation that answered a valid request before the hostile ones can be said to have stopped answering).
        valid, observations = judge_probes(ctx, probes_for, judge)
        yield from observations
        # Only after every hostile request: a gateway that survives each one but is left broken fails here.
        yield from ctx.map(
            lambda operation: still_answering(ctx, operation, valid[operation.operation_id]), ctx.operations
        )


def probes_for(ctx: RunContext, operation: OperationContract) -> list[Probe]:
    probes: list[Probe] = []
    if operation.is_multipart:
        for name in HOSTILE_NAMES:
            probes.append(
                Probe(
                    "hostile-part-names-survive",
                    f"an extra part named {name!r}",
                    control_body(ctx, operation),
                    extra_parts=(Part(name, "pixelpact"),),
                    error_body=False,
                )
            )
        probes.append(
            Probe(
                "hostile-part-names-survive",
                "an extra file part with a hostile name",
                control_body(ctx, operation),
                extra_parts=(Part('image"\r\nX-Injected: 1', b"GIF89a", filename="a;b.gif"),),
                error_body=False,
            )
        )
        image_part = "image" if "image" in operation.file_fields else sorted(operation.files - {"mask"})[0]
        for filename in HOSTILE_FILENAMES:
            body = control_body(ctx, operation)
            body.pop(image_part, None)
            part = Part(image_part, png(), filename=filename, content_type="image/png")
            probes.append(
                Probe(
                    "hostile-part-names-survive",
                    f"an image part with filename {filename!r}",
                    body,
                    extra_parts=(part,),
                    error_body=False,
                )
            )
        for name in sorted(operation.files - {"mask"}):
            for label, content in (("a text file", NOT_AN_IMAGE), ("a truncated PNG", TRUNCATED_PNG)):
                value: Any = [content] if name in operation.file_list_fields else content
                body = control_body(ctx, operation, **{name: value})
                for other in operation.files - {name, "mask"}:
                    body.pop(other, None)  # the bad file must be the only image, or the gateway may use another one
                probes.append(Probe("non-image-file-rejected", f"{label} as {name}", body))
    if operation.integer_range("n") is not None:
        huge = "9" * HUGE_DIGITS
        value = huge if operation.is_multipart else int(huge)
        probes.append(
            Probe("huge-number-rejected", f"n with {HUGE_DIGITS} digits", control_body(ctx, operation, n=value))
        )
    empty_type = f"multipart/form-data; boundary={BOUNDARY}" if operation.is_multipart else operation.media_type
    probes.append(Probe("empty-body-rejected", "an empty body", raw=b"", content_type=empty_type))
    return probes


def judge(ctx: RunContext, operation: OperationContract, probe: Probe, valid: Control) -> list[Observation]:
    return guarded((probe.requirement_id,), operation, lambda: _judge(ctx, operation, probe, valid))


def _judge(ctx: RunContext, operation: OperationContract, probe: Probe, valid: Control) -> list[Observation]:
    reply, trace = send_traced(
        ctx, operation, probe.body, extra_parts=probe.extra_parts, raw=probe.raw, content_type=probe.content_type
    )
    sent = f"sent {probe.label}"
    if probe.error_body:
        observations = [expect_rejection(probe.requirement_id, operation, reply, sent, valid)]
    elif unattributable(reply.status) is not None:
        # a 401/404/429/redirect: the gateway never read the hostile parts
        why = f"{sent}: got {unattributable(reply.status)}"
        observations = [skip(probe.requirement_id, operation, why, reply=reply)]
    elif rejected(reply.status) and valid.problem is not None:
        why = f"{sent}: got {reply.status}, but the valid request got {valid.problem}: the parts may not have been read"
        observations = [skip(probe.requirement_id, operation, why, valid.reason, reply=reply)]
    else:
        problem = transport_problem(reply)
        if problem is None and reply.status is not None and reply.status >= 500:
            problem = f"expected a 4xx or a 2xx, got {reply.status}"
        elif problem is None and reply.status is not None and reply.status < 300 and not operation.extra_fields_allowed:
            problem = (
                f"expected a 4xx: got {reply.status}, but the spec forbids extra parts (additionalProperties: false)"
            )
        observations = [observe(probe.requirement_id, operation, f"{sent}: {problem}" if problem else None, reply)]
    if reply.status is not None and 400 <= reply.status < 500:
        problem = error_body_problem(reply, operation)
        observations.append(observe("error-body-shape", operation, f"{sent}: {problem}" if problem else None, reply))
    return traced(ctx, trace, reply, observations)


def still_answering(ctx: RunContext, operation: OperationContract, before: Control | None = None) -> Observation:
    if before is not None and before.problem is not None:
        why = f"the valid request before the hostile ones was not accepted ({before.problem}): nothing to compare with"
        return skip("still-answering", operation, why, before.reason)

    def probe() -> list[Observation]:
        reply = ctx.send(operation, control_body(ctx, operation))
        problem = transport_problem(reply)
        if problem is None and reply.status != 200:
            problem = f"got {reply.status}"
        message = f"a valid request after the hostile ones: expected 200, {problem}" if problem else None
        return [observe("still-answering", operation, message, reply)]

    return guarded(("still-answering",), operation, probe)[0]


GROUP = RobustnessGroup()
