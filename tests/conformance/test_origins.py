"""Every requirement says where it comes from (seeds, Bifrost, or a convention of this project), and the seeded
ones name only what the seed documents (/work/shared/seeds, quoted in tests/spec/seeded_facts.py) state."""

from __future__ import annotations

from pixelpact.conformance.model import Origin
from pixelpact.conformance.suite import ALL_GROUPS

REQUIREMENTS = [requirement for group in ALL_GROUPS for requirement in group.requirements]


def test_every_requirement_has_an_origin() -> None:
    assert all(isinstance(requirement.origin, Origin) for requirement in REQUIREMENTS)


def test_what_the_seeds_do_not_state_is_not_claimed_as_seeded() -> None:
    origin = {requirement.id: requirement.origin for requirement in REQUIREMENTS}
    # the error envelope, the stream's event names and the auth answers are Bifrost's own (its spec and code)
    for requirement_id in ("error-body-shape", "st-error-envelope", "stream-event-types", "auth-missing-rejected"):
        assert origin[requirement_id] is Origin.BIFROST, requirement_id
    # the robustness probes are this project's conventions: no seed speaks of hostile part names or huge numbers
    for requirement_id in ("hostile-part-names-survive", "huge-number-rejected", "empty-body-rejected"):
        assert origin[requirement_id] is Origin.CONVENTION, requirement_id
    # n's range, the image[] field, the first image used, fallbacks: seed 000 and 003 say them
    for requirement_id in ("n-out-of-range-rejected", "image-array-accepted", "variation-first-file-forwarded"):
        assert origin[requirement_id] is Origin.SEEDS, requirement_id
