"""The provider model a run keeps to: what the deployment behind the gateway takes, so valid requests stay within it.

`--model` (and on Azure routes `--deployment`) picks the model's rules from the table in
pixelpact.generator.runtime.provider_api. Every valid request the groups build asks only for what that model takes:
its sizes, its n range, response_format only where it takes one, its quality and style values, streams only on a
model that streams. A requirement that cannot be exercised within the rules is not judged, with the reason ("the
model gpt-image-1 does not take response_format"), never failed. Requests about the gateway's own validation (the
invalid and robustness groups' variants, the forwarding group's out-of-contract values) still send what the spec
forbids.

A model the table does not know keeps to the spec's ranges, and the run says so (`notes`). It learns from the
provider's refusals: when the valid control is refused for a value the spec allows and the refusal names the field
(the error's `param`, or the field named in the recording upstream's error), the control is tried once more with the
next cheapest value (`learn`), and what was refused is reported. Without --model or --deployment the run keeps to
the spec's ranges, as before: the spec's example model is no deployment of anyone's.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pixelpact.conformance.engine.contract import OperationContract
from pixelpact.generator.runtime.provider_api import Kind, ModelRules, rules_for

T = TypeVar("T")

#: pixelpact.conformance.engine.contract's operation kinds (path segments) -> the provider table's.
KIND: dict[str, Kind] = {"generations": "generation", "edits": "edit", "variations": "variation"}
#: Where the table lives, for messages.
TABLE = "pixelpact.generator.runtime.provider_api"


@dataclass(frozen=True)
class Refused:
    """A value the provider refused in the valid control of an unknown model, and what the run used instead."""

    operation_id: str
    name: str
    value: Any
    instead: Any
    message: str
    supported: tuple[Any, ...] = ()
    """The values the refusal says the provider takes (empty: it did not say)."""

    def describe(self) -> str:
        instead = "left out" if self.instead is None else f"{self.name}={self.instead!r} used instead"
        return f"{self.operation_id}: the provider refused {self.name}={self.value!r} ({self.message}); {instead}"


@dataclass
class ModelLimits:
    """The rules a run keeps to, per operation; thread-safe (groups run concurrently)."""

    model: str | None = None
    """--model as given (None: not given)."""
    deployment: str | None = None
    """--deployment as given (None: not given)."""
    learned: list[Refused] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # --- which rules ----------------------------------------------------------------------------------------------
    def rules(self, operation: OperationContract) -> ModelRules | None:
        """The model's rules for an operation: on Azure routes the deployment's when it names a known model, else
        --model's; None when neither is given or the table does not know the model."""
        if operation.family == "azure":
            by_deployment = rules_for(self.deployment)
            if by_deployment is not None:
                return by_deployment
        return rules_for(self.model)

    @property
    def chosen(self) -> list[str]:
        """The model names the run was told (--model, --deployment)."""
        return [name for name in (self.model, self.deployment) if name]

    def unknown(self) -> str | None:
        """One line when a model was named that the table does not know: the run keeps to the spec's ranges."""
        if not self.chosen or any(rules_for(name) for name in self.chosen):
            return None
        named = " / ".join(repr(name) for name in self.chosen)
        return (
            f"model {named} is not in the table of model rules ({TABLE}): the run keeps to the spec's ranges and "
            "learns from the provider's refusals of the valid control"
        )

    def describe(self) -> list[str]:
        """What the run keeps to, for `--plan` and the report's notes."""
        unknown = self.unknown()
        if unknown is not None:
            return [unknown]
        lines: list[str] = []
        for name in dict.fromkeys(self.chosen):
            rules = rules_for(name)
            if rules is not None:
                lines.append(f"model {rules.model}: valid requests keep to its rules ({TABLE}):")
                lines += [f"  {line}" for line in rules.limits()]
        return lines or ["no --model: valid requests keep to the spec's ranges"]

    # --- what an operation takes -----------------------------------------------------------------------------------
    def serves(self, operation: OperationContract) -> bool:
        rules = self.rules(operation)
        return rules is None or rules.serves(KIND[operation.kind])

    def takes(self, operation: OperationContract, name: str) -> bool:
        rules = self.rules(operation)
        if rules is not None and not rules.takes(KIND[operation.kind], name):
            return False
        return not any(r.name == name and r.instead is None for r in self._learned(operation))

    def allows(self, operation: OperationContract, name: str, value: Any) -> bool:
        rules = self.rules(operation)
        if rules is not None and not rules.allows(KIND[operation.kind], name, value):
            return False
        for refused in self._learned(operation):
            if refused.name == name and (
                value == refused.value or (refused.supported and value not in refused.supported)
            ):
                return False
        return True

    def allowed(self, operation: OperationContract, name: str, values: Iterable[T]) -> list[T]:
        """`values` (the spec's) that the model takes for field `name`, in their order."""
        if not self.takes(operation, name):
            return []
        return [value for value in values if self.allows(operation, name, value)]

    def n_range(self, operation: OperationContract, low: int, high: int | None) -> tuple[int, int | None]:
        """The spec's n range narrowed to the model's."""
        rules = self.rules(operation)
        rule = rules.rule(KIND[operation.kind], "n") if rules is not None else None
        if rule is None:
            return low, high
        low = max(low, rule.low) if rule.low is not None else low
        if rule.high is not None:
            high = rule.high if high is None else min(high, rule.high)
        return low, high

    def max_images(self, operation: OperationContract, wanted: int) -> int:
        """How many input images of `wanted` an edit may carry."""
        rules = self.rules(operation)
        limit = rules.max_images.get(KIND[operation.kind]) if rules is not None else None
        if limit is None or limit.high is None:
            return wanted
        return min(wanted, limit.high)

    def keep_to(self, operation: OperationContract, body: dict[str, Any]) -> dict[str, Any]:
        """A valid request `body` brought within the model's rules, for requests the suite does not build itself
        (schemathesis's positive cases): a field the model does not take is left out, a value it does not take
        becomes the first of the spec's values it takes (n: the nearest in its range), and an edit carries no more
        images than it takes. What it already takes, and every body without known rules, is returned unchanged.
        None and false values are left alone: a provider reads them as absent."""
        kept = dict(body)
        for name, value in body.items():
            if value is None or value is False:
                continue
            if name in operation.files:
                if isinstance(value, list) and len(value) > self.max_images(operation, len(value)):
                    kept[name] = value[: self.max_images(operation, len(value))]
                continue
            if not self.takes(operation, name):
                del kept[name]
            elif not self.allows(operation, name, value):
                instead = self._instead(operation, name, value)
                if instead is None:
                    del kept[name]
                else:
                    kept[name] = instead
        return kept

    def _instead(self, operation: OperationContract, name: str, value: Any) -> Any:
        """A value the model takes in place of `value`: n clamped into its range, else the first of the spec's."""
        bounds = operation.integer_range(name)
        if name == "n" and bounds is not None and isinstance(value, int):
            low, high = self.n_range(operation, bounds[0] or 1, bounds[1])
            return max(low, value if high is None else min(value, high))
        return next(iter(self.allowed(operation, name, operation.enum(name) or ())), None)

    def why_not(self, operation: OperationContract, what: str) -> str:
        """The reason a requirement is not judged: "the model gpt-image-1 does not take response_format (source)"."""
        rules = self.rules(operation)
        if rules is None:
            refused = [r for r in self._learned(operation) if what.startswith(r.name)]
            detail = f" ({refused[0].message})" if refused else ""
            return f"the model does not take {what}: the provider refused it{detail}"
        kind = KIND[operation.kind]
        if not rules.serves(kind):
            return f"the model {rules.model} does not take {kind}s ({rules.serves_source})"
        name = what.split("=", 1)[0].split(" ", 1)[0]
        rule = rules.rule(kind, name)
        source = f" ({rule.source})" if rule is not None else ""
        return f"the model {rules.model} does not take {what}{source}"

    # --- learning from refusals --------------------------------------------------------------------------------------
    def learn(self, refused: Refused) -> None:
        with self._lock:
            self.learned.append(refused)

    def _learned(self, operation: OperationContract) -> list[Refused]:
        with self._lock:
            return [r for r in self.learned if r.operation_id == operation.operation_id]

    def notes(self) -> list[str]:
        """What the report says about the model: unknown to the table, and every value its provider refused."""
        lines = [line for line in (self.unknown(),) if line]
        with self._lock:
            lines += [f"learned from a refusal: {refused.describe()}" for refused in self.learned]
        return lines


def refused_field(body: dict[str, Any], param: Any, messages: Sequence[str]) -> str | None:
    """The field of the control body a refusal is about: the error's `param` when it names one of the body's fields
    the spec lets a request leave out or vary, else the one field whose name the messages quote."""
    if isinstance(param, str) and param in body:
        return param
    named = [name for name in body if any(f"'{name}'" in message or f"`{name}`" in message for message in messages)]
    return named[0] if len(named) == 1 else None
