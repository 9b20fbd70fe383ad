"""Run the property tests in a child pytest against a reference backend with faults on.

The child is a real certification run (``--backend-url``), restricted with ``-k`` to the
property tests that matter for a fault, so each fault costs a few seconds.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.reference.launcher import ReferenceServer

REPO = Path(__file__).resolve().parents[2]
SUITE = REPO / "conformance" / "suite"
KEYS = {"prop-key-org-a-5d1e9c": "prop-org-a", "prop-key-org-b-a27f40": "prop-org-b"}
_FAILED = re.compile(r"Property checks failed: ([\w, ]+)")


@dataclass
class PropertyRun:
    """What one child run left: exit code, results.json, property stats, output tail."""

    returncode: int
    report: dict[str, Any] | None
    stats: dict[str, Any] | None
    output: str

    def results(self, outcome: str) -> list[dict[str, Any]]:
        """The results with ``outcome``."""
        return [r for r in (self.report or {}).get("results", []) if r["outcome"] == outcome]

    def failed_checks(self) -> dict[str, set[str]]:
        """Per failing (or warning) test: the check names its violation names."""
        found: dict[str, set[str]] = {}
        for result in self.results("fail") + self.results("warn"):
            match = _FAILED.search(result.get("message") or "")
            names = {n.strip() for n in match.group(1).split(",")} if match else set()
            if not match and result.get("message"):
                names.add(result["message"].split(":", 1)[0])  # a direct violation
            found[result["nodeid"]] = names
        return found


def run_properties(
    workdir: Path,
    *,
    modules: tuple[str, ...] = ("test_properties.py",),
    select: str | None = None,
    node_ids: tuple[str, ...] = (),
    faults: tuple[str, ...] = (),
    disabled: tuple[str, ...] = (),
    profile: str = "reference",
    seed: int = 0,
    examples: int = 10,
    timeout_s: float = 300,
) -> PropertyRun:
    """Start a backend with ``faults`` and run the selected property tests against it."""
    key_a, key_b = KEYS
    run_id = "prop-" + ("-".join(faults) or "baseline") + f"-{seed}"
    report_dir = workdir / "reports"
    data = workdir / f"data-{run_id}"
    with ReferenceServer(data, api_keys=KEYS, faults=faults, disabled=disabled) as srv:
        env = {**os.environ, "ARKER_API_KEY": key_a, "ARKER_OTHER_API_KEY": key_b}
        env["ARKER_PROPERTY_EXAMPLES"] = str(examples)
        env.pop("PYTEST_ADDOPTS", None)
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        # node ids select without deselecting, so such a run can be complete (conformant)
        targets = [str(SUITE / n) for n in node_ids] or [str(SUITE / m) for m in modules]
        argv += ["--rootdir", str(REPO), *targets]
        argv += ["--backend-url", srv.base_url, "--profile", profile, "--seed", str(seed)]
        argv += ["--report-dir", str(report_dir), "--run-id", run_id]
        argv += ["-k", select] if select else []
        proc = subprocess.run(
            argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout_s, check=False
        )
    results = report_dir / run_id / "results.json"
    stats = report_dir / run_id / "property-stats.json"
    return PropertyRun(
        proc.returncode,
        json.loads(results.read_text(encoding="utf-8")) if results.is_file() else None,
        json.loads(stats.read_text(encoding="utf-8")) if stats.is_file() else None,
        (proc.stdout + proc.stderr)[-6000:],
    )
