"""The rules each property-layer check judges (``conformance.checks.property``).

Kept here, not beside the checks, so a suite module can name them in its ``rules`` marker
without loading schemathesis. A violation naming its own rule is more precise and wins.

Example: ``CHECK_RULES["arker_error_status"] == ("ERR-004",)``.
"""

from __future__ import annotations

__all__ = ["CHECK_RULES", "PROPERTY_RULES", "STATEFUL_RULES", "rules_of_checks"]

CHECK_RULES: dict[str, tuple[str, ...]] = {
    # schemathesis built-ins
    "not_a_server_error": ("RSP-006",),
    "status_code_conformance": ("RSP-003",),
    "content_type_conformance": ("RSP-005",),
    "response_headers_conformance": ("RSP-005",),
    "response_schema_conformance": ("RSP-002",),
    "negative_data_rejection": ("ERR-010",),
    "positive_data_acceptance": ("ERR-011",),
    # ours
    "arker_error_envelope": ("ERR-001", "ERR-002", "ERR-003"),
    "arker_error_status": ("ERR-004",),
    "arker_unsupported_operation": ("CAP-002", "CAP-003"),
    "arker_capability_honesty": ("CAP-001",),
    "arker_run_state": ("RUN-012", "RUN-013", "RUN-014", "RUN-015"),
    "arker_no_secrets": ("AUTH-004",),
    "arker_auth_required": ("AUTH-002",),
}
# positive_data_acceptance runs only in the stateless tests (some operations)
_STATELESS_ONLY = ("positive_data_acceptance",)


def rules_of_checks(names: tuple[str, ...]) -> tuple[str, ...]:
    """The rules the checks ``names`` judge, each once (for a test's ``rules`` marker)."""
    return tuple(dict.fromkeys(rule for name in names for rule in CHECK_RULES[name]))


# what a stateless property test and the stateful workflow judge
PROPERTY_RULES = rules_of_checks(tuple(CHECK_RULES))
STATEFUL_RULES = rules_of_checks(tuple(n for n in CHECK_RULES if n not in _STATELESS_ONLY))
