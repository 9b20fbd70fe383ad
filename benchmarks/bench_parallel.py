"""Serial versus pytest-xdist runs of the suite against one backend with added latency.

Run: ``.venv/bin/python benchmarks/bench_parallel.py [--modes serial,4]
[--latency-ms 50] [--json OUT] [-- PYTEST ARGS]``, e.g. ``-- -k pagination`` or
``-- conformance/suite/test_vms.py`` for a short run. One reference backend is started
on 127.0.0.1 with ``--latency-ms`` (default 50, imitating a remote production backend)
and two generated org keys; the suite runs against it once per mode (``serial`` is plain
``pytest``, ``N`` is ``pytest -n N``), with ``--profile reference`` and the keys passed
through the environment. Printed per mode: wall time, speedup against serial, exit code,
verdict, tests per outcome, requests (see ``bench_certification``), and three leak checks:
``results.json`` ``leaks``, the summary line ("no leaks"), and a listing of both orgs'
VMs and filesystems for names carrying the run's prefix. Failing, erroring and warning
tests are listed by node id with the first line of their message; the logs and report
directories are kept (path printed). Nothing here asserts on time.

The keys are random, used for this backend only, and never printed; the backend itself
receives them on its command line (that is how ``ReferenceServer`` passes them).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from bench_certification import RunMeasure, measure_run, new_run_id, print_run

from conformance.reference.launcher import ReferenceServer

MAX_PAGES = 200


@dataclass
class ModeResult:
    """One mode's run plus the leak checks made after it."""

    mode: str
    measure: RunMeasure
    summary_says_no_leaks: bool
    live_leftovers: list[str]
    log: str


def mode_args(mode: str) -> list[str]:
    """Pytest arguments of a mode: ``serial`` → none, ``"2"`` → ``-n 2``."""
    if mode == "serial":
        return []
    if not mode.isdigit() or not 1 <= int(mode) <= 16:
        raise ValueError(f"mode must be 'serial' or a worker count 1..16, got {mode!r}")
    return ["-n", mode]


def _walk(client: httpx.Client, path: str, key: str) -> list[dict[str, Any]]:
    """Every item of a paged list (bounded by ``MAX_PAGES``)."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
        body = client.get(path, params=params).raise_for_status().json()
        items += body.get(key, [])
        cursor = body.get("next_cursor")
        if not cursor:
            break
    return items


def live_leftovers(base_url: str, keys: Sequence[str], run_id: str) -> list[str]:
    """Names of VMs and filesystems, in either org, carrying the run's resource prefix."""
    prefix = f"conf-{run_id}"
    found: list[str] = []
    for key in keys:
        headers = {"authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base_url, headers=headers, timeout=60.0) as client:
            for path, field in (("/v1/vms", "vms"), ("/v1/filesystems", "filesystems")):
                for item in _walk(client, path, field):
                    name = str(item.get("name") or "")
                    if name.startswith(prefix):
                        found.append(f"{field[:-1]} {name}")
    return found


def run_mode(
    mode: str, server: ReferenceServer, keys: tuple[str, str], out: Path, extra: Sequence[str]
) -> ModeResult:
    """Run the suite once in ``mode`` against ``server`` and check for leaks."""
    run_id = new_run_id("n" + mode if mode != "serial" else "serial")
    report_dir = out / run_id
    env = {
        "ARKER_BASE_URL": server.base_url,
        "ARKER_API_KEY": keys[0],
        "ARKER_OTHER_API_KEY": keys[1],
    }
    args = [*mode_args(mode), "--profile=reference", *extra]
    measure = measure_run(args, report_dir, run_id, env_extra=env)
    log = report_dir / "pytest.log"
    text = log.read_text(encoding="utf-8", errors="replace")
    return ModeResult(
        mode=mode,
        measure=measure,
        summary_says_no_leaks="no leaks after teardown" in text,
        live_leftovers=live_leftovers(server.base_url, keys, run_id),
        log=str(log),
    )


def print_mode(result: ModeResult, serial_wall: float | None) -> None:
    """Print one mode: the run, the speedup and the leak checks."""
    print_run(result.measure, f"mode {result.mode}")
    if serial_wall is not None:
        print(f"  speedup vs serial    {serial_wall / result.measure.wall_s:9.2f}x")
    live = ", ".join(result.live_leftovers) or "none"
    print(
        f"  leaks: summary says 'no leaks': {result.summary_says_no_leaks}; "
        f"live leftovers with the run prefix: {live}"
    )
    print(f"  log: {result.log}")


def print_table(results: list[ModeResult]) -> None:
    """The comparison table (Markdown, ready for benchmarks/README.md).

    Every figure of a certification's cost: VMs created (successful forks), requests,
    wall time, the harness's share of it (no request in flight) and the speedup.
    """
    serial = next((r.measure.wall_s for r in results if r.mode == "serial"), None)
    print(
        "\n| mode | wall s | speedup | verdict | exit | pass/fail/error/warn | VMs created "
        "| requests | harness share | leaks |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        m, c = r.measure, r.measure.counts
        speed = f"{serial / m.wall_s:.2f}x" if serial else "-"
        leak = "none" if not (m.leaks or r.live_leftovers) and r.summary_says_no_leaks else "LEAK"
        outcome = "/".join(str(c.get(k, 0)) for k in ("pass", "fail", "error", "warn"))
        print(
            f"| {r.mode} | {m.wall_s:.1f} | {speed} | {m.verdict} | {m.exit_code} | "
            f"{outcome} | {m.wire.fork_ok} | {m.wire.requests} | {m.outside_share:.1%} | {leak} |"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Start the backend, run each mode, print, optionally write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--modes", default="serial,4", help="comma list: serial and/or N (default serial,4)"
    )
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("pytest_args", nargs="*", help="after --: -k EXPR and/or modules")
    args = parser.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    for mode in modes:
        mode_args(mode)  # validate before starting anything
    out = Path(tempfile.mkdtemp(prefix="bench-parallel-"))
    keys = ("bench-a-" + secrets.token_urlsafe(18), "bench-b-" + secrets.token_urlsafe(18))
    print(f"machine: {os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.2f} at start")
    print(f"backend latency {args.latency_ms} ms; reports and logs in {out}")
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        # pytest then rewrites (and compiles) every module of its plugins' packages
        # (hypothesis, schemathesis, conformance) again in each process: ~1.5 s CPU each
        print("PYTHONDONTWRITEBYTECODE is set: every pytest process compiles its imports anew")
    results: list[ModeResult] = []
    with ReferenceServer(
        out / "data",
        api_keys={keys[0]: "bench-org-a", keys[1]: "bench-org-b"},
        latency_ms=args.latency_ms,
    ) as server:
        for mode in modes:
            result = run_mode(mode, server, keys, out, args.pytest_args)
            serial = next((r.measure.wall_s for r in results if r.mode == "serial"), None)
            print_mode(result, serial)
            results.append(result)
    shutil.rmtree(out / "data", ignore_errors=True)  # VM disks; logs and reports stay
    print_table(results)
    if args.json is not None:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
        print(f"wrote {args.json}")
    clean = all(
        r.measure.exit_code == 0 and not r.live_leftovers and not r.measure.leaks for r in results
    )
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
