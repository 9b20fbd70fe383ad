"""A limited backend is judged by its profile, and no run leaves anything behind.

Against a separately started reference backend with capabilities switched off
(``serve --disable``): clean under a profile declaring them unsupported (a module subset,
so incomplete, but every test it ran passed or read as an honest unsupported),
non-conformant under ``full`` with the failures naming those capabilities. After
a passing, a failing and a SIGINT-interrupted run the backend holds nothing the
run created, and no key reached any output or report file.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import httpx

from conformance.reference.launcher import ReferenceServer

from .zoo import KEYS, REPO, SuiteRun, run_against, suite_command

DISABLED = ("sessions", "tunnels", "resize")
MODULES = ("test_sessions.py", "test_tunnels.py", "test_resize.py", "test_capability_honesty.py")


def limited_profile(directory: Path) -> Path:
    path = directory / "limited.yaml"
    lines = [f"  {name}: unsupported" for name in DISABLED]
    path.write_text(
        "name: limited\ndescription: reference without sessions, tunnels and resize\n"
        "extends: reference\ncapabilities:\n" + "\n".join(lines) + "\n",
        encoding="utf-8",
    )
    return path


def leftovers(base_url: str, run_id: str) -> list[str]:
    """Names of VMs and filesystems of either org that carry the run's prefix."""
    prefix, found = f"conf-{run_id}", []
    for key in KEYS:
        with httpx.Client(base_url=base_url, headers={"authorization": f"Bearer {key}"}) as http:
            cursor: str | None = None
            for _ in range(100):  # bounded walk
                page = http.get("/v1/vms", params={"limit": 100, "cursor": cursor}).json()
                found += [
                    v["name"] for v in page["vms"] if (v.get("name") or "").startswith(prefix)
                ]
                cursor = page.get("next_cursor")
                if not cursor:
                    break
            listing = http.get("/v1/filesystems", params={"name_prefix": prefix}).json()
            found += [fs["name"] for fs in listing["filesystems"]]
    return found


def assert_no_secret_anywhere(run: SuiteRun, report_dir: Path) -> None:
    texts = [run.output] + [
        p.read_text(encoding="utf-8", errors="replace")
        for p in report_dir.rglob("*")
        if p.is_file()
    ]
    for key in KEYS:
        assert not any(key in text for text in texts), "an API key reached output or a report"


def failing_capabilities(run: SuiteRun) -> set[str]:
    results = (run.report or {}).get("results", [])
    return {r["capability"] for r in results if r["outcome"] == "fail"}


def test_limited_backend_is_judged_by_its_profile(tmp_path: Path) -> None:
    with ReferenceServer(tmp_path / "data", api_keys=KEYS, disabled=DISABLED) as srv:
        declared = run_against(
            srv.base_url,
            MODULES,
            tmp_path,
            run_id="limited",
            profile=str(limited_profile(tmp_path)),
        )
        full = run_against(srv.base_url, MODULES, tmp_path, run_id="full", profile="full")
        assert declared.report is not None and full.report is not None, declared.output
        declared.assert_clean_subset(MODULES)  # a subset: exit 2, but clean where it ran
        assert declared.outcomes("unsupported"), "honesty probes should read as unsupported"
        assert (full.returncode, full.report["verdict"]) == (1, "non-conformant"), full.output
        assert failing_capabilities(full) == set(DISABLED), failing_capabilities(full)
        for name in ("limited", "full"):
            assert not leftovers(srv.base_url, name), f"run {name} left resources behind"
    assert_no_secret_anywhere(declared, tmp_path / "reports")


def test_failing_run_leaves_nothing_behind(tmp_path: Path) -> None:
    with ReferenceServer(tmp_path / "data", api_keys=KEYS, faults=("fork-shares-disk",)) as srv:
        run = run_against(srv.base_url, ("test_fork.py",), tmp_path, run_id="failing")
        assert run.report is not None and run.report["verdict"] == "non-conformant", run.output
        assert not leftovers(srv.base_url, "failing")
    assert_no_secret_anywhere(run, tmp_path / "reports")


def test_interrupted_run_leaves_nothing_behind(tmp_path: Path) -> None:
    report_dir, run_id = tmp_path / "reports", "interrupted"
    with ReferenceServer(tmp_path / "data", api_keys=KEYS) as srv:
        argv, env = suite_command(srv.base_url, ("test_vms.py",), report_dir, run_id, "reference")
        proc = subprocess.Popen(
            argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        ledger = report_dir / run_id / "ledger.jsonl"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if ledger.is_file() and ledger.read_text(encoding="utf-8").strip():
                break
            time.sleep(0.05)  # harness polling of a child process, not a test sleep on the backend
        assert proc.poll() is None, "the run ended before it created anything to interrupt"
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=120)
        assert proc.returncode != 0, output
        assert not leftovers(srv.base_url, run_id), f"interrupted run left resources\n{output}"
    assert_no_secret_anywhere(SuiteRun(proc.returncode, None, output), report_dir)
