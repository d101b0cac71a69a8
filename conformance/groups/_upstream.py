"""The recording upstream, as the groups read it in two-sided runs (--upstream-port): marked requests and their records.

A request sent through the gateway is matched to what reached the provider by a fresh marker in its prompt and user,
or by the sha256 of image files made for it alone, so no custom header (which gateways drop) is needed and concurrent
requests do not mix up. The forwarding group judges what arrived; other groups (streaming) read the records of their
own failed requests to say where a failure broke: at the gateway although the provider answered 2xx, at the provider
(its failure passed on), or before the provider (never forwarded). Reading the recording sends nothing to the gateway.

The deterministic groups' own probes (invalid, robustness) are traced the same way (`send_traced`, `traced`): a probe
that fails says what the provider received, and its observation carries `Seen` (answered 2xx, failed, never reached,
received a changed request), which the findings cluster on and take `where` from. A body that cannot carry a marker
(an empty or truncated one) is found by its size among the records that arrived while it was sent, unparsed.
"""

from __future__ import annotations

import hashlib
import time
import uuid
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import httpx

from pixelpact.conformance.catalogue.findings import GATEWAY_FAULT, PASSED_ON
from pixelpact.conformance.engine.context import RunContext, Upstream
from pixelpact.conformance.engine.contract import OperationContract
from pixelpact.conformance.engine.images import png
from pixelpact.conformance.engine.model_limits import KIND
from pixelpact.conformance.engine.upstream import upstream_url
from pixelpact.conformance.groups.comparison import Differences, compare
from pixelpact.conformance.model import Observation, Seen
from pixelpact.conformance.wire.http import Reply
from pixelpact.generator.runtime.provider_api import PARAMS, SDK, provider_fields

#: How long to wait for a record that has not arrived yet when the gateway has already answered.
RECORD_GRACE_SECONDS = 1.0
UPSTREAM_UNREACHED = "nothing reached the recording upstream"


class Recording:
    """Reads the upstream's recording (GET /_pixelpact/requests) and finds the records of one probe."""

    def __init__(self, upstream: Upstream, timeout: float = 10.0) -> None:
        self.url = upstream_url(upstream) + "/_pixelpact/requests"
        self.timeout = timeout

    def records(self) -> list[dict[str, Any]]:
        """Every request the upstream still holds, oldest first; raises UpstreamError when it cannot be read."""
        try:
            response = httpx.get(self.url, timeout=self.timeout)
            response.raise_for_status()
            entries = response.json()["requests"]
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise UpstreamError(f"cannot read the upstream's recording at {self.url}: {exc}") from None
        return sorted((entry for entry in entries if isinstance(entry, dict)), key=lambda e: int(e.get("seq") or 0))

    def last_seq(self) -> int:
        """The newest record's number (0 for none): records after it arrived later."""
        try:
            response = httpx.get(self.url, params={"limit": 1}, timeout=self.timeout)
            response.raise_for_status()
            return int(response.json()["last_seq"])
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise UpstreamError(f"cannot read the upstream's recording at {self.url}: {exc}") from None

    def matching(self, probe: Probe, *, expect: bool) -> list[dict[str, Any]]:
        """The records of `probe`; when `expect`, waits briefly for a record the gateway may still be sending."""
        deadline = time.monotonic() + (RECORD_GRACE_SECONDS if expect else 0.0)
        while True:
            found = [record for record in self.records() if probe.matches(record)]
            if found or time.monotonic() >= deadline:
                return found
            time.sleep(0.1)


class UpstreamError(Exception):
    """The recording upstream could not be read; the probe's requirements fail with this message."""


# --- probes -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """One request sent through the gateway, with the marks that identify its records at the upstream."""

    label: str
    body: dict[str, Any]
    marker: str
    file_hashes: frozenset[str]

    def matches(self, record: Mapping[str, Any]) -> bool:
        values = record_values(record)
        for name in ("prompt", "user"):
            value = values.get(name)
            if isinstance(value, str) and self.marker in value:
                return True
        return any(file.get("sha256") in self.file_hashes for file in record_files(record))


def new_probe(
    ctx: RunContext,
    operation: OperationContract,
    label: str,
    *,
    files: int = 1,
    mask: bytes | None = None,
    **fields: Any,
) -> Probe:
    """A valid body with `fields`, a fresh marker in prompt and user, and `files` images made for this probe only.

    One file goes in `image` where the operation has it, several in `image[]`.
    """
    return marked(operation, label, ctx.valid_body(operation, **fields), files=files, mask=mask)


def marked(
    operation: OperationContract,
    label: str,
    body: Mapping[str, Any],
    *,
    files: int | None = 1,
    mask: bytes | None = None,
) -> Probe:
    """`body` with a fresh marker in prompt and user, and `files` images made for this probe only in place of its
    files (None: its own files are kept, unless the operation has neither prompt nor user to carry the marker)."""
    marker = f"ppx-{uuid.uuid4().hex[:16]}"
    body = dict(body)
    if files is None and not ({"prompt", "user"} & operation.properties.keys()):
        files = 1  # the files are the only mark left
    hashes: frozenset[str] = frozenset()
    if files is not None and operation.files:
        images = [_unique_png(marker, index) for index in range(files)]
        hashes = frozenset(file_sha256(image) for image in images)
        for name in operation.files:
            body.pop(name, None)
        if "image[]" in operation.file_list_fields and (files > 1 or "image" not in operation.file_fields):
            body["image[]"] = images
        elif "image" in operation.file_fields:
            body["image"] = images[0]
        if mask is not None and "mask" in operation.file_fields:
            body["mask"] = mask
    if "prompt" in operation.properties:
        body["prompt"] = f"a red square on a white table [{marker}]"
    if "user" in operation.properties:
        body["user"] = marker
    return Probe(label, body, marker, hashes)


def _unique_png(marker: str, index: int) -> bytes:
    digest = hashlib.sha256(f"{marker}:{index}".encode()).digest()
    return png(8 + index, 8, (digest[0], digest[1], digest[2]))


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Outcome:
    """A probe's reply and the upstream records that belong to it."""

    probe: Probe
    reply: Reply
    records: list[dict[str, Any]]

    @property
    def client_status(self) -> str:
        if self.reply.status is None:
            return f"no response ({self.reply.error})"
        return str(self.reply.status)


def where_it_broke(outcome: Outcome, what: str, failure: str) -> tuple[str, str | None]:
    """What the provider did with a request whose answer failed (`failure`: how the gateway's answer failed, e.g.
    "the gateway answered 500"), as a sentence, and GATEWAY_FAULT when the provider answered it with a 2xx.

    The last record counts: a gateway that retried is judged by the provider's final answer. The sentences are what
    pixelpact.conformance.catalogue.findings reads for where a failure broke ("the provider answered 2..." for the
    gateway, PASSED_ON for the provider); nothing reaching the provider names neither.
    """
    if not outcome.records:
        return f"nothing reached the provider: the gateway never forwarded the {what}", None
    answered = outcome.records[-1].get("status")
    if isinstance(answered, int) and answered < 300:
        return f"the provider answered {answered} but {failure}", GATEWAY_FAULT
    if isinstance(answered, int) and answered >= 400 and str(answered) == outcome.client_status:
        return f"the provider answered {answered} to the {what}; {PASSED_ON}", None
    return f"the provider answered {answered}, the gateway answered {outcome.client_status}", None


def provider_of(ctx: RunContext, operation: OperationContract) -> str:
    """The provider API behind an operation: Azure OpenAI on the Azure deployment routes, else the provider of the
    run's model (`openai/dall-e-3` -> openai; a bare name is OpenAI's, as the OpenAI-compatible route assumes)."""
    if operation.family == "azure":
        return "azure"
    provider, sep, _ = ctx.model.partition("/")
    return provider if sep and provider else "openai"


def filtered_out(ctx: RunContext, operation: OperationContract, dropped: dict[str, Any]) -> str:
    """Takes out of `dropped` the fields the provider's API does not take (the gateway may filter them, as Bifrost
    does per provider); says which, with the values sent. A provider the table does not know filters nothing."""
    provider = provider_of(ctx, operation)
    taken = provider_fields(provider, KIND[operation.kind])
    if taken is None:
        return ""
    filtered = {name: dropped.pop(name) for name in list(dropped) if name not in taken}
    if not filtered:
        return ""
    shown = ", ".join(f"{name} (sent {value!r})" for name, value in filtered.items())
    source = f"{SDK} {PARAMS[KIND[operation.kind]]}"
    return f"filtered by the gateway, which {provider}'s image API does not take ({source}): {shown}"


def seen_by(outcome: Outcome) -> Seen:
    """What the provider saw of a probe, by its last record (a gateway that retried is judged by the final answer)."""
    if not outcome.records:
        return Seen.UNREACHED
    answered = outcome.records[-1].get("status")
    return Seen.ANSWERED if isinstance(answered, int) and answered < 300 else Seen.FAILED


# --- the deterministic groups' probes, traced ------------------------------------------------------------------------


@dataclass(frozen=True)
class Trace:
    """A probe of the invalid or robustness group as sent in a two-sided run: marked when its body can carry a mark,
    else (an empty or truncated body) its size and the recording's last record before it was sent."""

    operation: OperationContract
    probe: Probe | None
    raw_size: int | None = None
    since: int = 0


def send_traced(
    ctx: RunContext,
    operation: OperationContract,
    body: Mapping[str, Any] | None,
    *,
    raw: bytes | None = None,
    exact_fields: bool = False,
    **kwargs: Any,
) -> tuple[Reply, Trace | None]:
    """Send a probe (`RunContext.send`); in two-sided runs marked so that `traced` finds what reached the provider.

    The mark goes into the prompt (appended, when the probe keeps a non-empty one) and into `user` (when the probe does
    not set it), never into a field the probe is about. With `exact_fields` (the probe's field set is part of what it
    tests) no field is added: the mark goes into the prompt, or else into a text chunk of its PNG files (same pixels,
    same fields), matched by their sha256."""
    if ctx.upstream is None:
        return ctx.send(operation, body, raw=raw, **kwargs), None
    if raw is not None or body is None:
        try:
            since = Recording(ctx.upstream).last_seq()
        except UpstreamError:
            return ctx.send(operation, body, raw=raw, **kwargs), None  # unknown, as the failure will say
        return ctx.send(operation, body, raw=raw, **kwargs), Trace(operation, None, len(raw or b""), since)
    marker = f"ppx-{uuid.uuid4().hex[:16]}"
    body = dict(body)
    prompt, marks = body.get("prompt"), 0
    if "prompt" in operation.properties and isinstance(prompt, str) and prompt:
        body["prompt"], marks = f"{prompt} [{marker}]", marks + 1
    hashes: frozenset[str] = frozenset()
    if exact_fields and not marks:
        hashes = _mark_files(operation, body, marker)
    elif not exact_fields and "user" in operation.properties and "user" not in body:
        body["user"], marks = marker, marks + 1
    if not marks and not hashes:
        return ctx.send(operation, body, **kwargs), None  # nothing can carry the mark
    return ctx.send(operation, body, **kwargs), Trace(operation, Probe("traced", body, marker, hashes))


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _mark_files(operation: OperationContract, body: dict[str, Any], marker: str) -> frozenset[str]:
    """Marks the PNG files of `body` (not the mask) in place with a tEXt chunk holding `marker`; their sha256s."""
    hashes: set[str] = set()
    for name in sorted(operation.files - {"mask"}):
        value = body.get(name)
        files = value if isinstance(value, list) else [value]
        if not files or not all(_is_png(file) for file in files):
            continue
        marked_files = [_with_text_chunk(file, marker) for file in files if isinstance(file, bytes)]
        hashes.update(file_sha256(file) for file in marked_files)
        body[name] = marked_files if isinstance(value, list) else marked_files[0]
    return frozenset(hashes)


def _is_png(data: Any) -> bool:
    return isinstance(data, bytes) and data.startswith(_PNG_SIGNATURE) and data.endswith(b"IEND\xaeB`\x82")


def _with_text_chunk(png_bytes: bytes, marker: str) -> bytes:
    """`png_bytes` with a tEXt chunk before its IEND chunk (the last 12 bytes): the same image, other bytes."""
    data = b"Comment\x00" + marker.encode()
    chunk = len(data).to_bytes(4, "big") + b"tEXt" + data + zlib.crc32(b"tEXt" + data).to_bytes(4, "big")
    return png_bytes[:-12] + chunk + png_bytes[-12:]


def traced(
    ctx: RunContext, trace: Trace | None, reply: Reply, observations: Sequence[Observation]
) -> list[Observation]:
    """The observations, each failed one saying what the provider received (`Seen`, and a sentence in its message;
    a field dropped, added or changed on the way becomes its cause). The recording is read for failures only."""
    failing = {id(o) for o in observations if not o.passed and not o.skipped}
    if trace is None or ctx.upstream is None or not failing:
        return list(observations)
    try:
        seen, note, cause = _provider_side(ctx, Recording(ctx.upstream), trace, reply)
    except UpstreamError as exc:
        seen, note, cause = None, f"what the provider received is unknown: {exc}", None
    return [
        replace(o, message=f"{o.message}; {note}", seen=seen, cause=o.cause or cause) if id(o) in failing else o
        for o in observations
    ]


def refused_on_the_way(
    ctx: RunContext, trace: Trace | None, reply: Reply, observations: Sequence[Observation]
) -> list[Observation]:
    """The observations of a valid request the gateway refused with the provider's own refusal (the same 4xx), when
    the provider received the request with fields dropped or changed on the way: the refusal is that change's
    symptom, so each failed observation is told the change's cause (one fault, one finding). Fields the gateway may
    filter for the provider count too: the provider refused what it received, not what the client sent. A request
    that reached the provider intact, or a refusal the gateway made itself, keeps its status as its own evidence."""
    failing = {id(o) for o in observations if not o.passed and not o.skipped}
    status = reply.status
    refused = status is not None and 400 <= status < 500
    if trace is None or trace.probe is None or ctx.upstream is None or not failing or not refused:
        return list(observations)
    try:
        records = Recording(ctx.upstream).matching(trace.probe, expect=False)
    except UpstreamError:
        return list(observations)  # unknown: the status stays its own evidence
    if not records or records[-1].get("status") != status:
        return list(observations)
    found = _differences(trace, trace.probe, records[0])
    if not found:
        return list(observations)
    note = f"the provider received it changed ({found.describe()}) and refused it with {status}; {PASSED_ON}"
    return [
        replace(o, message=f"{o.message}; {note}", seen=Seen.CHANGED, cause=o.cause or found.cause)
        if id(o) in failing
        else o
        for o in observations
    ]


def _differences(trace: Trace, probe: Probe, record: Mapping[str, Any]) -> Differences:
    """How what the provider received (`record`) differs from what the client sent."""
    operation = trace.operation
    sent = {name: value for name, value in probe.body.items() if name not in operation.files}
    azure = any(parameter.location == "path" for parameter in operation.parameters)
    return compare(sent, record_values(record), multipart=record.get("parts") is not None, azure=azure)


def _provider_side(ctx: RunContext, recording: Recording, trace: Trace, reply: Reply) -> tuple[Seen, str, str | None]:
    accepted = reply.status is not None and reply.status < 300
    if trace.probe is None:
        records = [
            record
            for record in recording.records()
            if int(record.get("seq") or 0) > trace.since
            and record.get("json") is None
            and not record.get("parts")
            and record.get("body_size") == trace.raw_size
        ]
        if not records:
            return Seen.UNREACHED, "nothing reached the provider: the gateway never forwarded it", None
        outcome = Outcome(Probe("raw", {}, "", frozenset()), reply, records)
        return seen_by(outcome), f"the provider received it as sent and answered {records[-1].get('status')}", None
    probe = trace.probe
    outcome = Outcome(probe, reply, recording.matching(probe, expect=accepted))
    if not outcome.records:
        return Seen.UNREACHED, "nothing reached the provider: the gateway never forwarded it", None
    # the first attempt: later ones may be the gateway's retries or fallbacks
    found = _differences(trace, probe, outcome.records[0])
    answered = outcome.records[-1].get("status")
    filtered = filtered_out(ctx, trace.operation, found.dropped)  # the gateway may filter those: not a change
    if found:
        return (
            Seen.CHANGED,
            f"the provider received it changed ({found.describe()}) and answered {answered}",
            found.cause,
        )
    received = f"without what was {filtered}" if filtered else "as sent"
    return seen_by(outcome), f"the provider received it {received} and answered {answered}", None


def record_values(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record's body fields: the JSON object, or the multipart text parts (first value of each name)."""
    body = record.get("json")
    if isinstance(body, dict):
        return dict(body)
    values: dict[str, Any] = {}
    for part in record.get("parts") or ():
        if isinstance(part, dict) and "value" in part:
            values.setdefault(str(part.get("name")), part["value"])
    return values


def record_files(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [part for part in record.get("parts") or () if isinstance(part, dict) and "sha256" in part]
