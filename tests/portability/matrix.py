"""The portability matrix: the reference backend under each legal variation.

A variation is a set of serve options (each an answer the 0.5.1 contract allows) and the
suite modules it touches. The suite must certify the backend under every variation: a
focused subset of modules may end incomplete (exit 2, required tests did not run) but
never with a fail or an error among the tests that ran; a full run must be conformant.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from conformance.reference.launcher import ReferenceServer
from tests.faultzoo.zoo import KEYS, SuiteRun, run_against

__all__ = ["BURST_DISABLED", "VARIATIONS", "Variation", "certify", "judged_clean"]

# what profile burst declares unsupported: a burst backend started like that is conformant
BURST_DISABLED = ("sessions", "tunnels", "resize", "filesystems", "syncs", "fork.durable")


@dataclass(frozen=True)
class Variation:
    """A legal variation: serve ``options`` and the suite ``modules`` it touches.

    ``needs_rules`` names the suite rules that must be relaxed for it to pass (work done
    outside this branch): the matrix still runs it and expects it to pass once merged.
    """

    name: str
    options: tuple[str, ...]
    modules: tuple[str, ...]
    disabled: tuple[str, ...] = ()
    profile: str = "reference"
    needs_rules: str = ""


def certify(
    variation: Variation, workdir: Path, *, modules: tuple[str, ...] | None = None
) -> SuiteRun:
    """Start the reference with ``variation`` and run its modules (or ``modules``; ``()``
    for the whole suite) against it."""
    chosen = variation.modules if modules is None else modules
    with ReferenceServer(
        workdir / "data", api_keys=KEYS, disabled=variation.disabled, options=variation.options
    ) as server:
        return run_against(
            server.base_url,
            chosen,
            workdir,
            run_id=f"matrix-{variation.name}",
            profile=variation.profile,
        )


def judged_clean(run: SuiteRun) -> list[str]:
    """Why ``run`` is not a clean certification of what it ran (empty when it is)."""
    if run.report is None:
        return [f"no results.json; exit {run.returncode}\n{run.output}"]
    bad = run.outcomes("fail") + run.outcomes("error") + run.outcomes("warn")
    problems = [f"{nodeid}" for nodeid in bad]
    if run.returncode not in (0, 2):
        problems.append(f"exit {run.returncode} (verdict {run.report.get('verdict')})")
    return problems


MIB = 1024 * 1024
VARIATIONS: tuple[Variation, ...] = (
    Variation(
        "cross-org-403",
        ("--cross-org-status", "403"),
        ("test_tenancy.py", "test_fork.py", "test_filesystems.py"),
    ),
    Variation(
        "page-cap-3",
        ("--page-cap", "3"),
        ("test_pagination.py", "test_vms.py"),
    ),
    Variation("slow-forks", ("--fork-ms", "250"), ("test_fork.py",)),
    Variation(
        "slow-run-start",
        ("--run-start-ms", "400"),
        ("test_runs_background.py", "test_run_states.py"),
    ),
    Variation(
        "rebind-conflict",
        ("--rebind", "conflict"),
        ("test_syncs.py",),
    ),
    Variation(
        "presigned-1mib",
        ("--presigned-threshold", str(MIB)),
        ("test_sync_inline.py", "test_sync_presigned.py", "test_sync_paths.py"),
    ),
    Variation(
        "presigned-16mib",
        ("--presigned-threshold", str(16 * MIB)),
        ("test_sync_presigned.py",),
    ),
    Variation(
        "read-utf8",
        ("--read-encoding", "utf8"),
        ("test_sync_inline.py", "test_sync_paths.py"),
    ),
    Variation("background-200", ("--background-status", "200"), ("test_runs_background.py",)),
    Variation(
        "cancel-finished-409",
        ("--cancel-terminal", "409"),
        ("test_run_states.py",),
    ),
    Variation(
        "extra-fields",
        ("--extra-fields",),
        ("test_vms.py", "test_runs_foreground.py", "test_sessions.py", "test_errors.py"),
    ),
    Variation(
        "burst",
        ("--provider", "aws-burst"),
        ("test_burst_routing.py", "test_capability_honesty.py", "test_vms.py", "test_fork.py"),
        disabled=BURST_DISABLED,
        profile="burst",
    ),
)
