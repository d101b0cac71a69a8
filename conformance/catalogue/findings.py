"""Findings: one per root cause, clustered from the failed and blocked pairs by their evidence.

One bug in a gateway fails many requirements on many operations (a 500 on every accepted edit fails the valid,
streaming, forwarding and schemathesis requirements of three routes). A report that lists each of them buries the
cause, so after the run `diagnose` groups the failed pairs by what their failing exchanges show, not by requirement
id: the kind of evidence (no response, route not served, server error, a valid request rejected, invalid input
accepted, a field changed on the way, a wrong answer) and its detail (the status, the error code, the field). Each
group is one `Finding`: a one-sentence title naming the operations and the status or field, the pairs it explains,
the failure's message once, and the smallest request that shows it (the shortest curl line of its first failed
pair, in catalogue order: the plain valid request before the keyless or hostile ones).

The clustering key is the cause and, in two-sided runs, what the provider saw of the failing requests (`Seen`,
read from the recording by the groups: answered 2xx, failed, never reached, received a changed request); for server
errors also whether the request was invalid input (one the contract wants refused) and whether it was a stream. A
pair whose group does not read the recording (schemathesis, properties, valid) joins the cluster of its cause that
did. A title is written from what all of a finding's pairs share: "although the provider answered 2xx", "the gateway
never forwarded them", "invalid input", a quoted message only when every pair said it.

In two-sided runs a finding says where it broke, whenever the provider recorded any of its requests: "gateway" (the
provider answered 2xx, or never saw the request, and the client got a failure; a placeholder credential),
"provider" (the provider's own failure, passed on faithfully) or "on-the-way" (fields dropped, added, renamed or
changed; the client's key passed on). One fault, one finding: a wrong answer about a field that was dropped or
changed on the way (wrong dimensions for a rewritten size), and invalid input in such a field answered with a 2xx,
are symptoms of that finding, not causes of their own.

When message text splits a finding: only a server error's, only between pairs of the same status, stream or not,
invalid input or not and provider evidence. For invalid input, only when each message belongs to other requests: two
messages seen for one requirement (the same kind of request, answered in other words on another route) are one cause,
the gateway's error path answering client errors with a 5xx. Valid requests answered 5xx keep their messages apart,
even for one requirement: each says where the gateway's own work failed. Request ids,
numbers and quoted values never split (`_fingerprint` drops them); neither does rewording. A cause told in several
messages is named by the kind of request: F-server-error-500-invalid-input.

Pairs whose precondition never held (`pixelpact.conformance.catalogue.preconditions`) are blocked by the finding that
explains why: the route's (every answer a 404/405) or the one holding the failed pair that establishes the precondition
(the valid request rejected, the stream never started). They are listed in that finding, counted apart.

Finding ids are stable and short: "F-" + a slug of the cause's kind and detail, never of the requirement ids or
the operations it touches, so the same cause keeps its id from run to run (baselines key on it):

    F-no-response[-stream]          no complete answer (dropped, timed out); "stream" for stream requests
    F-too-large                     an answer larger than the body cap (--max-body-mb): refused unread when its
                                    Content-Length says so, else cut at the cap (the title names the cap)
    F-undeclared-method             a method the route does not declare (PUT, PATCH ...) gets a 5xx or no answer, not
                                    a 405 (the title names the methods)
    F-route-not-served              every answer of an operation is a 404/405
    F-server-error-<status>[-<what>]   a 5xx; <what> is "stream" for stream requests, else the first words of the
                                    error message that say more than the status ("number-infinity-when"), or
                                    "invalid-input" for invalid input told in several (or no telling) messages
    F-<cause>-<seen>                the same cause seen otherwise by the provider (answered-2xx, never-reached ...)
                                    than a finding of the run that already has the cause's id
    F-rejected-<status>[-<code>]    a 4xx where the contract wants another answer (the error's code or type)
    F-accepted-invalid              invalid input answered with a 2xx (the title names the fields)
    F-dropped-fields, F-added-fields, F-renamed-fields   two-sided: fields lost, added or renamed on the way (the
                                    title names them; the id does not, so one more dropped field keeps the id)
    F-changed-<field>               two-sided: a field's value changed on the way (n clamped, a model substituted)
    F-placeholder-credential        two-sided: the provider got "Bearer undefined" (or null, None, a bare scheme)
    F-client-credential             two-sided: the provider got the client's key, not the gateway's own
    F-missing-credential            two-sided: the provider got no credential at all
    F-scheme-refused                the right key refused in some of the spec's schemes (Basic, x-bf-vk ...) while
                                    another scheme lets it through (the title names them)
    F-error-shape-<status>          an error answer without the spec's error body
    F-content-<field>               a 2xx whose content is wrong in a named field
    F-content-null                  a 2xx whose fields hold null (b64_json, url, revised_prompt: the title names them)
    F-<requirement-id>              a 2xx whose content breaks that requirement, no field named
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pixelpact.conformance.catalogue.preconditions import ESTABLISHED_BY, NOT_SERVED, Preconditions
from pixelpact.conformance.model import (
    Exchange,
    Finding,
    Observation,
    Precondition,
    RequirementResult,
    Seen,
    Status,
    Unjudged,
)
from pixelpact.conformance.wire.limits import TOO_LARGE

#: operationId stem -> what a gateway engineer calls the route family.
FAMILIES = {"createimage": "generations", "createimageedit": "edits", "createimagevariation": "variations"}
FLAVOURS = ("openai", "azure")
_ERROR_SHAPE = frozenset({"error-body-shape", "st-error-envelope"})
_CONTENT_TYPE = "st-content-type-documented"
_FIELD = re.compile(r"\b([a-z_]+(?:\[\])?)(?:=|: the client sent| did not reach)")
_SLUG = re.compile(r"[^a-z0-9]+")
#: The field an invalid probe's label names: "sent n=11", "sent n with 1000 digits", "sent without model".
_SENT_FIELD = re.compile(r"sent (?:without (?:any of )?)?([a-z_]+(?:\[\])?)(?:=| with|\b)")
#: What a group says of a failure it saw the provider answer well: the answer's own evidence then names the cause.
GATEWAY_FAULT = "gateway-fault"
#: What the forwarding group says when the provider's failure reached the client unchanged.
PASSED_ON = "the gateway passed it on"
#: A request that asked for a stream (its failures are the stream's, whatever the error says).
_STREAMED = re.compile(r'"stream": ?true|stream=true', re.IGNORECASE)
#: Error codes and words that only restate a status.
_GENERIC = frozenset({"internal-server-error", "server-error", "api-error", "error", "internal-error", "unknown"})
_GENERIC_WORDS = frozenset({"internal", "server", "error", "service", "unavailable", "gateway", "timeout", "litellm"})
#: The field a generated invalid request got wrong: "(coverage: fallbacks -> Array with invalid items ...)".
_GENERATED_FIELD = re.compile(r"\((?:examples|coverage|fuzzing): ([a-z_]+(?:\[\])?) ->")
#: The parameter a generated invalid request got wrong: "Invalid component: parameter `api-version` in query".
_GENERATED_PARAMETER = re.compile(r"Invalid component: parameter `([^`]+)`")
#: The answer's field at fault in a content failure: body['data'][0]['b64_json'], .../properties/b64_json,
#: data[0].b64_json.
_CONTENT_FIELD = re.compile(r"\['([a-z0-9_]+)'\]:|/properties/([a-z0-9_]+)\b|data\[\d+\]\.([a-z0-9_]+)\b")
_NULL = re.compile(r"\b(?:None|null|NoneType)\b")
#: The cap a too-large answer's error names ("... more than the 32 MB cap").
_CAP = re.compile(r"the (\S+ MB) cap")
#: Kinds of cause that are about the request's way to the provider.
_ON_THE_WAY = ("dropped", "changed", "renamed", "added")
#: How a key is sent in each auth scheme, for a title ("as Authorization: Basic"); apiKey schemes name a header.
_SENT_AS = {"bearer": "as Authorization: Bearer", "basic": "as Authorization: Basic"}
#: Kinds of told cause whose detail lists names (fields, schemes), which the title names and the id leaves out.
_LISTING = ("dropped", "added", "renamed", "scheme-refused")
#: Our own groups' words for a request the contract wants refused (a client error), not a gateway's.
_INVALID_INPUT = re.compile(r"expected a 4xx(?! or a 2xx)|an invalid request \(|Invalid data should have been rejected")
#: Our groups' words for a request a gateway may refuse or serve (hostile part names).
_MAY_REFUSE = "expected a 4xx or a 2xx"
#: Where a failure broke, by what the provider saw of it (FAILED: the findings look at whether it was passed on).
_WHERE_SEEN = {Seen.ANSWERED: "gateway", Seen.UNREACHED: "gateway", Seen.CHANGED: "on-the-way"}


@dataclass(frozen=True)
class Cause:
    """The evidence of a failure, reduced to what identifies its cause."""

    kind: str
    detail: str = ""
    where: str | None = None
    names: tuple[str, ...] = ()
    """Fields named in the title but not in the id (a gateway dropping seed, then also background, is one cause)."""
    seen: Seen | None = None
    """What the provider saw of every pair that says (two-sided runs), when they all agree."""
    invalid: bool = False
    """Every pair's request is one the contract wants refused (server errors: "invalid input ends in a 500")."""

    @property
    def id(self) -> str:
        return "F-" + slug(f"{self.kind}-{self.detail}" if self.detail else self.kind)


@dataclass
class _Cluster:
    cause: Cause
    where: str | None = None
    names: dict[str, None] = field(default_factory=dict)
    failed: list[RequirementResult] = field(default_factory=list)
    blocked: list[RequirementResult] = field(default_factory=list)
    seen: dict[Seen, None] = field(default_factory=dict)
    """What the provider saw, over the pairs that say."""
    id: str = ""
    """The finding's id: the cause's, with what the provider saw when another cluster has the cause's id."""


@dataclass
class _Failed:
    """A failed pair, reduced to what clusters it."""

    result: RequirementResult
    cause: Cause
    seen: Seen | None
    told: bool
    """A group named its cause (dropped, changed ...): what the provider saw of it keeps no cluster apart."""

    @property
    def invalid(self) -> bool:
        """Its request is one the contract wants refused, and the provider did not answer it as a valid one; or one a
        gateway may refuse (hostile part names), which the gateway did refuse without forwarding it."""
        message = _first_message(self.result)
        if _MAY_REFUSE in message:
            return self.seen is Seen.UNREACHED
        return self.seen is not Seen.ANSWERED and bool(_INVALID_INPUT.search(message))

    @property
    def status(self) -> str:
        return self.cause.detail.partition("-")[0]

    @property
    def what(self) -> str:
        return self.cause.detail.partition("-")[2]


def slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")[:48].rstrip("-")


def diagnose(
    results: list[RequirementResult], preconditions: Preconditions, methods: Mapping[str, str] | None = None
) -> list[Finding]:
    """Mark the pairs whose precondition never held as blocked, and return one finding per cause, in report order.

    `methods` maps each operation to its declared HTTP method, so a failure to a method the spec does not declare for
    the route (schemathesis sends PUT, PATCH, DELETE) is told apart from the route's own failures."""
    preconditions.settle(results)
    blocked: list[tuple[RequirementResult, Precondition]] = []
    for result in results:
        # a pass where the precondition never held is no evidence either (a 404 "rejects" invalid input too);
        # pairs the run never reached or that do not apply keep their reason
        unjudged = result.status is Status.NOT_JUDGED and result.reason in (None, Unjudged.NO_EVIDENCE)
        if result.status is not Status.NOT_JUDGED or unjudged:
            unmet = preconditions.unmet(result)
            if unmet is not None:
                blocked.append((result, preconditions.root(result.operation_id, unmet)))
    blocked_pairs = {id(result) for result, _ in blocked}
    failed = [
        _reduced(result, (methods or {}).get(result.operation_id))
        for result in results
        if result.status is Status.FAILED and id(result) not in blocked_pairs
    ]
    clusters = _clustered(failed)
    _explain_by_the_way(clusters)
    _at_the_provider(clusters, results)
    by_pair = {(r.requirement.id, r.operation_id): key for key, c in clusters.items() for r in c.failed}
    for result, root in blocked:
        finding_id = None
        if root is not Precondition.ROUTE_SERVED:
            finding_id = by_pair.get((ESTABLISHED_BY[root], result.operation_id))
        if finding_id is None:
            finding_id = Cause("route-not-served").id
            clusters.setdefault(finding_id, _Cluster(Cause("route-not-served")))
        clusters[finding_id].blocked.append(result)
        result.status, result.blocked_by = Status.BLOCKED, finding_id
        result.reason = None
    return [_finding(cluster) for cluster in clusters.values()]


def _reduced(result: RequirementResult, method: str | None) -> _Failed:
    told = any(f.cause and f.cause != GATEWAY_FAULT for f in result.failures)
    seen = next((f.seen for f in result.failures if f.seen is not None), None)
    return _Failed(result, cause_of(result, method), seen, told)


def _first_message(result: RequirementResult) -> str:
    return result.failures[0].message if result.failures else result.message


def _clustered(failed: list[_Failed]) -> dict[str, _Cluster]:
    """The failed pairs grouped by cause and by what the provider saw of them (see the module docstring).

    A pair whose provider side is unknown (its group does not read the recording) joins a cluster of the same cause
    that knows it. Server errors are grouped by status, stream or not, invalid input or not and what the provider
    saw; within that, invalid input's error messages keep them apart only when each message belongs to other
    requests (two messages seen for one requirement are one cause in other words), and valid requests' always."""
    groups: list[list[_Failed]] = []
    for pair in failed:
        home = next((group for group in groups if _together(group[0], pair, group)), None)
        if home is None:
            groups.append([pair])
        else:
            home.append(pair)
    groups = _joined_groups(groups)
    clusters: dict[str, _Cluster] = {}
    for group in groups:
        cause = _group_cause(group)
        key = cause.id
        seen = {pair.seen: None for pair in group if pair.seen is not None}
        if key in clusters:  # the same cause, seen otherwise by the provider: its own finding
            key = f"{key}-{slug(next(iter(seen), 'unknown'))}"
        cluster = clusters[key] = _Cluster(cause, seen=seen, id=key)
        # a server error's names quote its message: a title quotes it only when every pair said it
        quoted = cause.kind != "server-error" or len({pair.what for pair in group}) == 1
        for pair in group:
            if quoted:
                cluster.names.update(dict.fromkeys(pair.cause.names))
            cluster.where = cluster.where or pair.cause.where
            cluster.failed.append(pair.result)
    return clusters


def _together(first: _Failed, pair: _Failed, group: list[_Failed]) -> bool:
    """Whether `pair` belongs with `group` (whose first pair is `first`), before server errors' messages are joined."""
    if first.cause.kind != pair.cause.kind:
        return False
    if first.cause.kind != "server-error":
        return first.cause.id == pair.cause.id and _same_seen(group, pair)
    return _same_server_error(first, pair) and _same_seen(group, pair) and first.what == pair.what


def _same_seen(group: list[_Failed], pair: _Failed) -> bool:
    """What the provider saw agrees (a pair that does not say agrees with any)."""
    if pair.told or pair.seen is None:
        return True
    return all(other.seen in (None, pair.seen) for other in group if not other.told)


def _same_server_error(a: _Failed, b: _Failed) -> bool:
    stream_a, stream_b = a.what == "stream", b.what == "stream"
    return a.status == b.status and stream_a == stream_b and a.invalid == b.invalid


def _joined_groups(groups: list[list[_Failed]]) -> list[list[_Failed]]:
    """Server-error groups of invalid input, of one status, kind and provider side, whose messages were seen for the
    same requirement are one cause told in other words ("number is infinity" and "empty document" stay apart: each
    belongs to other requests).

    Only invalid input: a gateway answering client errors with a 5xx is one fault of its error path whatever each
    parser says, but a valid request answered 5xx fails where the gateway's own work failed, and each message names
    another place (a form field demanded on one route, a conversion failing on another): those stay apart."""
    merged = True
    while merged:
        merged = False
        for i, a in enumerate(groups):
            for j in range(i + 1, len(groups)):
                b = groups[j]
                if a[0].cause.kind != "server-error" or b[0].cause.kind != "server-error" or not a[0].invalid:
                    continue
                if not _same_server_error(a[0], b[0]) or not all(_same_seen(a, pair) for pair in b):
                    continue
                if {p.result.requirement.id for p in a} & {p.result.requirement.id for p in b}:
                    a.extend(b)
                    del groups[j]
                    merged = True
                    break
            if merged:
                break
    return groups


def _group_cause(group: list[_Failed]) -> Cause:
    first = group[0]
    seen = {pair.seen for pair in group if pair.seen is not None}
    common = next(iter(seen)) if len(seen) == 1 else None
    invalid = all(pair.invalid for pair in group)
    if first.cause.kind != "server-error":
        return replace(first.cause, seen=common, invalid=invalid)
    whats = {pair.what for pair in group}
    if len(whats) == 1 and (whats != {""} or not invalid):
        return replace(first.cause, seen=common, invalid=invalid)
    # several messages, one cause: the id and title name the kind of request, not one of the messages
    detail = first.status + ("-invalid-input" if invalid else "")
    return Cause("server-error", detail, where=first.cause.where, seen=common, invalid=invalid)


def _at_the_provider(clusters: dict[str, _Cluster], results: list[RequirementResult]) -> None:
    """A failing status on operations where the provider gave the client's request that very status, and the gateway
    passed it on (two-sided runs), broke at the provider."""
    passed_on = {
        r.operation_id for r in results if r.requirement.id == "provider-answer-relayed" and PASSED_ON in r.message
    }
    for cluster in clusters.values():
        operations = {r.operation_id for r in cluster.failed}
        if cluster.where is None and cluster.cause.kind in ("server-error", "rejected") and operations <= passed_on:
            cluster.where = "provider"


def _explain_by_the_way(clusters: dict[str, _Cluster]) -> None:
    """The symptoms of a change on the way fold into that change's finding (one fault, one finding): a wrong answer
    about a field that was dropped or changed on the way to the provider (a PNG for output_format=jpeg when
    output_format never reached it; 256x256 for a size rewritten to 256x256), and invalid input in such a field
    answered with a 2xx (the gateway dropped the invalid value, or changed it into a valid one). Only on operations
    where the change was seen."""
    owners = {
        key: ({*cluster.names, cluster.cause.detail} - {"", "fields"}, {r.operation_id for r in cluster.failed})
        for key, cluster in clusters.items()
        if cluster.cause.kind in _ON_THE_WAY
    }
    for key, cluster in list(clusters.items()):
        if key in owners or (
            cluster.cause.kind in TITLES and cluster.cause.kind not in ("content", "accepted-invalid")
        ):
            continue  # an answer's status or transport is its own evidence; only wrong content or a 2xx is a symptom
        operations = {r.operation_id for r in cluster.failed}
        if cluster.cause.kind == "accepted-invalid":
            named = set(cluster.names)
            owner = next(
                (o for o, (fields, ops) in owners.items() if named and named <= fields and operations <= ops), None
            )
        else:
            messages = [f.message for r in cluster.failed for f in r.failures]
            owner = next(
                (
                    o
                    for o, (fields, ops) in owners.items()
                    if operations <= ops and any(_names_field(n, m) for n in fields for m in messages)
                ),
                None,
            )
        if owner is not None:
            clusters[owner].failed.extend(cluster.failed)
            del clusters[key]


def _names_field(name: str, message: str) -> bool:
    """Whether one of our messages names request field `name` ("output_format=jpeg", "requested size 512x512")."""
    return f"{name}=" in message or re.search(rf"\brequested {re.escape(name)}\b", message) is not None


def cause_of(result: RequirementResult, method: str | None = None) -> Cause:
    """What the pair's failures show, reduced to a cause (see the module docstring for the kinds); `method` is the
    operation's declared method, if known."""
    undeclared = _undeclared_methods(result, method)
    if undeclared:
        # the route's answer to a method it does not serve: a 5xx or a dropped connection where a 405 belongs is its
        # own fault, whatever else the pair shows (and a POST reset right after it is its symptom)
        return Cause("undeclared-method", names=undeclared)
    told = next((f.cause for f in result.failures if f.cause), None)
    if told is not None and told != GATEWAY_FAULT:
        return told_cause(_joined(told, [f.cause for f in result.failures if f.cause]))
    where = "gateway" if told == GATEWAY_FAULT else None
    failure = next((f for f in result.failures if f.exchange is not None), None)
    message = result.message or (result.failures[0].message if result.failures else "")
    if failure is None or failure.exchange is None:
        return _message_cause(result, message)
    exchange = failure.exchange
    forwarding = _message_cause(result, failure.message) if result.requirement.group == "forwarding" else None
    if forwarding is not None and forwarding.kind in ("dropped", "changed"):
        return forwarding
    if exchange.error is not None and exchange.error.startswith(TOO_LARGE):
        cap = _CAP.search(exchange.error)  # an answer, complete or not, that the suite would not hold: not a drop
        return Cause("too-large", where=where, names=(cap.group(1),) if cap else ())
    if exchange.status is None or exchange.error is not None:
        return Cause("no-response", "stream" if _STREAMED.search(exchange.curl) else "", where=where)
    if exchange.status in NOT_SERVED:
        return Cause("route-not-served")
    if exchange.status >= 500:
        # one status, several causes (a 1000-digit n, an empty body, a stream): the kind of request or the error's
        # own words tell them apart, unless they only restate the status
        what = "stream" if _STREAMED.search(exchange.curl) else _fingerprint(exchange)
        said = _said(exchange) if what and what != "stream" else ""
        detail = f"{exchange.status}-{what}" if what else str(exchange.status)
        return Cause("server-error", detail, where=where, names=(said,) if said else ())
    if result.requirement.id in _ERROR_SHAPE or (
        result.requirement.id == _CONTENT_TYPE and 400 <= exchange.status < 500
    ):
        # an error answer whose content type the spec does not document is one without the spec's error body
        return Cause("error-shape", str(exchange.status))
    if 400 <= exchange.status < 500:
        code, said = _error_code(exchange), _said(exchange)
        detail = f"{exchange.status}-{code}" if code else str(exchange.status)
        return Cause("rejected", detail, names=(said,) if said else ())
    if "4xx" in failure.message or "Invalid data should have been rejected" in failure.message:
        found = (
            _SENT_FIELD.search(failure.message)
            or _GENERATED_FIELD.search(failure.message)
            or _GENERATED_PARAMETER.search(failure.message)
        )
        return Cause("accepted-invalid", names=(found.group(1),) if found else ())
    return _content_cause(result, failure.message)


def _undeclared_methods(result: RequirementResult, method: str | None) -> tuple[str, ...]:
    """The methods other than the declared one that the pair's failures sent, in order (empty when none did)."""
    if method is None:
        return ()
    sent = [f.exchange.method.upper() for f in result.failures if f.exchange is not None]
    return tuple(dict.fromkeys(m for m in sent if m != method.upper()))


def _content_cause(result: RequirementResult, message: str) -> Cause:
    """A 2xx whose content is wrong: the field at fault and what it held, when the message names them (the same
    null b64_json fails response-schema, st-response-schema and st-b64-json-is-image: one cause)."""
    found = _CONTENT_FIELD.search(message)
    if found is None:
        return Cause(result.requirement.id)
    name = next(group for group in found.groups() if group)
    if _NULL.search(message):
        # one serializer writing every unset key as null: b64_json, url and revised_prompt null are one cause
        return Cause("content", "null", names=(name,))
    return Cause("content", name, names=(name,))


def _joined(first: str, told: list[str]) -> str:
    """One pair's told causes of the first one's kind as one, when that kind lists names (Basic and x-bf-vk refused
    on one operation are one cause naming both schemes)."""
    kind = first.partition(":")[0]
    if kind not in _LISTING:
        return first
    names = [name for cause in told if cause.partition(":")[0] == kind for name in cause.partition(":")[2].split(",")]
    return f"{kind}:{','.join(dict.fromkeys(name for name in names if name))}"


def told_cause(told: str) -> Cause:
    """The cause a group named on its observation ("dropped:seed,background", "changed:n", ...)."""
    kind, _, detail = told.partition(":")
    names = tuple(detail.split(",")) if detail else ()
    if kind in ("dropped", "added", "renamed"):
        return Cause(kind, "fields", where="on-the-way", names=names)
    if kind == "scheme-refused":
        return Cause(kind, names=names)  # the id leaves the schemes out: one more refused scheme keeps the id
    if kind == "changed":
        return Cause(kind, detail, where="on-the-way")
    # both are the gateway's own doing: the provider was asked with a placeholder key, or failed on purpose and the
    # gateway never asked it for the fallback
    return Cause(kind, detail, where="gateway" if kind in ("placeholder-credential", "fallbacks-ignored") else None)


def _message_cause(result: RequirementResult, message: str) -> Cause:
    found = _FIELD.search(message)
    if "did not reach the upstream" in message and found:
        return Cause("dropped", "fields", where="on-the-way", names=(found.group(1),))
    if "the upstream received" in message and found and ": the client sent" in message:
        return Cause("changed", found.group(1), where="on-the-way")
    return Cause(result.requirement.id)


def _error(exchange: Exchange) -> dict[str, Any]:
    """The error object of an answer's body (`{"error": {...}}`, or FastAPI's `{"detail": ...}`), else {}."""
    try:
        body = json.loads(exchange.body_excerpt)
    except ValueError:
        return {"message": exchange.body_excerpt}
    if not isinstance(body, dict):
        return {}
    error = body.get("error")
    if isinstance(error, dict):
        return error
    if isinstance(error, str):
        return {"message": error}
    return {"message": body["detail"]} if isinstance(body.get("detail"), str) else {}


def _error_code(exchange: Exchange) -> str:
    """The error's code or type, when it says more than the status (LiteLLM's code "400" does not)."""
    error = _error(exchange)
    for key in ("code", "type"):
        value = error.get(key)
        if isinstance(value, str) and value and not value.isdigit() and slug(value) not in _GENERIC:
            return slug(value)[:24]
    return ""


def _said(exchange: Exchange, limit: int = 60) -> str:
    """The start of the error message, for a title."""
    message = _error(exchange).get("message")
    if not isinstance(message, str):
        return ""
    message = " ".join(message.split())
    return message if len(message) <= limit else message[:limit].rsplit(" ", 1)[0] + " ..."


def _fingerprint(exchange: Exchange) -> str:
    """The first words of the error message that say more than the status ("number-infinity-when"), or ""."""
    message = _error(exchange).get("message")
    if not isinstance(message, str):
        return _error_code(exchange)
    text = re.sub(r"'[^']*'|\"[^\"]*\"|\S*\d\S*", " ", message.lower())
    words = [word for word in re.findall(r"[a-z]{4,}", text) if word not in _GENERIC_WORDS][:3]
    return "-".join(words)  # a message that only restates the status: the status alone


def _finding(cluster: _Cluster) -> Finding:
    pairs = [*cluster.failed, *cluster.blocked]
    failures = [f for r in pairs for f in r.failures]
    first = cluster.failed[0].failures if cluster.failed else failures
    evidence = _evidence(cluster, failures)
    if cluster.cause.kind == "undeclared-method":
        # show the request with the undeclared method, not a POST the same pair also lost
        failures = [f for f in failures if f.exchange is not None and f.exchange.method.upper() in cluster.names]
        first, evidence = failures, failures[0].message if failures else evidence
    where = cluster.where or _where_seen(cluster) or _where(failures)
    seen = next(iter(cluster.seen)) if len(cluster.seen) == 1 else None
    cause = replace(cluster.cause, names=tuple(cluster.names), where=where, seen=seen)
    if cause.kind not in TITLES and pairs:
        # the requirement is the cause: its own sentence says what the gateway breaks
        cause = replace(cause, names=(pairs[0].requirement.title,))
    return Finding(
        id=cluster.id or cluster.cause.id,
        title=title(cause, [r.operation_id for r in pairs]),
        pairs=tuple((r.requirement.id, r.operation_id) for r in pairs),
        evidence=evidence,
        # from the first failed pair in catalogue order (the valid request before the no-key one ...), else any
        reproduction=_smallest(first) or _smallest(failures),
        where=where,
        blocked=len(cluster.blocked),
    )


def operations_phrase(operations: Iterable[str]) -> str:
    """ "edits and variations", "generations (azure routes)" ... for the operation ids a finding touches."""
    families: dict[str, set[str]] = {}
    for operation in dict.fromkeys(operations):
        flavour = next((f for f in FLAVOURS if operation.lower().startswith(f)), "native")
        stem = operation.lower().removeprefix(flavour) if flavour != "native" else operation.lower()
        families.setdefault(FAMILIES.get(stem, operation), set()).add(flavour)
    names: list[str] = [name for name in ("generations", "edits", "variations") if name in families]
    names += [name for name in families if name not in names]
    text = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    flavours = set().union(*families.values()) if families else set()
    if flavours and len(flavours) < 3 and flavours != {"native"}:
        text += f" ({' and '.join(sorted(flavours))} routes)"
    return text


#: What each kind of cause says after the operations ("edits and variations: ..."); {detail} is the cause's detail.
TITLES = {
    "server-error": "",  # _what() writes it: the status, the error's words, who is at fault
    "no-response": "requests end without a complete answer (connection dropped or timed out)",
    "too-large": "answers larger than {names} (the cap, --max-body-mb) are refused, not read whole",
    "undeclared-method": "{names} requests, a method the spec does not declare here, end in a server error or a "
    "dropped connection instead of a 405",
    "route-not-served": "the route is not served (every answer is a 404 or 405)",
    "rejected": "requests get {detail} instead of the answer the contract expects",
    "accepted-invalid": "invalid input{names} is answered with a 2xx instead of a 4xx",
    "dropped": "{names} never reach the provider (the gateway drops them)",
    "added": "the provider receives {names}, which the client never sent",
    "renamed": "fields reach the provider under other names ({names})",
    "changed": "{detail} reaches the provider changed",
    "fallbacks-ignored": "with the primary model failing at the provider, the fallbacks are never tried",
    "placeholder-credential": "the provider receives a placeholder credential (Bearer undefined ...), not a key",
    "client-credential": "the provider receives the client's key, not the gateway's own credentials",
    "missing-credential": "the provider receives no credential at all, not the gateway's own key",
    "scheme-refused": "the right key is refused when sent {names}, which the spec lists (other ways get through)",
    "error-shape": "{detail} answers lack the spec's error body",
    "content": "answers carry {detail}",
}


def title(cause: Cause, operations: list[str]) -> str:
    """ "edits and variations: requests end in a 500 server error although the provider answered 2xx"."""
    return f"{operations_phrase(operations)}: {_what(cause)}"


def _what(cause: Cause) -> str:
    detail, names = cause.detail, ", ".join(cause.names)
    if cause.kind in ("server-error", "no-response"):
        status, _, what = detail.partition("-") if cause.kind == "server-error" else ("", "", detail)
        said = f' ("{cause.names[0]}")' if cause.names else ""  # one message of the cluster's, not all
        text = ("stream " if what == "stream" else "") + (
            f"requests end in a {status} server error{said}" if status else TITLES["no-response"]
        )
        if cause.invalid and what != "stream":
            text = text.replace("requests end", "invalid input ends", 1)
        if cause.where == "provider":
            return text + " (the provider's own answer, passed on faithfully)"
        if cause.seen is Seen.UNREACHED:
            return text + "; the gateway never forwarded them"
        return text + (" although the provider answered 2xx" if cause.seen is Seen.ANSWERED else "")
    if cause.kind == "rejected":
        status, _, code = detail.partition("-")
        said = f' "{cause.names[0]}"' if cause.names else ""  # one message of the cluster's
        detail = status + (f" {code.replace('-', '_')}" if code else "") + said
    elif cause.kind == "content":
        if detail == "null":
            detail = f"null in {names} (the spec's fields hold their type or are left out, never null)"
        else:
            detail = f"a {detail} the spec does not allow"
    elif cause.kind == "accepted-invalid":
        names = f" in {names}" if names else ""
    elif cause.kind == "scheme-refused":
        names = " or ".join(_SENT_AS.get(name, f"in the {name} header") for name in cause.names) or "some ways"
    if cause.kind not in TITLES:
        return f'breaks "{names}"' if names else f"{cause.kind} fails"
    return TITLES[cause.kind].format(detail=detail, names=names)


def _where_seen(cluster: _Cluster) -> str | None:
    """Where it broke, by what the provider saw of the cluster's pairs (a changed request first: the change is the
    cause, whatever the provider then answered)."""
    for seen in (Seen.CHANGED, Seen.ANSWERED, Seen.UNREACHED):
        if seen in cluster.seen:
            return _WHERE_SEEN[seen]
    return None


def _evidence(cluster: _Cluster, failures: list[Observation]) -> str:
    for result in cluster.failed:
        if result.message:
            return result.message
    return failures[0].message if failures else "no request of the operation was answered other than 404/405"


def _smallest(failures: list[Observation]) -> str:
    curls = [f.exchange.curl for f in failures if f.exchange is not None and f.exchange.curl]
    return min(curls, key=len, default="")


def _where(failures: list[Observation]) -> str | None:
    """Two-sided evidence of who broke it: the forwarding group's messages say what the provider saw."""
    for failure in failures:
        if "the upstream answered 2" in failure.message or "the provider answered 2" in failure.message:
            return "gateway"
        if "passed on" in failure.message or PASSED_ON in failure.message:
            return "provider"
    return None
