"""What every requirement group runs with: the contract, the target, the budgeted sender, seeded randomness.

Groups build bodies as plain dicts keyed by wire names (`valid_body`), and `send` turns them into JSON or
multipart according to the operation, fills the path (deployment id, --prefix mapping), adds the query
(api-version) and the credentials, and returns a `Reply` whose evidence is already redacted.
"""

from __future__ import annotations

import base64
import json
import random
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar
from urllib.parse import urlencode, urlsplit, urlunsplit

from pixelpact.conformance.engine.contract import Contract, OperationContract
from pixelpact.conformance.engine.images import distinct_pngs, mask_png
from pixelpact.conformance.engine.model_limits import ModelLimits
from pixelpact.conformance.engine.profiles import DEEP, Profile
from pixelpact.conformance.wire.http import Part, Reply, Sender, WireRequest
from pixelpact.conformance.wire.schemes import (
    AUTH_SCHEMES as AUTH_SCHEMES,  # re-exported: moved to a light module for the CLI
)
from pixelpact.conformance.wire.schemes import AuthScheme as AuthScheme

T = TypeVar("T")
R = TypeVar("R")

Credentials = Literal["default", "none", "wrong"]

_SIZE = re.compile(r"^(\d+)x(\d+)$")
#: quality values by price, cheapest first, where a model's rules are known: GPT image models' low, DALL-E 3's standard.
CHEAPEST_QUALITIES = ("low", "standard")

#: A key no gateway issues, for the wrong-key requirement; unrelated to the real key so it reveals nothing about it.
WRONG_KEY = "sk-bf-pixelpact-not-a-real-key-0000"


class Once:
    """Values computed once per run and shared by every group that needs them (each operation's valid control):
    the first caller computes, concurrent callers for the same key wait for it, later ones get it as it was.

    A computation that raises (the budget refused the request) stores nothing: the next caller tries again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[object, tuple[threading.Lock, list[Any]]] = {}

    def get(self, key: object, compute: Callable[[], R]) -> R:
        with self._lock:
            lock, box = self._slots.setdefault(key, (threading.Lock(), []))
        with lock:
            if not box:
                box.append(compute())
            value: R = box[0]
            return value


class Omit:
    """Marks a body field to leave out: `valid_body(op, prompt=OMIT)`."""

    def __repr__(self) -> str:
        return "OMIT"


OMIT = Omit()


@dataclass(frozen=True)
class Upstream:
    """Where the recording upstream listens (--upstream HOST:PORT / --upstream-port); the forwarding group uses it."""

    host: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


def map_prefix(path: str, prefixes: tuple[tuple[str, str], ...]) -> str:
    """The gateway's path for a spec path (--prefix): the first spec route prefix it starts with is replaced by the
    gateway's; a path no prefix matches is sent as the spec has it."""
    for spec_prefix, gateway_prefix in prefixes:
        if path.startswith(spec_prefix):
            return gateway_prefix + path[len(spec_prefix) :]
    return path


def map_url_prefix(url: str, prefixes: tuple[tuple[str, str], ...]) -> str:
    """`map_prefix` on the path of a full URL (the requests schemathesis and the generated client build)."""
    parts = urlsplit(url)
    path = map_prefix(parts.path, prefixes)
    return url if path == parts.path else urlunsplit(parts._replace(path=path))


@dataclass(frozen=True)
class Target:
    """The gateway under test and how to address it."""

    base_url: str
    prefixes: tuple[tuple[str, str], ...] = ()
    """(spec prefix, gateway prefix) pairs: the first matching spec prefix of a path is replaced."""
    model: str | None = None
    """None: the spec's example model."""
    deployment: str | None = None
    """None: the model part of the model name (openai/dall-e-3 -> dall-e-3)."""
    api_version: str | None = None
    """None: the spec's example api-version."""
    api_key: str | None = None
    auth: str = "bearer"
    builtin: bool = False
    """True when the target is the built-in stub gateway started for this run."""


def auth_headers(scheme: str, key: str) -> dict[str, str]:
    """The header carrying `key` in the given scheme; Basic takes "user:password" or a bare password."""
    if scheme == "bearer":
        return {"Authorization": f"Bearer {key}"}
    if scheme == "basic":
        token = base64.b64encode((key if ":" in key else f"pixelpact:{key}").encode()).decode()
        return {"Authorization": f"Basic {token}"}
    return {scheme: key}


def secret_forms(key: str) -> list[str]:
    """Every form of a key that could appear in evidence, for redaction."""
    forms = [key, base64.b64encode((key if ":" in key else f"pixelpact:{key}").encode()).decode()]
    if ":" in key:
        forms.append(key.split(":", 1)[1])
    return forms


@dataclass
class RunContext:
    """Everything a requirement group needs; one per run, shared by all groups (thread-safe where it matters)."""

    contract: Contract
    operations: tuple[OperationContract, ...]
    """The operations selected for this run (--operation), in spec order."""
    target: Target
    sender: Sender
    seed: int
    max_examples: int
    concurrency: int
    upstream: Upstream | None = None
    executor: Executor | None = field(default=None, repr=False)
    profile: Profile = DEEP
    """How deep the groups go (--profile): quick sends the cheapest request per pair
    (pixelpact.conformance.engine.profiles)."""
    limits: ModelLimits = field(default_factory=ModelLimits)
    """The provider model the valid requests keep to (--model, --deployment;
    pixelpact.conformance.engine.model_limits)."""
    unserved: tuple[tuple[str, str], ...] = ()
    """(operationId, why) of the selected operations the model does not do: not run, their pairs not judged."""
    shared: Once = field(default_factory=Once, repr=False)
    """Exchanges made once per run for every group (pixelpact.conformance.groups._judge.control); `replace(ctx, ...)`
    keeps the same one, so a breadth-first run's two passes share it too."""

    # --- randomness ---------------------------------------------------------------------------------------------
    def random(self, *scope: object) -> random.Random:
        """A generator seeded by --seed and `scope`, so each group/operation draws the same values in any order."""
        return random.Random(":".join([str(self.seed), *map(str, scope)]))

    # --- concurrency --------------------------------------------------------------------------------------------
    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """Apply `fn` to items on --concurrency threads, yielding results in the order of `items`."""
        items = list(items)
        if self.executor is None or self.concurrency <= 1 or len(items) <= 1:
            yield from map(fn, items)
            return
        yield from self.executor.map(fn, items)

    # --- the target ---------------------------------------------------------------------------------------------
    @property
    def model(self) -> str:
        if self.target.model:
            return self.target.model
        for operation in self.contract.operations:
            example = operation.example("model")
            if isinstance(example, str) and example:
                return example
        return "openai/dall-e-3"  # the spec names no example model: Bifrost's provider/model form still applies

    @property
    def deployment(self) -> str:
        return self.target.deployment or self.model.rsplit("/", 1)[-1]

    def url(self, operation: OperationContract, query: Mapping[str, str] | None = None) -> str:
        """The full URL of an operation on the target: path parameters filled, prefix mapped, query added."""
        path = operation.path
        params: dict[str, str] = {}
        for parameter in operation.parameters:
            if parameter.location == "path":
                path = path.replace("{" + parameter.name + "}", self.deployment)
            elif parameter.location == "query" and parameter.name == "api-version":
                version = self.target.api_version or parameter.example
                if version is not None:
                    params[parameter.name] = str(version)
        path = map_prefix(path, self.target.prefixes)
        params.update(query or {})
        url = self.target.base_url.rstrip("/") + path
        return f"{url}?{urlencode(params)}" if params else url

    def credentials(
        self, which: Credentials = "default", operation: OperationContract | None = None, scheme: str | None = None
    ) -> dict[str, str]:
        """The auth header for a request: the real key, none, or a wrong key, sent the `scheme` way (default --auth).

        On an operation whose security does not list --auth's scheme (the Azure `api-key` header on a native route)
        the key goes as a Bearer token instead, which every route accepts.
        """
        if which == "none" or (which == "default" and not self.target.api_key):
            return {}
        key = WRONG_KEY if which == "wrong" else self.target.api_key or ""
        if scheme is None:
            scheme = self.target.auth
            if operation is not None and not operation.accepts_auth(scheme) and operation.accepts_auth("bearer"):
                scheme = "bearer"
        return auth_headers(scheme, key)

    # --- bodies ---------------------------------------------------------------------------------------------------
    def valid_body(self, operation: OperationContract, **fields: Any) -> dict[str, Any]:
        """The smallest valid body (the required fields, one image), updated with `fields`; OMIT removes a field."""
        body: dict[str, Any] = {}
        # only what the spec requires: a gateway demanding more (a model on an Azure route) fails the minimal case;
        # a prompt unless `fields` ask for the value that waives it (type=background_removal)
        needed = operation.required_in(fields)
        if "model" in needed:
            body["model"] = self.model
        if "prompt" in needed:
            body["prompt"] = "a red square on a white table"
        if operation.one_of_required and not any(alt <= body.keys() for alt in operation.one_of_required):
            first = sorted(operation.one_of_required[0])[0]
            body[first] = distinct_pngs(1)[0] if first in operation.file_fields else distinct_pngs(1)
        for name in operation.file_fields & needed:
            body.setdefault(name, distinct_pngs(1)[0])
        body.update(fields)
        return {name: value for name, value in body.items() if value is not OMIT}

    def cheapest_body(self, operation: OperationContract, **fields: Any) -> dict[str, Any]:
        """`valid_body` asking a provider for the least it can make: the smallest WxH size the operation's enum
        allows and the model takes (unless `fields` names a size: when size is the point), n at its minimum (absent:
        n's default), and with a model's rules known, its cheapest quality (low, or standard)."""
        cheap: dict[str, Any] = {}
        size = self.smallest_size(operation)
        if size is not None:
            cheap["size"] = size
        bounds = operation.integer_range("n")
        default = operation.default("n")
        if bounds is not None and bounds[0] is not None and default is not None:
            low, _ = self.limits.n_range(operation, bounds[0], bounds[1])
            if default != low:
                cheap["n"] = low
        if self.limits.rules(operation) is not None:
            qualities = self.limits.allowed(operation, "quality", operation.enum("quality") or ())
            cheapest = next((quality for quality in CHEAPEST_QUALITIES if quality in qualities), None)
            if cheapest is not None:
                cheap["quality"] = cheapest
        return self.valid_body(operation, **{**cheap, **fields})

    def smallest_size(self, operation: OperationContract) -> str | None:
        """The operation's smallest WxH size by area that the model takes (None when its size is no enum of WxH
        values, or the model takes none of them)."""
        sizes = [size for size in operation.enum("size") or () if isinstance(size, str) and _SIZE.match(size)]
        return smallest_of(self.limits.allowed(operation, "size", sizes))

    def mask(self) -> bytes:
        return mask_png()

    # --- sending --------------------------------------------------------------------------------------------------
    def request(
        self,
        operation: OperationContract,
        body: Mapping[str, Any] | None = None,
        *,
        encoding: Literal["auto", "json", "multipart"] = "auto",
        extra_parts: Iterable[Part] = (),
        raw: bytes | None = None,
        content_type: str | None = None,
        credentials: Credentials = "default",
        auth_scheme: str | None = None,
    ) -> WireRequest:
        """Build the wire request for `body`: JSON or multipart per the operation unless `encoding` says otherwise."""
        headers = self.credentials(credentials, operation, auth_scheme)
        url = self.url(operation)
        if raw is not None:
            return WireRequest(operation.method, url, headers, raw=raw, content_type=content_type)
        multipart = operation.is_multipart if encoding == "auto" else encoding == "multipart"
        if multipart:
            parts = (*to_parts(operation, body or {}), *extra_parts)
            return WireRequest(operation.method, url, headers, parts=parts)
        return WireRequest(operation.method, url, headers, json_body=to_json(body or {}))

    def send(
        self,
        operation: OperationContract,
        body: Mapping[str, Any] | None = None,
        *,
        remember: bool = False,
        **kwargs: Any,
    ) -> Reply:
        """Build and send a request (see `request`); raises BudgetExhausted when the budget is spent. `remember`: its
        2xx answer also answers later requests of the same meaning that allow it (`Sender.send`)."""
        return self.sender.send(self.request(operation, body, **kwargs), remember=remember)

    def fetch(self, url: str) -> Reply:
        """GET an absolute URL (a returned image); credentials go only to the target's own host."""
        same_host = urlsplit(url).netloc == urlsplit(self.target.base_url).netloc
        return self.sender.send(WireRequest("GET", url, self.credentials() if same_host else {}))


def smallest_of(sizes: Iterable[str]) -> str | None:
    """The smallest WxH size by area among `sizes`; a size that is not WxH (auto, the provider's choice) only when
    there is no other (None for none at all)."""
    listed = list(sizes)
    dimensioned = [size for size in listed if _SIZE.match(size)]
    if dimensioned:
        return min(dimensioned, key=_area)
    return listed[0] if listed else None


def _area(size: str) -> int:
    match = _SIZE.match(size)
    return int(match.group(1)) * int(match.group(2)) if match else 0


def to_parts(operation: OperationContract, body: Mapping[str, Any]) -> list[Part]:
    """Multipart parts of a body: bytes become files, lists repeated parts, other values their text form; a JSON part
    (`operation.json_parts`) and any object are sent as application/json, one JSON value per part."""
    parts: list[Part] = []
    for name, value in body.items():
        values = value if isinstance(value, list | tuple) else [value]
        for index, item in enumerate(values):
            if isinstance(item, bytes):
                filename = f"{name.strip('[]') or 'file'}-{index + 1}.png"
                parts.append(Part(name, item, filename=filename, content_type=_sniff(item)))
            elif name in operation.json_parts or isinstance(item, dict):
                parts.append(Part(name, json.dumps(item), content_type="application/json"))
            else:
                parts.append(Part(name, _text(item)))
    return parts


def to_json(body: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON body; bytes (never valid in a JSON operation) are sent base64-encoded so the request stays JSON."""
    return {
        name: base64.b64encode(value).decode() if isinstance(value, bytes) else value for name, value in body.items()
    }


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _sniff(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"
