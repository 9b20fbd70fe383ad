"""Rule ids on tests and on their failures.

A suite test names the rules it enforces with ``@pytest.mark.rules("PAG-003", ...)``. A
failure's text begins with the rules it breaks: a :class:`ContractViolation` naming its own
rule keeps it, any other assertion (a bare ``assert``, ``pytest.fail``, a violation without
a rule) gets the test's rule ids, and an ``unsupported_operation`` that fails a required
capability names CAP-002.

Example: a bare ``assert page <= limit, "page too long"`` in a ``rules("PAG-002")`` test
fails with ``AssertionError: PAG-002: page too long``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from conformance.rules import RULES, closest_rule

if TYPE_CHECKING:
    import pytest

__all__ = [
    "LEAK_RULE",
    "MARKER",
    "MARKER_HELP",
    "REQUIRED_BUT_UNSUPPORTED",
    "marker_errors",
    "rules_of",
    "tag_failure",
]

MARKER = "rules"
MARKER_HELP = (
    "rules(id, ...): the rules of the catalogue (conformance.rules, docs/rules.md) the test "
    "enforces; failure messages and report rows name them"
)
REQUIRED_BUT_UNSUPPORTED = "CAP-002"
LEAK_RULE = "CLN-002"  # a resource left after the run's teardown
_LEADING = re.compile(r"\s*([A-Z]{2,4}-\d{3}(?:, [A-Z]{2,4}-\d{3})*): ")


def rules_of(item: pytest.Item) -> tuple[str, ...]:
    """The rule ids of ``item``'s ``rules`` markers (closest first, each once).

    Example: ``rules_of(item) == ("PAG-002", "PAG-001")``.
    """
    ids: list[str] = []
    for marker in item.iter_markers(MARKER):
        ids += [str(arg) for arg in marker.args]
    return tuple(dict.fromkeys(ids))


def marker_errors(item: pytest.Item) -> str | None:
    """What is wrong with ``item``'s ``rules`` markers (an unknown id), or None."""
    for marker in item.iter_markers(MARKER):
        if not marker.args or marker.kwargs:
            return f'{item.nodeid}: @pytest.mark.rules("<id>", ...) needs rule ids'
        for arg in marker.args:
            if not isinstance(arg, str) or arg not in RULES:
                near = closest_rule(str(arg))
                hint = f" (did you mean {near}?)" if near else ""
                return f"{item.nodeid}: unknown rule {arg!r} in rules(){hint}"
    return None


def leading_rules(text: str) -> tuple[str, ...]:
    """The rule ids a failure text begins with (``"PAG-001, PAG-002: ..."``), if any."""
    match = _LEADING.match(text)
    if match is None:
        return ()
    ids = tuple(match.group(1).split(", "))
    return ids if all(i in RULES for i in ids) else ()


def tag_failure(exc: BaseException | None, ids: tuple[str, ...], *, unsupported: bool) -> list[str]:
    """Make ``exc``'s text begin with the rules it breaks; return them, then ``ids``.

    Args:
        exc: what the phase raised (None: nothing to tag, ``ids`` are returned).
        ids: the test's own rule ids (its ``rules`` markers).
        unsupported: ``exc`` is an ``UnsupportedOperation`` that fails a required
            capability (CAP-002 names it).

    Only verdicts are tagged (assertions, ``pytest.fail``, contract violations and a
    failing ``unsupported_operation``); a harness error keeps its text.
    """
    import pytest

    from conformance.checks.failures import ContractViolation

    broken: tuple[str, ...] = ()
    if isinstance(exc, ContractViolation):
        exc.rules = exc.rules or ids
        broken = exc.rules
    elif isinstance(exc, pytest.fail.Exception):
        broken = leading_rules(exc.msg or "") or ids
        if broken and not leading_rules(exc.msg or ""):
            exc.msg = f"{', '.join(broken)}: {exc.msg or ''}"
            exc.args = (exc.msg,)
    elif isinstance(exc, AssertionError) or (exc is not None and unsupported):
        broken = (REQUIRED_BUT_UNSUPPORTED,) if unsupported else ids
        text = str(exc.args[0]) if exc.args else ""
        if leading_rules(text):
            broken = leading_rules(text)
        elif broken:
            exc.args = (f"{', '.join(broken)}: {text}", *exc.args[1:])
    return list(dict.fromkeys(broken + ids))
