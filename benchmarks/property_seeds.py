"""The property layer, run N times with different seeds against the embedded reference backend.

Run: ``.venv/bin/python benchmarks/property_seeds.py [--runs 10] [--first-seed 1]
[--examples N] [--timeout 300] [--json OUT]``. Each run is plain ``pytest`` in a
subprocess on ``test_properties.py`` and ``test_stateful.py`` with ``--seed S`` and a fresh
``--report-dir``; the embedded backend starts fresh each time. It prints, per seed: the
outcomes, cases sent, wall time and time per case; then the totals, the per-operation
cases and mean time per case over all runs, and every failing test with its seed (rerun
one with ``pytest conformance/suite/test_properties.py --seed S -k <test>``).

Bounded: ``--runs`` runs of at most ``--timeout`` seconds each; the property budgets
(``ARKER_PROPERTY_*``) are the defaults unless ``--examples`` overrides the cases per test.
Nothing here asserts: the exit status is 1 when any run had a failure or an error.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
MODULES = ("conformance/suite/test_properties.py", "conformance/suite/test_stateful.py")


@dataclass
class SeedRun:
    """One run: its seed, outcome counts, cases, wall time and the failing tests."""

    seed: int
    returncode: int
    wall_s: float
    counts: dict[str, int] = field(default_factory=dict)
    cases: int = 0
    case_s: float = 0.0
    failing: list[str] = field(default_factory=list)
    operations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """No fail and no error."""
        return not self.counts.get("fail") and not self.counts.get("error") and self.counts != {}


def run_once(seed: int, examples: int | None, timeout_s: float) -> SeedRun:
    """One pytest subprocess on the property modules with ``--seed seed``."""
    with tempfile.TemporaryDirectory(prefix="property-seeds-") as tmp:
        run_id = f"seed-{seed}"
        env = dict(os.environ)
        env.pop("PYTEST_ADDOPTS", None)
        if examples is not None:
            env["ARKER_PROPERTY_EXAMPLES"] = str(examples)
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *MODULES]
        argv += ["--seed", str(seed), "--report-dir", tmp, "--run-id", run_id]
        started = time.monotonic()
        proc = subprocess.run(
            argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout_s, check=False
        )
        result = SeedRun(seed, proc.returncode, time.monotonic() - started)
        results = Path(tmp, run_id, "results.json")
        stats = Path(tmp, run_id, "property-stats.json")
        if results.is_file():
            report = json.loads(results.read_text(encoding="utf-8"))
            result.counts = {k: v for k, v in report["counts"].items() if v}
            result.failing = [
                r["nodeid"].split("::")[-1]
                for r in report["results"]
                if r["outcome"] in ("fail", "error")
            ]
        for path in (stats, Path(tmp, run_id, "stateful-stats.json")):
            if path.is_file():
                data = json.loads(path.read_text(encoding="utf-8"))
                result.cases += data["cases"]
                result.case_s += data["seconds"]
                result.operations += data["operations"]
        if not result.counts:
            result.failing.append(f"no report; output tail: {(proc.stdout + proc.stderr)[-500:]}")
        return result


def per_operation(runs: list[SeedRun]) -> list[tuple[str, int, float]]:
    """Per test id (operation-mode): cases over all runs and mean ms per case."""
    cases: dict[str, int] = defaultdict(int)
    seconds: dict[str, float] = defaultdict(float)
    for run in runs:
        for op in run.operations:
            key = f"{op['operation_id']}-{op['mode']}"
            cases[key] += op["cases"]
            seconds[key] += op["seconds"]
    return [(k, cases[k], 1000 * seconds[k] / cases[k] if cases[k] else 0.0) for k in cases]


def main(argv: list[str] | None = None) -> int:
    """Run the seeds, print the table, optionally write JSON; 1 when any run was not clean."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--examples", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    runs = []
    for seed in range(args.first_seed, args.first_seed + args.runs):
        run = run_once(seed, args.examples, args.timeout)
        runs.append(run)
        per_case = 1000 * run.case_s / run.cases if run.cases else 0.0
        print(
            f"seed {seed:>4}: {run.counts} cases {run.cases} wall {run.wall_s:.1f}s "
            f"({per_case:.1f} ms/case in the layer)",
            flush=True,
        )
    print(f"\nclean runs: {sum(r.clean for r in runs)}/{len(runs)}")
    total_cases = sum(r.cases for r in runs)
    total_s = sum(r.case_s for r in runs)
    print(f"cases: {total_cases} total, {total_cases / max(1, len(runs)):.0f} per run")
    print(f"time per case: {1000 * total_s / max(1, total_cases):.1f} ms (send + checks + cleanup)")
    print(f"wall per run: {sum(r.wall_s for r in runs) / max(1, len(runs)):.1f} s (mean)")
    print("\nper test (operation-mode): cases over all runs, mean ms/case")
    for key, cases, ms in per_operation(runs):
        print(f"  {key:<28} {cases:>5} {ms:8.1f}")
    for run in runs:
        for name in run.failing:
            print(f"FAILED seed {run.seed}: {name}")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in runs], indent=2), encoding="utf-8")
    return 0 if all(r.clean for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
