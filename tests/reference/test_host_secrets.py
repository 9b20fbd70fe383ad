"""The host's secrets stay out of VMs: runs get a minimal /etc, ``/sync`` stays in the VM.

Runs execute as root, so the host's ``/etc`` (``shadow``, keys, tokens) must not be what
they see; and ``/sync`` must resolve a run's symlinks as VM paths, never on the host.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import httpx
import pytest
from arker import VM, ArkerError

from conformance.reference.sandbox.bwrap import bwrap_usable
from conformance.reference.storage.db import Database
from conformance.reference.storage.disks import VmDisk
from conformance.reference.storage.layers import DiskLayout, LayerStore
from conformance.reference.storage.sysroot import build_etc

needs_bwrap = pytest.mark.skipif(not bwrap_usable(), reason="bubblewrap sandbox not usable here")
HOST_SHADOW = Path("/etc/shadow")
_CA_PROBE = (
    'import ssl, http.server; print(ssl.create_default_context().cert_store_stats()["x509_ca"] > 0)'
)


def _read(http: httpx.Client, vm: VM, path: str) -> httpx.Response:
    return http.post(f"/v1/vms/{vm.vm_id}/sync", json={"op": "read", "path": path})


def _host_secret_in(response: httpx.Response) -> bool:
    if response.status_code != 200 or not HOST_SHADOW.exists():
        return False
    return base64.b64decode(response.json()["content"]) == HOST_SHADOW.read_bytes()


@needs_bwrap
def test_a_run_sees_a_minimal_etc_without_shadow(vm_a: VM) -> None:
    result = vm_a.run("cat /etc/shadow; ls /etc; cat /etc/passwd")
    assert b"/etc/shadow: No such file" in result.stderr
    listing = result.stdout.decode()
    for secret in ("shadow", "gshadow", "ssh", "pip.conf", "npmrc"):
        assert secret not in listing.split()
    assert listing.count(":x:") == 2  # root and nobody only


@needs_bwrap
def test_programs_the_suite_uses_still_work_with_the_minimal_etc(vm_a: VM) -> None:
    script = (
        "set -e; echo hi | sha256sum; seq 3 | tail -n1; timeout 5 sleep 0; env >/dev/null;"
        " awk 'BEGIN{print 7}'; getent hosts localhost >/dev/null;"
        f" python3 -c '{_CA_PROBE}'"
    )
    result = vm_a.run(script)
    digest = hashlib.sha256(b"hi\n").hexdigest()
    assert result.exit_code == 0, result.stderr
    assert result.stdout.decode().split() == [digest, "-", "3", "7", "True"]


def test_sync_read_of_etc_shadow_is_not_the_hosts(http_a: httpx.Client, vm_a: VM) -> None:
    response = _read(http_a, vm_a, "/etc/shadow")
    assert response.status_code == 404 and not _host_secret_in(response)
    assert _read(http_a, vm_a, "/etc/hostname").status_code == 200


@needs_bwrap
@pytest.mark.parametrize(
    ("link", "through", "status"),
    [
        ("/etc/shadow", "/tmp/l", 404),
        ("/etc", "/tmp/l/shadow", 404),
        ("../../etc/shadow", "/tmp/l", 404),
        ("/proc/self/environ", "/tmp/l", 400),
        ("/tmp/l", "/tmp/l", 400),
    ],
    ids=["file", "dir", "relative", "proc", "loop"],
)
def test_sync_resolves_a_runs_symlinks_inside_the_vm(
    http_a: httpx.Client, vm_a: VM, link: str, through: str, status: int
) -> None:
    assert vm_a.run(f"ln -s {link} /tmp/l").exit_code == 0
    response = _read(http_a, vm_a, through)
    assert response.status_code == status and not _host_secret_in(response)


@needs_bwrap
def test_sync_follows_a_symlink_to_a_vm_file(vm_a: VM) -> None:
    vm_a.run("mkdir -p /work/d && echo inside > /work/d/f && ln -s /work/d /tmp/d")
    assert vm_a.sync("/tmp/d/f") == b"inside\n"


@needs_bwrap
def test_sync_write_through_a_symlinked_dir_lands_in_the_vm_not_the_host(vm_a: VM) -> None:
    vm_a.run("ln -s /etc /tmp/etc-link && ln -s /root /tmp/home-link")
    with pytest.raises(ArkerError):
        vm_a.sync("/tmp/etc-link/planted", b"x")
    assert not Path("/etc/planted").exists()
    vm_a.sync("/tmp/home-link/note", b"kept")
    assert vm_a.run("cat /root/note").stdout == b"kept"


@needs_bwrap
def test_sync_write_replaces_a_symlink_instead_of_writing_through_it(vm_a: VM) -> None:
    vm_a.run("echo original > /root/target && ln -s /root/target /tmp/link")
    vm_a.sync("/tmp/link", b"new")
    out = vm_a.run("cat /root/target; test -L /tmp/link && echo link || cat /tmp/link")
    assert out.stdout == b"original\nnew"


def test_build_etc_copies_public_files_and_never_secrets(tmp_path: Path) -> None:
    host = tmp_path / "host-etc"
    (host / "ssl" / "certs").mkdir(parents=True)
    (host / "ssl" / "private").mkdir()
    (host / "ssl" / "certs" / "ca.pem").write_text("CA")
    (host / "ssl" / "private" / "key.pem").write_text("SECRET")
    (host / "shadow").write_text("SECRET")
    (host / "resolv.conf").write_text("nameserver 192.0.2.1\n")
    etc = build_etc(tmp_path / "data", host)
    assert (etc / "ssl" / "certs" / "ca.pem").read_text() == "CA"
    assert (etc / "resolv.conf").read_text() == "nameserver 192.0.2.1\n"
    everything = [p.read_text() for p in etc.rglob("*") if p.is_file()]
    assert not any("SECRET" in text for text in everything)
    assert build_etc(tmp_path / "data", host) == etc  # a restart rebuilds in place


@needs_bwrap
@pytest.mark.parametrize("name", ["env_out", "cwd_out"])
def test_a_symlink_left_in_the_control_dir_never_reads_a_host_file(vm_a: VM, name: str) -> None:
    session = vm_a.create_session()
    planted = vm_a.run(
        f"trap - EXIT; ln -sf /etc/shadow /run/arker/{name}", session_id=session.session_id
    )
    assert planted.exit_code == 0, planted.stderr
    after = vm_a.run("export -p; pwd", session_id=session.session_id)
    seen = after.stdout + after.stderr
    host = HOST_SHADOW.read_bytes() if HOST_SHADOW.exists() else b""
    assert not any(line and line in seen for line in host.splitlines())
    assert after.exit_code == 0


def _layered_disk(tmp_path: Path) -> VmDisk:
    upper, lower, etc = tmp_path / "upper", tmp_path / "lower", tmp_path / "etc"
    for directory in (upper, lower, etc):
        directory.mkdir()
    layout = DiskLayout("vm_test", upper, (lower,), tmp_path / "merged")
    store = LayerStore(Database(tmp_path / "state.sqlite3"), tmp_path / "disks")
    return VmDisk("vm_test", layout, [], store, etc)


def test_a_symlink_below_an_upper_directory_is_hidden_not_followed(tmp_path: Path) -> None:
    disk = _layered_disk(tmp_path)
    (tmp_path / "lower" / "work").mkdir()
    (tmp_path / "lower" / "work" / "x").symlink_to("/etc")
    (tmp_path / "upper" / "work" / "x").mkdir(parents=True)
    (tmp_path / "upper" / "work" / "x" / "f").write_bytes(b"upper")
    assert disk.read_bytes("/work/x/f") == b"upper"
    assert not disk.exists("/work/x/passwd")


def test_a_host_symlink_on_the_way_is_resolved_in_the_vm(tmp_path: Path) -> None:
    disk = _layered_disk(tmp_path)
    (tmp_path / "upper" / "tmp").mkdir()
    (tmp_path / "upper" / "tmp" / "up").symlink_to("../../..")  # climbs out on the host
    (tmp_path / "upper" / "secret").write_bytes(b"vm file")
    assert disk.read_bytes("/tmp/up/secret") == b"vm file"  # .. stops at the VM's /
