"""API keys never appear on a command line, where every local user reads them (``ps``).

Keys reach the server from a file (``--api-key-file``) or its environment
(``ARKER_REFERENCE_KEYS``); a process's environment is readable only by its owner.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from arker import Arker

from conformance.embedded import start_embedded
from conformance.reference.launcher import ReferenceServer


def _command_lines() -> dict[int, bytes]:
    """pid → raw ``/proc/<pid>/cmdline`` of every process we can see."""
    found: dict[int, bytes] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                found[int(name)] = Path(f"/proc/{name}/cmdline").read_bytes()
            except OSError:
                continue  # gone meanwhile
    return found


def test_the_embedded_backend_keeps_its_keys_off_every_command_line() -> None:
    backend = start_embedded()
    try:
        # a run in flight too: the run's processes descend from the server
        arker = Arker(api_key=backend.api_key, base_url=backend.base_url, retry=False)
        vm = arker.fork("ubuntu")
        assert vm.run("sleep 5", background=True).run_id
        keys = (backend.api_key.encode(), backend.other_api_key.encode())
        exposed = {
            pid: argv.replace(keys[0], b"<key>").replace(keys[1], b"<key>").replace(b"\0", b" ")
            for pid, argv in _command_lines().items()
            if any(key in argv for key in keys)
        }
        vm.delete()
    finally:
        backend.stop()
    assert not exposed, f"API keys readable by every user in /proc/*/cmdline: {exposed}"


def _status(base_url: str, key: str) -> int:
    headers = {"Authorization": f"Bearer {key}"}
    return httpx.get(f"{base_url}/v1/vms", headers=headers, timeout=30).status_code


def test_keys_come_from_a_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text("# one per line\nfile-key-a=org-a\n\nfile-key-b = org-b\n")
    key_file.chmod(0o600)
    args = ["--api-key-file", str(key_file)]
    with ReferenceServer(tmp_path / "data", api_keys={}, extra_args=args) as server:
        got = [_status(server.base_url, k) for k in ("file-key-a", "file-key-b", "other")]
    assert got == [200, 200, 401]


def test_keys_come_from_the_environment(tmp_path: Path) -> None:
    env = {**os.environ, "ARKER_REFERENCE_KEYS": "env-key-a=org-a,env-key-b=org-b"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "conformance.reference", "--data-dir", str(tmp_path / "d")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        assert line.startswith("arker-reference listening on "), line
        base_url = line.split()[-1]
        got = [_status(base_url, k) for k in ("env-key-a", "env-key-b", "other")]
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert got == [200, 200, 401]
    assert b"api key:" not in err, "a key was generated although the environment named some"


@pytest.mark.parametrize(
    ("content", "message"),
    [("no-equals-sign\n", "entry 1 must be KEY=ORG"), ("# c\n=org\n", "entry 2 must be KEY=ORG")],
)
def test_a_malformed_key_file_is_a_usage_error(tmp_path: Path, content: str, message: str) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text(content)
    done = subprocess.run(
        [sys.executable, "-m", "conformance.reference", "--api-key-file", str(key_file)],
        capture_output=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stderr
    assert message.encode() in done.stderr
    assert b"no-equals-sign" not in done.stderr, "the message must not echo a key"
