"""Reference backend timings: run round trip for ``true`` and fork time against disk size.

Run: ``.venv/bin/python benchmarks/bench_reference.py [--runs N]``. Prints numbers only;
nothing here asserts on time, but a timed run that does not complete with exit 0 stops
the benchmark (a failing run is fast and would flatter the figures).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from arker import VM, Arker

from conformance.reference.launcher import ReferenceServer

KEY = "bench-key"


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000.0


def _run_ok(vm: VM, command: str) -> None:
    """Run ``command`` in the foreground; stop the benchmark unless it exits 0."""
    done = vm.run(command)
    if (done.state, done.exit_code) != ("completed", 0):
        raise SystemExit(f"benchmark run {command!r} did not succeed: {done}")


def _fork_ms(arker: Arker, parent: VM, repeats: int = 5) -> list[float]:
    times: list[float] = []
    for _ in range(repeats):
        start = time.perf_counter()
        child = arker.fork(parent)
        times.append((time.perf_counter() - start) * 1000.0)
        child.delete()
    return times


def _describe(label: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p90, p95 = (ordered[min(len(ordered) - 1, int(len(ordered) * q))] for q in (0.9, 0.95))
    print(
        f"{label:44} p50 {statistics.median(samples):8.1f} ms   p90 {p90:8.1f} ms   "
        f"p95 {p95:8.1f} ms   n={len(samples)}"
    )


def main() -> int:
    """Start a server in a temporary directory, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--big-mb", type=int, default=200)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        ReferenceServer(Path(tmp) / "data", api_keys={KEY: "bench"}) as server,
    ):
        arker = Arker(api_key=KEY, base_url=server.base_url, control_base_url=server.base_url)
        vm = arker.fork("ubuntu")
        _run_ok(vm, "true")
        _describe(
            "run `true` (foreground round trip)",
            [_timed(lambda: _run_ok(vm, "true")) for _ in range(args.runs)],
        )
        _describe("fork an empty VM", _fork_ms(arker, vm, 20))
        big = arker.fork("ubuntu")
        written = _timed(lambda: _run_ok(big, f"head -c {args.big_mb}M /dev/urandom > /work/big"))
        print(f"{'(writing ' + str(args.big_mb) + ' MB inside the VM took)':44} {written:8.1f} ms")
        _describe(f"fork a VM holding {args.big_mb} MB (layer freeze)", _fork_ms(arker, big))
        _run_ok(big, f"head -c {args.big_mb}M /dev/urandom > /work/big2")
        busy = big.run("sleep 120", background=True)
        _describe(f"fork a busy VM with {args.big_mb} MB new (copy)", _fork_ms(arker, big, 1))
        big.cancel_run(busy.run_id)
        for each in (vm, big):
            each.delete()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
