"""What the plugin prints: report header, warnings, test status letters, terminal summary.

Nothing here talks to the target; secrets never appear (URLs go through ``public_url``,
keys are never read).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from conformance.plugin.expected import counted_leaks, incomplete_reasons, missing_tests
from conformance.plugin.verdict import backend_label, capability_rows, counts, current_verdict
from conformance.vocabulary import Outcome, Verdict

if TYPE_CHECKING:
    from conformance.plugin.state import RunState

__all__ = ["STATUS", "header_lines", "summary_lines", "wants_header", "warning_lines"]

# outcome → (pytest category, letter, word, markup)
STATUS: dict[Outcome, tuple[str, str, str, dict[str, bool]]] = {
    Outcome.PASS: ("passed", ".", "PASS", {"green": True}),
    Outcome.FAIL: ("failed", "F", "FAIL", {"red": True}),
    Outcome.WARN: ("warn", "W", "WARN", {"yellow": True}),
    Outcome.UNSUPPORTED: ("unsupported", "U", "UNSUPPORTED", {"cyan": True}),
    Outcome.DISABLED: ("disabled", "D", "DISABLED", {"yellow": True}),
    Outcome.ERROR: ("error", "E", "ERROR", {"red": True}),
}
MISSING_SHOWN = 20  # missing tests named in the terminal summary (all are in the report)
_VERDICT_MARKUP = {
    Verdict.CONFORMANT: {"green": True, "bold": True},
    Verdict.PARTIAL: {"yellow": True, "bold": True},
    Verdict.NON_CONFORMANT: {"red": True, "bold": True},
    Verdict.INCOMPLETE: {"red": True, "bold": True},
}


def wants_header(config: pytest.Config, state: RunState) -> bool:
    """Print the header only for runs aimed at the suite (stay quiet for other runs)."""
    if state.settings.backend_url or config.getoption("arker_profile", None):
        return True
    return any("conformance" in str(arg) for arg in config.args)


def header_lines(state: RunState) -> list[str]:
    """Target (secrets removed), profile, spec version + hash prefix, seed, run id."""
    from conformance import __version__
    from conformance.spec import Spec

    settings = state.settings
    try:
        spec = Spec.load(settings.spec)
        spec_line = f"{spec.version} (sha256 {spec.sha256[:12]})"
    except Exception as exc:  # the header must not break the run; the fixture will report it
        spec_line = f"unreadable: {exc}"
    mode = " [read-only]" if settings.read_only else ""
    return [
        f"arker-conformance {__version__}: target {backend_label(state)}{mode}",
        f"arker-conformance: profile {_profile_label(state)}, spec {spec_line}",
        f"arker-conformance: seed {_seed_label(settings.seed, settings.seed_drawn)}, "
        f"run id {settings.run_id}",
    ]


def warning_lines(state: RunState) -> list[str]:
    """Every ``ARKER_`` environment variable the suite does not know, and credentials in a
    URL (not sent): either would otherwise be ignored without a word."""
    import os

    from conformance.environment import warning_lines as unknown_variables
    from conformance.urls import userinfo_warning

    urls = [
        userinfo_warning(state.settings.backend_url, "--backend-url"),
        userinfo_warning(state.settings.control_url, "--control-url"),
    ]
    return [*unknown_variables(os.environ), *filter(None, urls)]


def _seed_label(seed: int, drawn: bool) -> str:
    return f"{seed} (drawn at random; repeat with --seed {seed})" if drawn else str(seed)


def summary_lines(state: RunState) -> list[tuple[str, dict[str, Any]]]:
    """Lines of the ``arker-conformance`` terminal summary section, with markup."""
    verdict = current_verdict(state)
    tally = counts(state)
    lines: list[tuple[str, dict[str, Any]]] = [("", {})]
    lines.append((f"{'=' * 20} arker-conformance summary {'=' * 20}", {"bold": True}))
    lines += [(line, {}) for line in header_lines(state)]
    lines.append(("outcomes: " + ", ".join(f"{tally[str(o)]} {o}" for o in Outcome), {}))
    lines.append((f"{'capability':<22} {'requirement':<12} expected executed passed", {}))
    for cap, req, expected, executed, passed in capability_rows(state):
        lines.append((f"{cap:<22} {req:<12} {expected:>8} {executed:>8} {passed:>6}", {}))
    for nodeid, result in state.results.items():
        if result.outcome in (Outcome.WARN, Outcome.ERROR) or (
            result.outcome is Outcome.DISABLED and not result.by_profile
        ):
            first = (result.message or "").strip().splitlines()[:1]
            lines.append((f"{result.outcome.upper()} {nodeid}: {' '.join(first)}", {}))
    lines += _incomplete_lines(state, verdict)
    lines += [(f"problem: {p}", {"red": True}) for p in dict.fromkeys(state.problems)]
    leak_word = f"{len(state.leaks)} leak(s)" if state.leaks else "no leaks"
    counted = len(counted_leaks(state))
    if counted:
        leak_word += f" ({counted} counted as a required failure: the backend kept them)"
    lines.append((f"resources: {leak_word} after teardown", {"red": bool(state.leaks)}))
    lines += [(f"  leak: {leak}", {"red": True}) for leak in state.leaks]
    from conformance.traffic import cost_line

    lines.append((cost_line(state), {}))
    lines.append((f"report: {state.settings.run_dir}", {}))
    lines.append(
        (f"verdict: {verdict} (profile {_profile_label(state)})", _VERDICT_MARKUP[verdict])
    )
    return lines


def _incomplete_lines(state: RunState, verdict: Verdict) -> list[tuple[str, dict[str, Any]]]:
    """Why the run is incomplete, and the required tests it did not judge (capped)."""
    missing = missing_tests(state)
    lines: list[tuple[str, dict[str, Any]]] = []
    if verdict is Verdict.INCOMPLETE:
        lines += [(f"incomplete: {reason}", {"red": True}) for reason in incomplete_reasons(state)]
    if missing:
        lines.append((f"{len(missing)} required test(s) not judged:", {}))
        lines += [(f"  missing: {nodeid}", {}) for nodeid in missing[:MISSING_SHOWN]]
        if len(missing) > MISSING_SHOWN:
            more = len(missing) - MISSING_SHOWN
            lines.append((f"  ... and {more} more (all in results.json: missing_tests)", {}))
    return lines


def _profile_label(state: RunState) -> str:
    if state.profile is None:
        return state.settings.profile
    chain = " extends ".join(state.profile.chain)
    return (
        chain
        if state.profile.name == state.settings.profile
        else f"{chain} ({state.settings.profile})"
    )
