"""Preconditions: whether what a requirement needs on an operation ever held during the run.

A requirement declares what must have held on an operation before it can be judged there (`Requirement.needs`):
the route is served (some answer other than 404/405), a valid request was accepted (a 2xx), a stream started.
After the run, `Preconditions` says per operation whether each held (True), never held (False) or could not be
told (None: nothing the run did shows it either way, e.g. the group that establishes it was not selected). A pair
whose precondition never held is blocked, not failed: the failure that explains it is reported once, as a finding.
"""

from __future__ import annotations

from collections.abc import Iterable

from pixelpact.conformance.model import Observation, Precondition, RequirementResult, Status

ROUTE, VALID, STREAM = Precondition.ROUTE_SERVED, Precondition.VALID_ACCEPTED, Precondition.STREAM_STARTED
#: The pair whose failure shows that a precondition never held on an operation (the route has no such pair: its
#: evidence is every answer of the operation being a 404 or 405).
ESTABLISHED_BY: dict[Precondition, str] = {VALID: "valid-request-accepted", STREAM: "stream-content-type"}
#: Statuses that say "no such route here".
NOT_SERVED = frozenset({404, 405})


class Preconditions:
    """Collects the answers of a run per operation (`see`) and tells which preconditions held (`held`)."""

    def __init__(self) -> None:
        self._served: dict[str, bool] = {}
        """operation -> whether some answer other than 404/405 came (absent: no answer at all)."""
        self._held: dict[tuple[str, Precondition], bool | None] = {}

    def see(self, observation: Observation) -> None:
        exchange = observation.exchange
        if exchange is None or exchange.status is None:
            return
        served = exchange.status not in NOT_SERVED
        self._served[observation.operation_id] = self._served.get(observation.operation_id, False) or served

    def settle(self, results: Iterable[RequirementResult]) -> None:
        """Decide every precondition from the run's answers and the results of the pairs that establish them."""
        by_pair = {(r.requirement.id, r.operation_id): r for r in results}
        for operation in {op for _, op in by_pair} | set(self._served):
            route = self._served.get(operation)
            self._held[(operation, ROUTE)] = route
            for precondition, requirement_id in ESTABLISHED_BY.items():
                held = _established(by_pair.get((requirement_id, operation)))
                self._held[(operation, precondition)] = False if route is False else held
            if self._held[(operation, VALID)] is False and self._held[(operation, STREAM)] is None:
                self._held[(operation, STREAM)] = False  # no valid request accepted, so no stream either

    def held(self, operation: str, precondition: Precondition) -> bool | None:
        return self._held.get((operation, precondition))

    def unmet(self, result: RequirementResult) -> Precondition | None:
        """The first precondition of the pair's requirement that never held on its operation, or None."""
        for precondition in result.requirement.needs:
            if self.held(result.operation_id, precondition) is False:
                return precondition
        return None

    def root(self, operation: str, precondition: Precondition) -> Precondition:
        """The most basic precondition that failed on the operation (the route before the valid request ...)."""
        for candidate in (ROUTE, VALID, STREAM):
            if self.held(operation, candidate) is False:
                return candidate
        return precondition


def _established(result: RequirementResult | None) -> bool | None:
    if result is None:
        return None
    if result.passed:
        return True
    return False if result.status is Status.FAILED else None
