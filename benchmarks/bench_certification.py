"""A full certification against the embedded reference backend, measured.

Run: ``.venv/bin/python benchmarks/bench_certification.py [--repeat N] [--json OUT]
[-- PYTEST ARGS]``. Each repetition is plain ``pytest`` in a subprocess with a fresh
``--report-dir``; it prints wall time, HTTP requests, VMs forked, tests per outcome, the
verdict and the harness overhead. Nothing here asserts on time.

How requests are counted. Two independent counts, compared on every run:

* **report** — the sum of the per-operation ``count`` in ``results.json`` ``latencies``.
  The plugin only records exchanges it can name by operation, made between a test's setup
  gate and the report that decides it; it leaves out session set-up and teardown
  (golden fork, pre-flight, ledger teardown, leak check), per-test teardown after the call
  report (e.g. ``deleteVm`` of the ``vm`` fixture) and requests without an operation id.
* **wire** — this module is also a tiny pytest plugin (loaded in the child through
  ``PYTEST_PLUGINS``, so xdist workers load it too) that wraps ``httpx.Client.send`` and
  notes method, path, status and start/end (``time.monotonic``, system-wide on Linux) of
  every request any httpx client in the pytest process(es) sends. The suite talks to the
  backend only through httpx (``ArkerClient``), so this is every HTTP request.

VMs forked: ``forkVm`` requests and their 2xx answers (wire), and VMs the ledger recorded
as created (``reports/<run-id>/ledger*.jsonl``).

Harness overhead (share of wall time spent outside waiting for the backend):
``1 - in_flight / wall``, where ``in_flight`` is the union of the request intervals (a
moment counts once however many requests overlap) and ``wall`` is the subprocess's wall
time. Limits: ``in_flight`` includes the client's own send/parse time on loopback; the
deliberate waits of polling loops (sleep between ``getRun`` polls) and process start-up
count as *outside*; the backend shares the same cores, so its CPU slows the harness and
vice versa. The pytest processes' own CPU time (``RUSAGE_SELF``: user + sys) is printed
as a second, direct measure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, SupportsIndex

REPO = Path(__file__).resolve().parent.parent
PYTEST = REPO / ".venv" / "bin" / "pytest"
WIRE_DIR_ENV = "ARKER_BENCH_WIRE_DIR"
PLUGIN = Path(__file__).stem
RUN_TIMEOUT_S = 3600.0
TEARDOWN_GRACE_S = 120.0
_DROPPED_ENV = frozenset({"PYTEST_ADDOPTS"})

# --- the wire recorder (runs inside the pytest child process, or its xdist workers) -------

_RECORDS: list[tuple[str, str, str, int | None, float, float]] = []
_SLEEPS: list[tuple[float, float]] = []
_STARTED: list[float] = []


def _install_recorder() -> None:
    """Wrap ``httpx.Client.send`` so every request leaves a record in ``_RECORDS``."""
    import httpx

    original = httpx.Client.send

    def send(self: httpx.Client, request: httpx.Request, *args: Any, **kwargs: Any) -> Any:
        start = time.monotonic()
        status: int | None = None
        try:
            response = original(self, request, *args, **kwargs)
            status = response.status_code
            return response
        finally:
            url = request.url
            # the path as sent (still percent-encoded), like the one the client names
            path = url.raw_path.decode("ascii", "replace").split("?", 1)[0]
            host = f"{url.host}:{url.port}"
            _RECORDS.append((request.method, host, path, status, start, time.monotonic()))

    httpx.Client.send = send  # type: ignore[method-assign]
    _install_sleep_recorder()


def _install_sleep_recorder() -> None:
    """Wrap ``time.sleep`` (the suite's polling pause) so deliberate waits are measured."""
    original = time.sleep

    def sleep(seconds: float | SupportsIndex) -> None:
        start = time.monotonic()
        try:
            original(seconds)
        finally:
            _SLEEPS.append((start, time.monotonic()))

    time.sleep = sleep


def pytest_load_initial_conftests(early_config: Any, parser: Any, args: Any) -> None:
    """Plugin hook: start recording before the suite's conftest is imported.

    The suite's polling helper binds ``time.sleep`` as a default argument when it is
    imported (with the suite's conftest, before ``pytest_configure``): the sleep recorder
    must be in place by then, or the polling pauses go unmeasured.
    """
    _start_recording()


def pytest_configure(config: Any) -> None:
    """Plugin hook: start recording (if the earlier hook did not) when asked to."""
    _start_recording()


def _start_recording() -> None:
    if os.environ.get(WIRE_DIR_ENV) and not _STARTED:
        _STARTED.append(time.monotonic())
        _install_recorder()


def pytest_unconfigure(config: Any) -> None:
    """Plugin hook: write this process's records and CPU time (one file per process)."""
    out = os.environ.get(WIRE_DIR_ENV)
    if not out or not _STARTED:
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    data = {
        "worker": worker,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "threads_alive": threading.active_count(),
        "requests": list(_RECORDS),
        "sleeps": list(_SLEEPS),
    }
    path = Path(out) / f"wire-{os.getpid()}.json"
    path.write_text(json.dumps(data), encoding="utf-8")


# --- measuring one run (parent side) ----------------------------------------------------


@dataclass
class WireStats:
    """What the recorder saw across all pytest processes of one run."""

    requests: int = 0
    by_operation: dict[str, int] = field(default_factory=dict)
    unnamed: dict[str, int] = field(default_factory=dict)
    fork_requests: int = 0
    fork_ok: int = 0
    transport_errors: int = 0
    sum_elapsed_s: float = 0.0
    in_flight_s: float = 0.0
    sleeping_only_s: float = 0.0  # time.sleep with no request in flight
    cpu_s: float = 0.0
    processes: int = 0
    first_start: float = 0.0  # time.monotonic() of the first request's start
    last_end: float = 0.0  # ... and of the last request's end


@dataclass
class RunMeasure:
    """One certification run, measured."""

    run_id: str
    exit_code: int
    wall_s: float
    verdict: str | None
    counts: dict[str, int]
    report_requests: int
    report_by_operation: dict[str, int]
    vms_ledgered: int
    leaks: int
    wire: WireStats
    startup_s: float = 0.0
    shutdown_s: float = 0.0
    not_passed: list[str] = field(default_factory=list)

    @property
    def outside_share(self) -> float:
        """Share of wall time with no request in flight."""
        return 1.0 - self.wire.in_flight_s / self.wall_s if self.wall_s else 0.0


def union_seconds(intervals: Iterable[tuple[float, float]]) -> float:
    """Total length covered by ``intervals`` (overlaps counted once).

    Example: ``union_seconds([(0, 2), (1, 3), (5, 6)]) == 4``.
    """
    total, end = 0.0, float("-inf")
    for start, stop in sorted(intervals):
        if start > end:
            total += stop - start
            end = stop
        elif stop > end:
            total += stop - end
            end = stop
    return total


def _label(method: str, path: str) -> str:
    """A request without an operation id, named without its (possibly signed) tail."""
    parts = [p for p in path.split("/") if p]
    return f"{method} /{parts[0]}/…" if len(parts) > 1 else f"{method} /{''.join(parts)}"


def read_wire(wire_dir: Path) -> WireStats:
    """Merge the per-process record files of one run into :class:`WireStats`."""
    from conformance.spec import Spec

    spec = Spec.load()
    stats = WireStats()
    named: Counter[str] = Counter()
    unnamed: Counter[str] = Counter()
    intervals: list[tuple[float, float]] = []
    sleeps: list[tuple[float, float]] = []
    for path in sorted(wire_dir.glob("wire-*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        stats.processes += 1
        stats.cpu_s += float(data["cpu_s"])
        sleeps += [(float(a), float(b)) for a, b in data.get("sleeps", [])]
        for method, _host, url_path, status, start, end in data["requests"]:
            operation = spec.operation_for(method, url_path)
            if operation is None:
                unnamed[_label(method, url_path)] += 1
            else:
                named[operation.operation_id] += 1
                if operation.operation_id == "forkVm":
                    stats.fork_requests += 1
                    stats.fork_ok += int(status is not None and 200 <= status < 300)
            stats.transport_errors += int(status is None)
            intervals.append((start, end))
    stats.requests = len(intervals)
    stats.by_operation = dict(sorted(named.items()))
    stats.unnamed = dict(sorted(unnamed.items()))
    stats.sum_elapsed_s = sum(end - start for start, end in intervals)
    stats.in_flight_s = union_seconds(intervals)
    stats.sleeping_only_s = union_seconds(intervals + sleeps) - stats.in_flight_s
    if intervals:
        stats.first_start = min(start for start, _ in intervals)
        stats.last_end = max(end for _, end in intervals)
    return stats


def ledgered_vms(run_dir: Path) -> int:
    """VMs the run's ledger files record as created (all xdist workers)."""
    created: set[tuple[str, int]] = set()
    for path in sorted(run_dir.glob("ledger*.jsonl")):
        kinds: dict[int, str] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            event = json.loads(line)
            if event["event"] == "intend":
                kinds[event["seq"]] = event["kind"]
            elif event["event"] == "created" and kinds.get(event["seq"]) == "vm":
                created.add((path.name, event["seq"]))
    return len(created)


def new_run_id(label: str) -> str:
    """A run id that says which benchmark made it (names become ``conf-<run-id>-...``)."""
    return f"bench-{label}-{time.strftime('%H%M%S')}-{secrets.token_hex(2)}"


def child_env(wire_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment of a measured pytest child: recorder on, this module importable."""
    # the caller's target, report and option settings must not leak into the measured run
    inherited = {
        k: v for k, v in os.environ.items() if k not in _DROPPED_ENV and not k.startswith("ARKER_")
    }
    env = {**inherited, **(extra or {})}
    plugins = [p for p in env.get("PYTEST_PLUGINS", "").split(",") if p]
    env["PYTEST_PLUGINS"] = ",".join([*plugins, PLUGIN])
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(Path(__file__).resolve().parent), env.get("PYTHONPATH", "")) if p
    )
    env[WIRE_DIR_ENV] = str(wire_dir)
    return env


def measure_run(
    pytest_args: Sequence[str],
    report_dir: Path,
    run_id: str,
    env_extra: dict[str, str] | None = None,
    log_path: Path | None = None,
) -> RunMeasure:
    """Run ``pytest`` once (repository root, fresh report dir) and measure it.

    Args:
        pytest_args: extra arguments (``-n 2``, ``-k ...``, module paths).
        report_dir: a fresh directory for ``--report-dir``.
        run_id: ``--run-id`` of the run.
        env_extra: extra environment (backend URL and keys; never printed).
        log_path: where the child's output goes (default: ``report_dir/pytest.log``).

    Example: ``measure_run(["-q"], Path("/tmp/r1"), new_run_id("cert"))``.
    """
    wire_dir = report_dir / "wire"
    wire_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_path or report_dir / "pytest.log"
    # "--opt=value": a separate value naming an existing directory outside the repository
    # is taken for a test path when pytest picks its rootdir (before plugin options
    # exist), and the run then collects tests/ too (pytest-dev/pytest#8846)
    argv = [str(PYTEST), "-q", f"--report-dir={report_dir}", f"--run-id={run_id}", *pytest_args]
    with log_path.open("wb") as log:
        start = time.monotonic()
        exit_code = _run_bounded(argv, child_env(wire_dir, env_extra), log)
        end = time.monotonic()
    wire = read_wire(wire_dir)
    measure = _summarise(report_dir / run_id, exit_code, end - start, wire)
    if wire.requests:
        measure.startup_s = wire.first_start - start
        measure.shutdown_s = end - wire.last_end
    return measure


def _run_bounded(argv: list[str], env: dict[str, str], log: IO[bytes]) -> int:
    """Run pytest; past ``RUN_TIMEOUT_S`` interrupt it (SIGINT: teardown still runs).

    SIGKILL comes only after a further grace period: a killed pytest cannot stop its
    embedded backend, which would outlive the benchmark.
    """
    proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        return proc.wait(RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        print(f"  run exceeded {RUN_TIMEOUT_S:g} s: interrupting it", file=sys.stderr)
        proc.send_signal(signal.SIGINT)
        try:
            return proc.wait(TEARDOWN_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()


def _summarise(run_dir: Path, exit_code: int, wall: float, wire: WireStats) -> RunMeasure:
    results_path = run_dir / "results.json"
    data: dict[str, Any] = {}
    if results_path.exists():
        data = json.loads(results_path.read_text(encoding="utf-8"))
    by_op = {row["operation_id"]: int(row["count"]) for row in data.get("latencies", [])}
    not_passed = [
        f"{r['outcome']}: {r['nodeid']}: {(r.get('message') or '').splitlines()[:1]}"
        for r in data.get("results", [])
        if r["outcome"] in ("fail", "error", "warn")
    ]
    return RunMeasure(
        run_id=run_dir.name,
        exit_code=exit_code,
        wall_s=wall,
        verdict=data.get("verdict"),
        counts=dict(data.get("counts", {})),
        report_requests=sum(by_op.values()),
        report_by_operation=by_op,
        vms_ledgered=ledgered_vms(run_dir) if run_dir.exists() else 0,
        leaks=len(data.get("leaks", [])),
        wire=wire,
        not_passed=not_passed,
    )


# --- printing -----------------------------------------------------------------------------


def print_run(m: RunMeasure, label: str = "") -> None:
    """Print one measured run, human-readable."""
    w = m.wire
    print(f"== {label or m.run_id} (run id {m.run_id})")
    print(f"  exit code {m.exit_code}, verdict {m.verdict}, leaks in report: {m.leaks}")
    print(f"  wall time            {m.wall_s:9.1f} s")
    print(f"  tests per outcome    {_outcomes(m.counts)}")
    print(f"  HTTP requests (wire) {w.requests:9d}   over {w.processes} pytest process(es)")
    print(
        f"  HTTP requests (report latencies) {m.report_requests:d}  "
        f"(missing from report: {w.requests - m.report_requests})"
    )
    print(
        f"  VMs forked           forkVm requests {w.fork_requests}, 2xx {w.fork_ok}, "
        f"ledgered VMs created {m.vms_ledgered}"
    )
    print(
        f"  request time         sum {w.sum_elapsed_s:.1f} s, in flight (union) "
        f"{w.in_flight_s:.1f} s"
    )
    print(
        f"  harness overhead     {m.outside_share:6.1%} of wall outside any request; "
        f"pytest CPU {w.cpu_s:.1f} s = {w.cpu_s / m.wall_s:.1%} of wall"
    )
    between = m.wall_s - m.startup_s - m.shutdown_s - w.in_flight_s
    print(
        f"  outside requests     start-up (to first request) {m.startup_s:.1f} s, "
        f"between requests {between:.1f} s (of which sleeping {w.sleeping_only_s:.1f} s), "
        f"after the last request {m.shutdown_s:.1f} s"
    )
    _print_gap(m)
    for line in m.not_passed[:20]:
        print(f"  {line}")


def _outcomes(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in counts.items()) or "(no results.json)"


def _print_gap(m: RunMeasure) -> None:
    """Per operation: requests sent but not in the report's latency counts."""
    gaps = {
        op: n - m.report_by_operation.get(op, 0)
        for op, n in m.wire.by_operation.items()
        if n != m.report_by_operation.get(op, 0)
    }
    if gaps:
        print(
            "  not counted by report, per operation: "
            + ", ".join(f"{op} {n}" for op, n in gaps.items())
        )
    if m.wire.unnamed:
        print(
            "  requests without an operation id: "
            + ", ".join(f"{k} {n}" for k, n in m.wire.unnamed.items())
        )


def print_spread(label: str, values: list[float], unit: str = "s") -> None:
    """One line: mean, min and max of ``values``."""
    if len(values) > 1:
        print(
            f"  {label:20} mean {statistics.mean(values):8.1f} {unit}  "
            f"min {min(values):8.1f}  max {max(values):8.1f}  n={len(values)}"
        )


# --- command line -------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the certification ``--repeat`` times, print each, optionally write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1, help="how many runs (default 1)")
    parser.add_argument("--json", type=Path, default=None, help="write the measures here")
    parser.add_argument("--keep", action="store_true", help="keep report dirs (printed)")
    parser.add_argument("pytest_args", nargs="*", help="after --: extra pytest arguments")
    args = parser.parse_args(argv)
    if not 1 <= args.repeat <= 20:
        parser.error("--repeat must be between 1 and 20")
    print(f"machine: {os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.2f} at start")
    measures: list[RunMeasure] = []
    with tempfile.TemporaryDirectory(prefix="bench-cert-") as tmp:
        for index in range(args.repeat):
            report_dir = Path(tmp) / f"run{index}"
            m = measure_run(args.pytest_args, report_dir, new_run_id("cert"))
            print_run(m, f"certification {index + 1}/{args.repeat}")
            measures.append(m)
        if args.keep:
            kept = Path(tempfile.mkdtemp(prefix="bench-cert-kept-")) / "runs"
            shutil.copytree(tmp, kept)
            print(f"report dirs kept in {kept}")
    print_spread("wall time", [m.wall_s for m in measures])
    print_spread("outside requests", [100 * m.outside_share for m in measures], "%")
    if args.json is not None:
        args.json.write_text(json.dumps([asdict(m) for m in measures], indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0 if all(m.exit_code == 0 for m in measures) else 1


if __name__ == "__main__":
    sys.exit(main())
