"""A launched backend does not outlive a launcher killed without cleanup."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from conformance.reference.lifeline import PARENT_ENV, follow_parent

LAUNCHER = """
import sys, time
from pathlib import Path
from conformance.reference.launcher import ReferenceServer
server = ReferenceServer(Path(sys.argv[1]), api_keys={"lifeline-key-1234": "org"}).start()
print(server.proc.pid, flush=True)
time.sleep(600)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited


def test_backend_exits_when_its_launcher_is_killed(tmp_path: Path) -> None:
    launcher = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, str(tmp_path / "data")], stdout=subprocess.PIPE, text=True
    )
    assert launcher.stdout is not None
    server_pid = int(launcher.stdout.readline())
    launcher.kill()  # SIGKILL: no cleanup code of the launcher runs
    launcher.wait(timeout=30)
    launcher.stdout.close()
    deadline = time.monotonic() + 30
    while alive(server_pid) and time.monotonic() < deadline:
        time.sleep(0.05)  # polling another process's exit
    still = alive(server_pid)
    if still:
        os.kill(server_pid, 9)
    assert not still, f"backend {server_pid} outlived its killed launcher"


def test_without_a_named_launcher_nothing_is_arranged() -> None:
    assert follow_parent({}) is False
    assert follow_parent({PARENT_ENV: "not-a-pid"}) is False
