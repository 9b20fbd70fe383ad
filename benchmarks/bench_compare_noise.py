"""Does ``compare`` tell noise from change? Real runs against a served reference backend.

Run: ``.venv/bin/python benchmarks/bench_compare_noise.py [--runs 11] [--json OUT]
[--keep DIR]``. It serves the reference backend (``arker-conformance serve``) and runs a
focused subset of the suite (``--tests``, default: VMs, foreground runs, errors, auth —
enough for ~20-40 samples of forkVm, getVm, deleteVm and createRun per run) several times:

* **noise** — ``--runs`` runs against one backend whose responses carry a slow tail
  (``--latency-tail 0.05:300``: one in 20 is 300 ms late) and random jitter
  (``--latency-jitter-ms 20``); each run is compared with the one before it. Nothing
  changed, so every compare should find 0 regressions and exit 0.
* **latency** — one run against a plain backend, one against ``--latency-ms 60``: every
  operation with enough samples should be judged a regression (exit 1).
* **fault** — one run against ``--fault stderr-merged``, compared with the plain run: new
  failures, exit 1.

It prints, per compare, the exit code and the counts (latency regressions, improvements,
unchanged, not judged, newly failing) and a summary line per scenario. Nothing asserts on
time; the script exits 1 when a scenario does not come out as described.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from conformance.cli import main as cli_main
from conformance.reference.launcher import ReferenceServer
from conformance.reports.compare import compare_reports
from conformance.reports.json_report import load_report
from conformance.reports.model import RunReport

REPO = Path(__file__).resolve().parent.parent
PYTEST = REPO / ".venv" / "bin" / "pytest"
SUITE = REPO / "conformance" / "suite"
DEFAULT_TESTS = ("test_vms.py", "test_runs_foreground.py", "test_errors.py", "test_auth.py")
KEYS = {"bench-key-a": "org-a", "bench-key-b": "org-b"}
RUN_TIMEOUT_S = 900.0


class _Server(ReferenceServer):
    """The reference server with extra serve options (jitter, tail, seed)."""

    def __init__(self, data_dir: Path, extra: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(data_dir, api_keys=dict(KEYS), **kwargs)
        self.extra = list(extra)

    def _argv(self) -> list[str]:
        return [*super()._argv(), *self.extra]


@contextlib.contextmanager
def served(data_dir: Path, extra: Sequence[str] = (), **kwargs: Any) -> Iterator[_Server]:
    """Start a server, yield it, stop it (and drop its data dir: VM disks)."""
    server = _Server(data_dir, extra, **kwargs)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def certify(server: _Server, reports: Path, tests: Sequence[str], seed: int) -> Path:
    """One pytest run of ``tests`` against ``server``; return its run directory."""
    keys = list(KEYS)
    before = set(reports.iterdir()) if reports.exists() else set()
    argv = [str(PYTEST), "-q", "-p", "no:randomly", "-p", "no:cacheprovider"]
    argv += [str(SUITE / name) for name in tests]
    # option=value: a separate directory argument would be taken for a test path by pytest
    argv += [f"--backend-url={server.base_url}", f"--api-key={keys[0]}"]
    argv += [f"--other-api-key={keys[1]}", "--profile=reference"]
    argv += [f"--report-dir={reports}", f"--seed={seed}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARKER_", "PYTEST_"))}
    done = subprocess.run(
        argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S
    )
    made = sorted(set(reports.iterdir()) - before)
    if len(made) != 1 or not (made[0] / "results.json").exists():
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        raise SystemExit(f"pytest (exit {done.returncode}) wrote no single run report")
    return made[0]


def compare(old: Path, new: Path) -> dict[str, Any]:
    """Compare two runs in-process; the CLI's exit code and the counts."""
    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = cli_main(["compare", str(old), str(new)])
    before, after = load_report(old), load_report(new)
    comparison = compare_reports(before, after)
    counts = {
        judgement: [j.operation_id for j in comparison.judged(judgement)]
        for judgement in ("regression", "improvement", "unchanged", "not judged")
    }
    return {
        "old": old.name,
        "new": new.name,
        "exit": code,
        "latency": counts,
        "newly_failing": [c.nodeid for c in comparison.newly_failing],
        "old_p95_rule": old_p95_rule(before, after),
        "output": out.getvalue(),
    }


def old_p95_rule(old: RunReport, new: RunReport) -> list[str]:
    """What the previous rule (p95 up > 25% and > 5 ms, any sample count) would flag."""
    was = {x.operation_id: x.p95_ms for x in old.latencies}
    return [
        x.operation_id
        for x in new.latencies
        if x.operation_id in was
        and x.p95_ms - was[x.operation_id] > 5.0
        and x.p95_ms > was[x.operation_id] * 1.25
    ]


def _line(label: str, result: dict[str, Any]) -> str:
    lat = result["latency"]
    judged = len(lat["regression"]) + len(lat["improvement"]) + len(lat["unchanged"])
    return (
        f"{label:<22} exit {result['exit']}  regressions {len(lat['regression'])}"
        f" ({', '.join(lat['regression']) or '-'})  improvements {len(lat['improvement'])}"
        f"  judged {judged}  not judged {len(lat['not judged'])}"
        f"  newly failing {len(result['newly_failing'])}"
        f"  [old p95 rule: {len(result['old_p95_rule'])}]"
    )


def noise(
    work: Path, runs: int, tests: Sequence[str], tail: str, jitter: str
) -> list[dict[str, Any]]:
    """``runs`` runs against one noisy backend; each compared with the one before."""
    reports = work / "noise"
    extra = ["--latency-tail", tail, "--latency-jitter-ms", jitter, "--latency-seed", "13"]
    with served(work / "data-noise", extra) as server:
        dirs = [certify(server, reports, tests, seed=1000 + i) for i in range(runs)]
    results = [compare(a, b) for a, b in itertools.pairwise(dirs)]
    for index, result in enumerate(results, 1):
        print(_line(f"noise compare {index}", result), flush=True)
    return results


def change(work: Path, tests: Sequence[str]) -> dict[str, dict[str, Any]]:
    """A plain run, a run with --latency-ms 60 and a run with a fault, compared."""
    reports = work / "change"
    with served(work / "data-plain") as server:
        plain = certify(server, reports, tests, seed=7)
    with served(work / "data-slow", latency_ms=60) as server:
        slow = certify(server, reports, tests, seed=7)
    with served(work / "data-fault", faults=("stderr-merged",)) as server:
        faulty = certify(server, reports, tests, seed=7)
    found = {"latency-ms 60": compare(plain, slow), "fault": compare(plain, faulty)}
    for label, result in found.items():
        print(_line(label, result), flush=True)
    return found


def verdicts(noisy: list[dict[str, Any]], changed: dict[str, dict[str, Any]]) -> list[str]:
    """What did not come out as the acceptance describes (empty: everything did)."""
    problems = []
    wolves = sum(len(r["latency"]["regression"]) + len(r["newly_failing"]) for r in noisy)
    if wolves or any(r["exit"] != 0 for r in noisy):
        problems.append(f"noise: {wolves} regression(s) over {len(noisy)} compares")
    slow = changed["latency-ms 60"]
    judged = len(slow["latency"]["regression"]) + len(slow["latency"]["unchanged"])
    if slow["latency"]["unchanged"] or slow["exit"] != 1 or not judged:
        problems.append(f"latency-ms 60: unchanged {slow['latency']['unchanged']}")
    fault = changed["fault"]
    if not fault["newly_failing"] or fault["exit"] != 1:
        problems.append("fault: no new failure or exit not 1")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """Run the scenarios, print the counts, exit 1 when one does not come out as expected."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="noise runs (compares = runs - 1)")
    parser.add_argument("--tests", nargs="+", default=list(DEFAULT_TESTS), metavar="FILE")
    parser.add_argument("--tail", default="0.05:300", metavar="P:MS")
    parser.add_argument("--jitter-ms", default="20", metavar="MS")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write every result here")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="keep the reports here")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-compare-")) if args.keep is None else args.keep
    work.mkdir(parents=True, exist_ok=True)
    try:
        noisy = noise(work, args.runs, args.tests, args.tail, args.jitter_ms)
        changed = change(work, args.tests)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    problems = verdicts(noisy, changed)
    wolves = sum(len(r["latency"]["regression"]) for r in noisy)
    old_rule = sum(len(r["old_p95_rule"]) for r in noisy)
    exits = sum(r["exit"] for r in noisy)
    print(f"noise: {len(noisy)} compares, {wolves} latency regressions, {exits} non-zero exits")
    print(f"noise: the old p95 rule would have flagged {old_rule} regressions on the same runs")
    if args.json:
        args.json.write_text(json.dumps({"noise": noisy, "change": changed}, indent=2))
    for problem in problems:
        print(f"NOT AS EXPECTED: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
