"""Running the conformance suite against a reference backend with one fault on.

The zoo is the suite's own proof: each named fault is a small contract
violation, and the suite must turn non-conformant with failing tests in the
fault's family. Only that family's modules run per fault, to keep CI bounded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.reference.launcher import ReferenceServer

REPO = Path(__file__).resolve().parents[2]
SUITE = REPO / "conformance" / "suite"
KEYS = {"zoo-key-org-a-7f3c": "zoo-org-a", "zoo-key-org-b-91d2": "zoo-org-b"}

# fault family -> the suite modules whose tests must catch it
FAMILY_MODULES: dict[str, tuple[str, ...]] = {
    "errors": ("test_errors.py", "test_properties.py"),
    "capabilities": ("test_capability_honesty.py",),
    "vms": ("test_vms.py", "test_fingerprints.py", "test_properties.py"),
    "runs": ("test_runs_foreground.py", "test_run_states.py", "test_properties.py"),
    "pagination": ("test_pagination.py",),
    "idempotency": ("test_idempotency.py",),
    "background": ("test_runs_background.py",),
    "cancel": ("test_run_states.py",),
    "run-states": ("test_run_states.py",),
    "sessions": ("test_sessions.py",),
    "auth": ("test_auth.py", "test_properties.py"),
    "tenancy": ("test_tenancy.py", "test_fork.py"),
    "fork": ("test_fork.py",),
    "sync": ("test_sync_inline.py", "test_sync_presigned.py", "test_sync_paths.py"),
    "syncs": ("test_syncs.py",),
    "filesystems": ("test_filesystems.py", "test_syncs.py"),
    "tunnels": ("test_tunnels.py",),
    "signal": ("test_runs_signal.py",),
    "network": ("test_fork_network.py",),
    "resources": ("test_runs_resources.py",),
    "fingerprints": ("test_fingerprints.py",),
    "honesty": ("test_capability_honesty.py",),
    "burst": ("test_burst_routing.py",),
}
# serve options a fault needs to show (burst faults act on a burst-mode backend)
FAULT_OPTIONS: dict[str, tuple[str, ...]] = {
    "burst-provider-aws": ("--provider", "aws-burst"),
    "burst-provider-filter-ignored": ("--provider", "aws-burst"),
}

# The honesty check needs a capability switched off and declared unsupported.
HONESTY_CAPABILITY = "sessions"


@dataclass
class SuiteRun:
    """What one suite run left behind: exit code, report and output tail."""

    returncode: int
    report: dict[str, Any] | None
    output: str

    def outcomes(self, outcome: str) -> list[str]:
        """Node ids of the tests with ``outcome``."""
        results = (self.report or {}).get("results", [])
        return [r["nodeid"] for r in results if r["outcome"] == outcome]

    def assert_clean_subset(self, modules: tuple[str, ...]) -> None:
        """A subset that found nothing wrong: incomplete (exit 2), only for what it left out.

        Judged from results.json: every test of ``modules`` ran and passed (or read as an
        honest unsupported), and every missing required test lies outside them.
        """
        report = self.report
        assert report is not None, f"no results.json; exit {self.returncode}\n{self.output}"
        assert (self.returncode, report["verdict"]) == (2, "incomplete"), self.output
        assert report["incomplete_reasons"] == [
            r for r in report["incomplete_reasons"] if "not selected by the path arguments" in r
        ], report["incomplete_reasons"]
        judged = [r for r in report["results"] if r["outcome"] != "disabled"]
        assert judged and all(r["outcome"] in ("pass", "unsupported") for r in judged), [
            (r["nodeid"], r["outcome"], r["message"]) for r in judged if r["outcome"] != "pass"
        ]
        inside = [n for n in report["missing_tests"] if any(f"/{m}::" in n for m in modules)]
        assert not inside, f"required tests of {modules} not judged: {inside}"


def honesty_profile(directory: Path, capability: str = HONESTY_CAPABILITY) -> Path:
    """A profile like ``reference`` but declaring ``capability`` unsupported."""
    path = directory / "zoo-honesty.yaml"
    path.write_text(
        "name: zoo-honesty\n"
        "description: reference with one capability declared unsupported\n"
        "extends: reference\n"
        f"capabilities:\n  {capability}: unsupported\n",
        encoding="utf-8",
    )
    return path


def suite_command(
    base_url: str,
    modules: tuple[str, ...],
    report_dir: Path,
    run_id: str,
    profile: str,
    *extra: str,
) -> tuple[list[str], dict[str, str]]:
    """argv and environment for running ``modules`` of the suite against ``base_url``.

    The keys travel in the environment, never on the command line; ``extra`` are further
    pytest arguments (``-x``).
    """
    key_a, key_b = KEYS
    env = {**os.environ, "ARKER_API_KEY": key_a, "ARKER_OTHER_API_KEY": key_b}
    env.pop("PYTEST_ADDOPTS", None)
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:randomly",
        "--rootdir",
        str(REPO),
        *(str(SUITE / m) for m in modules),
        f"--backend-url={base_url}",
        f"--profile={profile}",
        f"--report-dir={report_dir}",
        f"--run-id={run_id}",
        *extra,
    ]
    return argv, env


def run_against(
    base_url: str,
    modules: tuple[str, ...],
    workdir: Path,
    *,
    run_id: str,
    profile: str = "reference",
    timeout_s: float = 600,
    extra: tuple[str, ...] = (),
) -> SuiteRun:
    """Run ``modules`` of the suite against a backend that is already up."""
    report_dir = workdir / "reports"
    argv, env = suite_command(base_url, modules, report_dir, run_id, profile, *extra)
    proc = subprocess.run(
        argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout_s, check=False
    )
    results = report_dir / run_id / "results.json"
    report = json.loads(results.read_text(encoding="utf-8")) if results.is_file() else None
    return SuiteRun(proc.returncode, report, (proc.stdout + proc.stderr)[-4000:])


def run_suite(
    modules: tuple[str, ...],
    workdir: Path,
    *,
    faults: tuple[str, ...] = (),
    disabled: tuple[str, ...] = (),
    profile: str = "reference",
    timeout_s: float = 600,
    options: tuple[str, ...] = (),
    first_failure: bool = True,
) -> SuiteRun:
    """Start a backend with ``faults`` (and serve ``options``), run ``modules`` against it.

    With a fault on, the run stops at its first failing test (``-x``): one required
    failure already makes the backend non-conformant, and the rest of the family would
    only cost time (the zoo was most of CI's time). ``first_failure=False`` runs them all
    (for a check on every test's verdict).
    """
    run_id = "zoo-" + ("-".join(faults) or "baseline")
    extra = ("-x",) if faults and first_failure else ()
    with ReferenceServer(
        workdir / "data", api_keys=KEYS, faults=faults, disabled=disabled, options=options
    ) as srv:
        return run_against(
            srv.base_url,
            modules,
            workdir,
            run_id=run_id,
            profile=profile,
            timeout_s=timeout_s,
            extra=extra,
        )
