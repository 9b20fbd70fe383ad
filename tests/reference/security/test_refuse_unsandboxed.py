"""Without a usable sandbox the embedded run stops at once (exit 2) saying what to do.

Certifying an unsandboxed reference backend measures the host, not the backend: runs see
the host's ``/``, and the verdict is "non-conformant" with a screenful of unrelated
failures. The main job instead refuses, naming what to install or how to run it;
``serve --sandbox none`` stays available, explicitly and with a warning.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conformance.reference.sandbox import preflight

ROOT = Path(__file__).resolve().parents[3]
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
ONE_CHEAP_TEST = "test_malformed_json_fork_is_a_bad_request"


def _env_without_bwrap(tmp_path: Path) -> dict[str, str]:
    """Our environment with a PATH holding every tool the host has except ``bwrap``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for directory in ("/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"):
        if not Path(directory).is_dir():
            continue
        for tool in Path(directory).iterdir():
            link = bin_dir / tool.name
            if tool.name != "bwrap" and not os.path.lexists(link):
                link.symlink_to(tool)
    return {**os.environ, "PATH": str(bin_dir)}


def test_the_main_job_without_bubblewrap_exits_2_naming_what_to_install(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-k", ONE_CHEAP_TEST],
        cwd=ROOT,
        env=_env_without_bwrap(tmp_path),
        capture_output=True,
        timeout=120,
    )
    output = (done.stdout + done.stderr).decode(errors="replace")
    assert done.returncode == 2, f"exit {done.returncode}, expected 2:\n{output[-3000:]}"
    assert "bubblewrap" in output and "--backend-url" in output, output[-3000:]


def test_serve_auto_without_bubblewrap_refuses_instead_of_running_unsandboxed(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "conformance.reference", "--data-dir", str(tmp_path / "d")],
        env=_env_without_bwrap(tmp_path),
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr.decode(errors="replace")
    assert b"bubblewrap" in done.stderr and b"--sandbox none" in done.stderr, done.stderr


def test_serve_sandbox_none_warns_on_start(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "conformance.reference", "--sandbox", "none"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith(b"arker-reference listening on ")
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert b"WARNING" in err and b"no isolation" in err, err


@pytest.mark.parametrize(
    ("missing", "euid", "expected"),
    [
        ("bwrap", 0, "apt-get install bubblewrap"),
        ("unshare", 0, "util-linux"),
        (None, 1000, "root"),
    ],
)
def test_the_sandbox_check_names_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, missing: str | None, euid: int, expected: str
) -> None:
    monkeypatch.setattr(preflight.os, "geteuid", lambda: euid)
    monkeypatch.setattr(
        preflight.shutil, "which", lambda tool: None if tool == missing else f"/usr/bin/{tool}"
    )
    problem = preflight.sandbox_problem()
    assert problem is not None and expected in problem, problem


def test_the_sandbox_check_passes_where_everything_is_there(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(preflight.os, "geteuid", lambda: 0)
    monkeypatch.setattr(preflight.shutil, "which", lambda tool: f"/usr/bin/{tool}")
    assert preflight.sandbox_problem() is None


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv"
)
def test_serve_as_an_unprivileged_user_refuses_naming_root() -> None:
    data = Path(tempfile.mkdtemp(prefix="arker-nobody-"))
    data.chmod(0o777)  # nobody makes its data dir in it
    try:
        done = subprocess.run(
            [*NOBODY, sys.executable, "-m", "conformance.reference", "--data-dir", str(data / "d")],
            cwd="/",
            capture_output=True,
            timeout=60,
        )
    finally:
        shutil.rmtree(data, ignore_errors=True)
    assert done.returncode == 2, done.stderr.decode(errors="replace")
    assert b"needs root (running as uid 65534)" in done.stderr, done.stderr
