"""How deep a run goes, and so what it costs at the provider: `--profile quick | standard | deep`.

- quick: every requirement x operation pair judged by its cheapest exchange: in the deterministic groups the fewest
  requests that judge every pair (a greedy set cover by megapixels: n at its minimum, the smallest size, one exchange
  judging every requirement it can, an unknown field beside `image[]`), streams of one image; schemathesis sends one
  cheapest valid request per operation (its examples phase with that example alone: smallest size, b64_json, judged
  by every check) and fuzzes invalid requests only (they make no image); the hypothesis properties at their cheapest
  n and size; 2 examples each. What you run against staging on every deploy.
- standard: every value the deterministic groups know (each size, format, hostile name, invalid value), n at its
  minimum where n is not the point; schemathesis's examples phase (the spec's examples and the cheapest one) and
  fuzzing of invalid requests (no coverage phase), 3 examples.
- deep: the full depth (the default run before profiles existed): schemathesis's coverage phase, 10 examples, a
  small random n in the enum cases. For the built-in stub and gateways on this machine.

Defaults (`default_profile`): the built-in stub and loopback targets run deep; any other host runs quick unless
--profile says otherwise, so a remote gateway in front of paid providers never gets a deep run by surprise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from ipaddress import ip_address
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")


class Probe(Protocol):
    """A deterministic group's request: the requirement it judges and its body (wire names)."""

    @property
    def requirement_id(self) -> str: ...

    @property
    def body(self) -> Any: ...


P = TypeVar("P", bound=Probe)


@dataclass(frozen=True)
class Profile:
    """What the groups send for one depth."""

    name: str
    max_examples: int
    """Examples per operation for the property-based groups (unless --max-examples says otherwise)."""
    one_per_pair: bool
    """Deterministic groups send only the cheapest request judging each requirement x operation pair."""
    cheapest_n: bool
    """Requests whose point is not n ask for n at its minimum (deep draws a small random n)."""
    schemathesis_phases: tuple[str, ...]
    cheapest_draws: bool = False
    """The hypothesis properties draw n and size from their cheapest values only (quick)."""
    schemathesis_spec_examples: bool = True
    """The examples phase sends the spec's examples beside the cheapest b64_json one (quick: that one alone)."""
    schemathesis_negative_fuzzing: bool = False
    """schemathesis's fuzzing phase generates invalid requests only (quick: the cheapest example judges the valid
    side; its few fuzzed examples go where no image is made and the invalid-side pairs get their evidence)."""


QUICK = Profile(
    "quick",
    2,
    True,
    True,
    ("examples", "fuzzing"),
    cheapest_draws=True,
    schemathesis_spec_examples=False,
    schemathesis_negative_fuzzing=True,
)
STANDARD = Profile("standard", 3, False, True, ("examples", "fuzzing"), schemathesis_negative_fuzzing=True)
DEEP = Profile("deep", 10, False, False, ("examples", "coverage", "fuzzing"))
PROFILES = {profile.name: profile for profile in (QUICK, STANDARD, DEEP)}


def default_profile(base_url: str | None) -> Profile:
    """deep for the built-in stub (no base URL) and loopback targets, quick for any other host."""
    if base_url is None or is_loopback(base_url):
        return DEEP
    return QUICK


def is_loopback(base_url: str) -> bool:
    host = urlsplit(base_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def cheapest_cover(items: Sequence[T], judges: Callable[[T], Iterable[str]], cost: Callable[[T], float]) -> list[T]:
    """The items to send when each judged thing needs one exchange: the greedy set cover, taking each time the item
    that judges the most not yet judged per unit of cost (ties: the earlier item); the result keeps the items' order.
    """
    judged = [set(judges(item)) for item in items]
    costs = [cost(item) + 1e-3 for item in items]  # free requests still cost a request
    covered: set[str] = set()
    kept: set[int] = set()
    while True:
        gains = [(len(judged[i] - covered) / costs[i], -i) for i in range(len(items)) if i not in kept]
        best = max(gains, default=(0.0, 0))
        if best[0] <= 0:
            break
        kept.add(-best[1])
        covered |= judged[-best[1]]
    return [item for index, item in enumerate(items) if index in kept]


def one_per_pair(profile: Profile, probes: Sequence[P]) -> list[P]:
    """The probes a profile sends to one operation: all of them, or (quick) the cheapest per requirement."""
    from pixelpact.conformance.wire.spend import body_cost

    if not profile.one_per_pair:
        return list(probes)
    return cheapest_cover(probes, lambda probe: (probe.requirement_id,), lambda probe: body_cost(probe.body))
