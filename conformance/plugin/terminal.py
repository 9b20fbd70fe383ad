"""What the plugin prints (report header, terminal summary) and how a run finishes.

Nothing here talks to the target; secrets never appear (URLs go through ``public_url``,
keys are never read).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from conformance.collect import (
    backend_label,
    build_report,
    capability_rows,
    counts,
    current_verdict,
)
from conformance.expected import counted_leaks, incomplete_reasons, missing_tests
from conformance.outcomes import EXIT_CODES, Outcome, Verdict

if TYPE_CHECKING:
    from conformance.session import RunState

__all__ = ["finish", "header_lines", "summary_lines", "wants_header"]

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


def _seed_label(seed: int, drawn: bool) -> str:
    return f"{seed} (drawn at random; repeat with --seed {seed})" if drawn else str(seed)


def finish(state: RunState) -> int:
    """Write the reports and return the exit status the verdict asks for."""
    from conformance.reports import write_all

    code = 2 if state.usage_errors else EXIT_CODES[current_verdict(state)]
    if state.profile is None:
        if state.profile_refused:
            # this process ended the run on a bad profile: the refusal is printed; exiting
            # again here printed it a second time
            return 2
        from conformance.session import profile_of

        profile_of(state)  # results arrived from xdist workers only
    try:
        write_all(build_report(state), state.settings.run_dir)
    except Exception as exc:  # a broken report is a harness failure: the run is not judged
        state.problems.append(f"report could not be written: {type(exc).__name__}: {exc}")
        return 2
    return code


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
        if result["outcome"] in ("warn", "error") or (
            result["outcome"] == "disabled" and not result["by_profile"]
        ):
            first = str(result["message"] or "").strip().splitlines()[:1]
            lines.append((f"{result['outcome'].upper()} {nodeid}: {' '.join(first)}", {}))
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
