"""Path handling of ``POST /v1/vms/{id}/sync`` (a bad path is 400 ``bad_request``).

Paths are absolute VM paths. A relative path or a ``..`` component is a bad request,
whether it arrives as a whole-request 400 or, for a write entry, as a per-entry
``bad_request`` inside a 200 (per-entry errors); a directory is not a readable file.
"""

from __future__ import annotations

import os
import posixpath
import secrets
from typing import TYPE_CHECKING, Any

import pytest

from conformance.checks import expect_error
from conformance.suite._shell import run_command
from conformance.suite._sync_protocol import (
    chunk_entry,
    expect_committed,
    expect_entry_rejected,
    post_read,
    post_writes,
    read_bytes,
    write_results,
)

if TYPE_CHECKING:
    from conformance.client import ArkerClient
    from conformance.spec import Spec
    from conformance.steps import StepLog

pytestmark = [pytest.mark.capability("sync.inline"), pytest.mark.shares_vm]

_BAD_PATHS = {
    "relative": "tmp/conf-relative-{token}.txt",
    "dotdot-escape": "/tmp/../conf-escape-{token}.txt",
    "dotdot-inner": "/tmp/conf-dir/../../conf-escape-{token}.txt",
}


def _landing_spots(path: str) -> list[str]:
    """Where a backend that did not reject ``path`` would most plausibly have written it."""
    if path.startswith("/"):
        return [posixpath.normpath(path)]
    return ["/" + path, f"$HOME/{path}", f"/root/{path}"]


@pytest.mark.parametrize("template", list(_BAD_PATHS.values()), ids=list(_BAD_PATHS))
@pytest.mark.rules("XFR-008")
def test_bad_read_path_is_a_bad_request(
    spec: Spec, client: ArkerClient, vm: dict[str, Any], template: str
) -> None:
    path = template.format(token=secrets.token_hex(4))
    expect_error(spec, post_read(client, vm["vm_id"], path), "bad_request")


@pytest.mark.parametrize("template", list(_BAD_PATHS.values()), ids=list(_BAD_PATHS))
@pytest.mark.rules("XFR-008")
def test_bad_write_path_is_rejected_and_writes_nothing(
    spec: Spec, client: ArkerClient, vm: dict[str, Any], template: str
) -> None:
    path = template.format(token=secrets.token_hex(4))
    response = post_writes(client, vm["vm_id"], [chunk_entry(path, b"must not land")])
    expect_entry_rejected(spec, response, f"write to {path!r}")
    spots = " ".join(f'"{spot}"' for spot in _landing_spots(path))
    probe = f'for f in {spots}; do [ -e "$f" ] && echo "$f"; done; true'
    found = run_command(spec, client, vm["vm_id"], probe).text.strip()
    assert not found, f"write to {path!r} was rejected, yet a file appeared at {found}"


@pytest.mark.rules("XFR-009")
def test_reading_a_directory_is_refused(
    spec: Spec, client: ArkerClient, vm: dict[str, Any]
) -> None:
    response = post_read(client, vm["vm_id"], "/tmp")
    # 0.5.1 does not pin the code: a directory is either not a file (404) or a bad path (400).
    expect_error(spec, response, "not_found" if response.status_code == 404 else "bad_request")


@pytest.mark.rules("XFR-010")
def test_writing_a_nested_path_creates_its_parents(
    spec: Spec, client: ArkerClient, vm: dict[str, Any], steps: StepLog
) -> None:
    data = os.urandom(300)
    path = f"/tmp/conf-nest-{secrets.token_hex(4)}/a/b/c.bin"
    steps.log(f"write {path}, whose parent directories do not exist")
    (result,) = write_results(spec, post_writes(client, vm["vm_id"], [chunk_entry(path, data)]), 1)
    expect_committed(result, path)
    steps.log("read it back, and see it from a run")
    assert read_bytes(spec, client, vm["vm_id"], path) == data, f"{path} did not read back"
    listed = run_command(spec, client, vm["vm_id"], f"wc -c < {path}").text.strip()
    assert listed == str(len(data)), f"wc -c {path} in the VM: expected {len(data)}, got {listed!r}"


@pytest.mark.rules("XFR-011")
def test_names_with_spaces_and_unicode_round_trip(
    spec: Spec, client: ArkerClient, vm: dict[str, Any]
) -> None:
    data = "contenu ✓\n".encode()
    path = f"/tmp/conf dir {secrets.token_hex(2)}/fïchier ✓.txt"
    (result,) = write_results(spec, post_writes(client, vm["vm_id"], [chunk_entry(path, data)]), 1)
    expect_committed(result, path)
    assert read_bytes(spec, client, vm["vm_id"], path) == data, f"{path!r} did not read back"
    shown = run_command(spec, client, vm["vm_id"], f"cat '{path}'").stdout
    assert shown == data, f"cat {path!r} in the VM: expected {data!r}, got {shown!r}"
