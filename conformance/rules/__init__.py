"""The rule catalogue: every rule the suite enforces, with a stable id.

Each :class:`Rule` has an id (family prefix and number, ``PAG-003``), one sentence, its
capability and where 0.5.1 states it. Suite tests name the rules they enforce with
``@pytest.mark.rules("PAG-003", ...)``; a check names the rule it judges with
``ContractViolation(..., rule="ERR-002")``. Failure messages begin with the rule ids and
every report row carries them (``rule_ids``). ``docs/rules.md`` is generated from here:
``python -m conformance.rules`` rewrites it.

Example: ``RULES["PAG-003"].capability == "pagination"``.
"""

from __future__ import annotations

import difflib

from conformance.rules import files, responses, runs, vms
from conformance.rules._model import EVERY, ID_PATTERN, Family, Rule
from conformance.rules.dropped import DROPPED, Dropped

__all__ = [
    "DROPPED",
    "EVERY",
    "FAMILIES",
    "ID_PATTERN",
    "RULES",
    "Dropped",
    "Family",
    "Rule",
    "closest_rule",
    "unknown_rules",
]

FAMILIES: tuple[Family, ...] = responses.FAMILIES + vms.FAMILIES + runs.FAMILIES + files.FAMILIES
RULES: dict[str, Rule] = {rule.id: rule for family in FAMILIES for rule in family.rules}


def unknown_rules(ids: object) -> list[str]:
    """The entries of ``ids`` that name no catalogued rule.

    Example: ``unknown_rules(["PAG-003", "PAG-999"]) == ["PAG-999"]``.
    """
    items = [ids] if isinstance(ids, str) else list(ids) if isinstance(ids, list | tuple) else [ids]
    return [str(i) for i in items if not isinstance(i, str) or i not in RULES]


def closest_rule(name: str) -> str | None:
    """The catalogued id closest to ``name`` (for error messages), or None.

    Example: ``closest_rule("PAG-03") == "PAG-003"``.
    """
    matches = difflib.get_close_matches(name, list(RULES), n=1, cutoff=0.6)
    return matches[0] if matches else None
