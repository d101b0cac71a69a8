"""Hypothesis properties over the generated client (generated/client.py), one pair per operation:

- for every valid n and size (drawn from the spec's range and enum), the client gets len(data) == n images, each
  decoding to the requested pixel size (unless auto);
- for every invalid value of n or of an enum field (below or above the range, not an integer, not in the enum),
  the client gets a 4xx (`ApiError`), never a 2xx or a 5xx. A 401, 403, 404, 405 or 429 is no evidence either
  way, and a 4xx counts only once a valid request to the operation was accepted
  (pixelpact.conformance.catalogue.evidence).

Examples are bounded by --max-examples and seeded by --seed (so a run repeats), and not shrunk: a shrink would
spend requests, and the failing example is reported as drawn. Requests go through the run's Sender (budget,
timeout, --prefix, credentials, redacted evidence) via an httpx transport.
"""

from __future__ import annotations

import hashlib
import re
import string
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from pixelpact.conformance.catalogue import concerns as spec
from pixelpact.conformance.catalogue.evidence import rejected, unattributable
from pixelpact.conformance.catalogue.requirements import ACCEPTED, declare
from pixelpact.conformance.engine.context import RunContext, map_url_prefix, smallest_of
from pixelpact.conformance.engine.contract import OperationContract
from pixelpact.conformance.engine.images import NotAnImage, decode_b64, decode_image
from pixelpact.conformance.groups._judge import cheapest_format
from pixelpact.conformance.groups.invalid import checked_enums
from pixelpact.conformance.model import Exchange, Observation, Origin, Severity, Unjudged
from pixelpact.conformance.wire.http import BudgetExhausted, WireRequest

VALID_ID = "prop-valid-images-match"
INVALID_ID = "prop-invalid-rejected"

REQUIREMENTS = (
    declare(
        "properties",
        VALID_ID,
        Severity.CRITICAL,
        "For every valid n and size, the generated client gets len(data) == n images of the requested size",
        "ImageCount: Number of images to generate; ImageSize: Size of the generated images",
        origin=Origin.SEEDS,
        needs=ACCEPTED,
        concerns=(spec.IMAGES, spec.field("n"), spec.field("size")),
    ),
    declare(
        "properties",
        INVALID_ID,
        Severity.CRITICAL,
        "For every invalid n or enum value (size, response_format, quality ...), the generated client gets a 4xx",
        "seed: invalid requests -> 4xx, never 2xx or 5xx",
        origin=Origin.SEEDS,
        concerns=(spec.ENUM, spec.TYPE, spec.RANGE),
    ),
)


class ClientTransport(httpx.BaseTransport):
    """Lets the generated client send through the run's Sender; remembers each thread's last exchange."""

    def __init__(self, ctx: RunContext) -> None:
        self._ctx = ctx
        self._local = threading.local()

    @property
    def last_exchange(self) -> Exchange | None:
        exchange: Exchange | None = getattr(self._local, "exchange", None)
        return exchange

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        skipped = {"content-type", "content-length", "host"}
        wire = WireRequest(
            method=request.method,
            url=map_url_prefix(str(request.url), self._ctx.target.prefixes),
            headers={name: value for name, value in request.headers.items() if name.lower() not in skipped},
            raw=request.read(),
            content_type=request.headers.get("content-type"),
        )
        # reuse: the cheapest valid draw asks what the run's control asked (groups/_judge.control_body)
        reply = self._ctx.sender.send(wire, reuse=True)
        self._local.exchange = reply.exchange
        if reply.status is None:
            raise httpx.ConnectError(reply.error or "no response", request=request)
        headers = [(name, value) for name, value in reply.headers.multi_items() if name.lower() != "content-encoding"]
        return httpx.Response(reply.status, headers=headers, content=reply.content, request=request)


class PropertiesGroup:
    name = "properties"
    requirements = REQUIREMENTS

    def run(self, ctx: RunContext) -> Iterator[Observation]:
        from pixelpact.generated.client import Client

        transport = ClientTransport(ctx)
        with Client(ctx.target.base_url, headers=ctx.credentials(), timeout=60.0, transport=transport) as client:
            for operation in ctx.operations:
                method = getattr(client, _snake(operation.operation_id), None)
                if method is None:
                    continue  # the generated client predates this operation: `pixelpact generate` is due
                prober = Prober(ctx, operation, method, transport)
                yield from prober.valid_images()
                yield from prober.invalid_rejected()


class NotJudged(Exception):
    """The answer says nothing about the example (401, 404, 429, a redirect, or no control accepted): why."""


class Prober:
    """Runs one operation's two properties and collects their observations."""

    def __init__(self, ctx: RunContext, operation: OperationContract, method: Any, transport: ClientTransport) -> None:
        self.ctx = ctx
        self.operation = operation
        self.method = method
        self.transport = transport
        self.observations: list[Observation] = []
        self.budget_spent: str | None = None
        self.spent_reason = Unjudged.BUDGET
        self.valid_refused: str | None = "no valid request was sent"
        """None once a valid request to the operation got a 2xx: the control that makes a 4xx to an invalid one
        attributable to the invalid value; else what the valid request got."""

    def valid_images(self) -> list[Observation]:
        n_range = self.operation.integer_range("n")
        sizes = self.operation.enum("size")
        if n_range is None or not sizes:
            return []
        low, high = n_range[0] if n_range[0] is not None else 1, n_range[1] if n_range[1] is not None else 10
        low, model_high = self.ctx.limits.n_range(self.operation, low, high)
        high = model_high if model_high is not None else high
        sizes = tuple(self.ctx.limits.allowed(self.operation, "size", sizes))
        if not sizes or low > high:
            why = self.ctx.limits.why_not(self.operation, "any of the spec's sizes and n values")
            return [Observation(VALID_ID, self.operation.operation_id, False, why, skipped=True,
                                reason=Unjudged.NOT_APPLICABLE)]  # fmt: skip
        # b64_json makes every image's pixel size checkable without fetching urls (a model that takes no
        # response_format answers base64 anyway).
        extra = cheapest_format(self.ctx, self.operation)

        cheapest = self.ctx.cheapest_body(self.operation, **extra)

        def check(n: int, size: str) -> None:
            body = self.ctx.valid_body(self.operation, n=n, size=size, **extra)
            if size == cheapest.get("size") and n == cheapest.get("n", _default_n(self.operation, low)):
                body = cheapest  # the same request, written as the control writes it (n left at its default)
            self._observe(VALID_ID, lambda: self._valid_problem(body, n, size))

        if self.ctx.profile.cheapest_draws:  # quick: the property judged once, at the fewest and smallest images
            high, sizes = low, tuple(size for size in (smallest_of(sizes),) if size is not None)
        self._run(check, st.integers(low, high), st.sampled_from(sizes))
        return self._take(VALID_ID)

    def invalid_rejected(self) -> list[Observation]:
        choices = _invalid_values(self.operation)
        if not choices:
            return []
        names = sorted(choices)
        if self.valid_refused is not None and self.budget_spent is None:
            self._control()

        def check(data: st.DataObject) -> None:
            name = data.draw(st.sampled_from(names), label="field")
            value = data.draw(choices[name], label=name)
            body = self.ctx.valid_body(self.operation, **{name: value})
            self._observe(INVALID_ID, lambda: self._invalid_problem(body, name, value))

        self._run(check, st.data())
        return self._take(INVALID_ID)

    # --- one example ------------------------------------------------------------------------------------------------
    def _control(self) -> None:
        """Send the operation's smallest valid request, to know whether the operation accepts valid input at all
        (no observation of its own: it only decides whether a 4xx to an invalid value is attributable)."""
        from pixelpact.generated.client import ApiError

        try:
            self._call(self.ctx.valid_body(self.operation))
            self.valid_refused = None
        except BudgetExhausted as exc:
            self.budget_spent, self.spent_reason = str(exc), exc.reason
        except ApiError as exc:
            self.valid_refused = f"got {exc.status_code}"
        except ValueError:
            self.valid_refused = None  # a 200 the generated client could not parse: accepted all the same
        except httpx.HTTPError as exc:
            self.valid_refused = f"no usable response ({type(exc).__name__})"

    def _valid_problem(self, body: dict[str, Any], n: int, size: str) -> str | None:
        from pixelpact.generated.client import ApiError

        sent = f"n={n}, size={size}"
        try:
            response = self._call(body)
        except ApiError as exc:
            if unattributable(exc.status_code) is not None:
                raise NotJudged(f"{sent}: got {unattributable(exc.status_code)}") from None
            return f"{sent}: expected 200, got {exc.status_code}"
        except ValueError as exc:  # pydantic's ValidationError: the 200 body does not fit the generated model
            self.valid_refused = None
            return f"{sent}: the generated client could not parse the 200 body ({str(exc).splitlines()[0]})"
        self.valid_refused = None
        data = list(response.data)
        if len(data) != n:
            return f"{sent}: expected {n} images, got {len(data)}"
        match = re.fullmatch(r"(\d+)x(\d+)", size)
        for index, item in enumerate(data):
            if item.b64_json is None:
                continue  # a url: judged by the valid group (fetching costs requests)
            try:
                _, width, height = decode_image(decode_b64(item.b64_json))
            except NotAnImage as exc:
                return f"{sent}: data[{index}].b64_json: {exc}"
            if match and (width, height) != (int(match[1]), int(match[2])):
                return f"{sent}: data[{index}] is {width}x{height}, expected {size}"
        return None

    def _invalid_problem(self, body: dict[str, Any], name: str, value: Any) -> str | None:
        from pixelpact.generated.client import ApiError

        sent = f"{name}={value!r}"
        try:
            self._call(body)
        except ApiError as exc:
            if unattributable(exc.status_code) is not None:
                raise NotJudged(f"{sent}: got {unattributable(exc.status_code)}; that is no rejection of it") from None
            if not rejected(exc.status_code):
                return f"{sent}: expected a 4xx, got {exc.status_code}"
            if self.valid_refused is not None:
                why = f"{sent}: got {exc.status_code}, but a valid request {self.valid_refused} too: not attributable"
                raise NotJudged(why) from None
            return None
        except ValueError:
            return f"{sent}: expected a 4xx, got a 200 (whose body the generated client could not parse)"
        return f"{sent}: expected a 4xx, got a 200"

    def _call(self, body: dict[str, Any]) -> Any:
        kwargs: dict[str, Any] = {}
        for parameter in self.operation.parameters:
            if parameter.location == "path" and parameter.name == "deployment-id":
                kwargs["deployment_id"] = self.ctx.deployment
            elif parameter.location == "query" and parameter.name == "api-version":
                kwargs["api_version"] = self.ctx.target.api_version or parameter.example
        return self.method(body, **kwargs)

    def _observe(self, requirement_id: str, probe: Callable[[], str | None]) -> None:
        if self.budget_spent is not None:
            return
        skipped = False
        try:
            problem = probe()
        except BudgetExhausted as exc:
            self.budget_spent, self.spent_reason = str(exc), exc.reason
            return
        except httpx.HTTPError as exc:
            problem = f"no usable response: {type(exc).__name__}: {exc}"
        except NotJudged as exc:
            problem, skipped = str(exc), True
        self.observations.append(
            Observation(
                requirement_id,
                self.operation.operation_id,
                passed=problem is None,
                message=problem or "",
                exchange=self.transport.last_exchange,
                skipped=skipped,
            )
        )

    def _run(self, check: Callable[..., None], *strategies: st.SearchStrategy[Any]) -> None:
        test = settings(
            max_examples=self.ctx.max_examples,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )(given(*strategies)(check))
        seed(_seed(self.ctx.seed, self.operation.operation_id, check.__qualname__))(test)()

    def _take(self, requirement_id: str) -> list[Observation]:
        """The observations made so far; a skip when the budget ran out before any was made."""
        taken, self.observations = self.observations, []
        if self.budget_spent is not None and not taken:
            return [
                Observation(
                    requirement_id,
                    self.operation.operation_id,
                    False,
                    self.budget_spent,
                    skipped=True,
                    reason=self.spent_reason,
                )
            ]
        return taken


def _invalid_values(operation: OperationContract) -> dict[str, st.SearchStrategy[Any]]:
    """Per field, a strategy of values the spec forbids: n outside its range or not an integer, unknown enum values."""
    choices: dict[str, st.SearchStrategy[Any]] = {}
    n_range = operation.integer_range("n")
    if n_range is not None:
        low, high = n_range
        outside: list[st.SearchStrategy[Any]] = [st.sampled_from(["abc", "1.5", ""])]
        if low is not None:
            outside.append(st.integers(max_value=low - 1))
        if high is not None:
            outside.append(st.integers(min_value=high + 1))
        choices["n"] = st.one_of(outside)
    for name, values in checked_enums(operation).items():
        allowed = set(values)
        words = st.text(string.ascii_lowercase + string.digits + "x_-", min_size=1, max_size=12)
        choices[name] = words.filter(_not_in(allowed))
    return choices


def _not_in(allowed: set[Any]) -> Callable[[str], bool]:
    return lambda word: word not in allowed


def _snake(operation_id: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).lower()


def _seed(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256(":".join(map(str, parts)).encode()).digest()[:8], "big")


def _default_n(operation: OperationContract, low: int) -> int:
    default = operation.default("n")
    return default if isinstance(default, int) else low


GROUP = PropertiesGroup()
