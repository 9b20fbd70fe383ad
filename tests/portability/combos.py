"""``--disable`` combinations: probe the reference to a profile, then certify with it.

A backend that switches capabilities off and says so is judged by what it declares:
``arker-conformance probe`` writes the profile, and the suite certifies the backend
conformant with that profile and with ``core`` (and, in burst mode, with ``burst``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from conformance.reference.launcher import ReferenceServer
from tests.faultzoo.zoo import KEYS, REPO, SuiteRun, run_against

from .matrix import BURST_DISABLED

__all__ = ["COMBOS", "Combo", "certify_combo", "probe"]


@dataclass(frozen=True)
class Combo:
    """Capabilities switched off (``disabled``), serve ``options``, the suite ``modules``
    that touch them and the shipped profiles to certify with besides the probed one."""

    name: str
    disabled: tuple[str, ...]
    modules: tuple[str, ...]
    options: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ("core",)
    needs_rules: str = ""


COMBOS: tuple[Combo, ...] = (
    Combo(
        "no-sessions-no-tunnels",
        ("sessions", "tunnels"),
        (
            "test_capability_honesty.py",
            "test_sessions.py",
            "test_tunnels.py",
            "test_runs_signal.py",
            "test_pagination.py",
        ),
    ),
    Combo(
        "no-background",
        ("runs.background", "runs.cancel"),
        (
            "test_capability_honesty.py",
            "test_runs_background.py",
            "test_run_states.py",
            "test_pagination.py",
        ),
    ),
    Combo(
        "burst",
        BURST_DISABLED,
        ("test_burst_routing.py", "test_capability_honesty.py", "test_runs_background.py"),
        options=("--provider", "aws-burst"),
        profiles=("core", "burst"),
    ),
)


def probe(base_url: str, workdir: Path) -> tuple[Path, str]:
    """``arker-conformance probe`` the backend; the profile's path and the command output."""
    output = workdir / "probed.yaml"
    env = {**os.environ, "ARKER_API_KEY": next(iter(KEYS))}
    argv = [sys.executable, "-m", "conformance.cli", "probe", "--backend-url", base_url]
    argv += ["--output", str(output), "--report-dir", str(workdir / "probe-reports")]
    proc = subprocess.run(
        argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0 and output.is_file(), proc.stdout + proc.stderr
    return output, proc.stdout


def certify_combo(combo: Combo, workdir: Path) -> tuple[Path, dict[str, SuiteRun]]:
    """Probe the reference started with ``combo`` and certify it with each profile;
    the probed profile's path and the runs by profile (the probed one as ``probed``)."""
    runs: dict[str, SuiteRun] = {}
    with ReferenceServer(
        workdir / "data", api_keys=KEYS, disabled=combo.disabled, options=combo.options
    ) as server:
        profile, _ = probe(server.base_url, workdir)
        for name in (str(profile), *combo.profiles):
            label = Path(name).stem
            runs[label] = run_against(
                server.base_url, combo.modules, workdir, run_id=f"combo-{label}", profile=name
            )
    return profile, runs
