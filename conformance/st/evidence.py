"""Which of schemathesis's recorded successes are evidence that a requirement was exercised.

schemathesis records a success for every check that did not return a truthy value (checks.run_checks), and its
built-in checks return None where they do not apply as much as where they passed: `negative_data_rejection` on a
valid request, `positive_data_acceptance` on a 401, `response_schema_conformance` on an undocumented status. The
image checks of pixelpact.conformance.st.hooks follow the contract (they return SKIPPED where they do not apply); for
the built-in ones, `exercised` says when a success shows the requirement held on an answer that came from the operation.
"""

from __future__ import annotations

from typing import Any

from pixelpact.conformance.catalogue.evidence import NOT_ACCEPTANCE, accepted, reached, rejected
from pixelpact.conformance.engine.contract import OperationContract

#: Statuses schemathesis must not read as "valid data rejected": they are no answer about the data (the pair stays
#: unjudged, see pixelpact.conformance.catalogue.evidence), or a server error (st-no-server-error's business).
POSITIVE_EXPECTED_STATUSES = ["2XX", "3XX", *map(str, sorted(NOT_ACCEPTANCE)), "5XX"]
#: Statuses schemathesis must not read as "invalid data accepted": its defaults, and redirects (no answer yet).
NEGATIVE_EXPECTED_STATUSES = ["3XX", "400", "401", "403", "404", "405", "406", "409", "415", "422", "428", "429", "5XX"]


def exercised(check: str, operation: OperationContract, case: Any, response: Any) -> bool:
    """Whether a success of `check` on this exchange is evidence for its requirement (see the module docstring)."""
    from pixelpact.conformance.st.filters import request_problem

    status = response.status_code
    if check == "positive_data_acceptance":
        return _is_positive(case) and accepted(status)
    if check == "negative_data_rejection":
        # a 4xx the invalid part explains, to a request that is still invalid as it reached the wire
        return not _is_positive(case) and rejected(status) and request_problem(operation, case) is not None
    if check in ("not_a_server_error", "status_code_conformance"):
        return reached(status)
    if check in ("content_type_conformance", "response_schema_conformance"):
        return reached(status) and case.operation.responses.find_by_status_code(status) is not None
    return True  # pixelpact.conformance.st.hooks's checks: a success is recorded only where they checked


def _is_positive(case: Any) -> bool:
    meta = getattr(case, "meta", None)
    return meta is not None and bool(meta.generation.mode.is_positive)
