"""Typed contract checks shared by the scenario tests and the schemathesis layer.

Every check is a plain function that raises :class:`ContractViolation` (a fail, with
evidence) or :class:`UnsupportedOperation` (an honest 422), and returns the parsed
body where there is one. Checks never return booleans.

A check judging a rule every operation obeys (the error envelope, the schemas, the run
states) names it: ``ContractViolation(..., rule="ERR-002")``. A check of what the caller
expects (a status, an error code, a success) names none: the plugin names the failure by
the rules of the test that called it (``@pytest.mark.rules``).
"""

from __future__ import annotations

from conformance.checks.envelope import expect_error, expect_flat_error
from conformance.checks.failures import (
    CapabilityNotApplicable,
    ContractViolation,
    UnsupportedOperation,
)
from conformance.checks.responses import (
    expect_json_object,
    expect_ok,
    expect_schema,
    expect_status,
)
from conformance.checks.runstate import check_run_invariants, check_transition

__all__ = [
    "CapabilityNotApplicable",
    "ContractViolation",
    "UnsupportedOperation",
    "check_run_invariants",
    "check_transition",
    "expect_error",
    "expect_flat_error",
    "expect_json_object",
    "expect_ok",
    "expect_schema",
    "expect_status",
]
