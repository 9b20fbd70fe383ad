"""The serve command line: faults, capabilities, generated keys, --disable and a few faults."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from conformance.reference.common.faults import FAULTS
from conformance.reference.launcher import ReferenceServer


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance.reference", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_list_faults_prints_one_line_per_fault() -> None:
    result = _serve("--list-faults")
    lines = result.stdout.splitlines()
    assert result.returncode == 0 and len(lines) == len(FAULTS) >= 20
    assert {line.split()[0] for line in lines} == set(FAULTS)
    for name in (
        "sync-read-truncates",
        "syncs-taken-path-ok",
        "filesystem-delete-bound-ok",
        "tunnel-delete-noop",
    ):
        assert name in FAULTS


def test_unknown_fault_or_capability_exits_2_naming_the_closest(tmp_path: Path) -> None:
    fault = _serve("--data-dir", str(tmp_path), "--fault", "cancel-nop")
    assert fault.returncode == 2 and "cancel-noop" in fault.stderr
    capability = _serve("--data-dir", str(tmp_path), "--disable", "runs.cancle")
    assert capability.returncode == 2 and "runs.cancel" in capability.stderr
    key = _serve("--data-dir", str(tmp_path), "--api-key", "no-equals-sign")
    assert key.returncode == 2


def test_without_keys_one_is_generated_and_printed_once_to_stderr(tmp_path: Path) -> None:
    with ReferenceServer(tmp_path / "data", api_keys={}) as server:
        log = server.log_path.read_text()
        lines = [line for line in log.splitlines() if line.startswith("api key: ")]
        assert len(lines) == 1
        key = lines[0].split()[2]
        response = httpx.get(
            f"{server.base_url}/v1/vms", headers={"Authorization": f"Bearer {key}"}
        )
        assert response.status_code == 200


def test_disabled_capability_answers_unsupported_operation(tmp_path: Path) -> None:
    keys = {"k": "org"}
    with (
        ReferenceServer(tmp_path / "data", api_keys=keys, disabled=["sessions"]) as server,
        httpx.Client(base_url=server.base_url, headers={"Authorization": "Bearer k"}) as http,
    ):
        vm = http.post(
            "/v1/fork", json={"source_vm_name": "ubuntu", "source_org_id": "ArkerHQ"}
        ).json()
        response = http.post(f"/v1/vms/{vm['vm_id']}/sessions", json={})
        assert response.status_code == 422
        assert response.json()["code"] == "unsupported_operation"
        assert http.get(f"/v1/vms/{vm['vm_id']}/sessions").status_code == 422


def test_some_faults_change_the_wire(tmp_path: Path) -> None:
    faults = [
        "vm-owner-id-030",
        "auth-accepts-any-key",
        "error-envelope-nested",
        "unsupported-as-500",
    ]
    with (
        ReferenceServer(
            tmp_path / "data", api_keys={"k": "org"}, faults=faults, disabled=["resize"]
        ) as server,
        httpx.Client(
            base_url=server.base_url, headers={"Authorization": "Bearer anything"}
        ) as http,
    ):
        vm = http.post(
            "/v1/fork", json={"source_vm_name": "ubuntu", "source_org_id": "ArkerHQ"}
        ).json()
        assert "owner_id" in vm and "owner_org_id" not in vm
        missing = http.get("/v1/vms/vm_nope")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
        resize = http.post(f"/v1/vms/{vm['vm_id']}/resize", json={"vcpu_count": 2})
        assert resize.status_code == 500


def test_latency_is_added_to_every_response(tmp_path: Path) -> None:
    with ReferenceServer(tmp_path / "data", api_keys={"k": "org"}, latency_ms=300) as server:
        response = httpx.get(f"{server.base_url}/")
        assert response.status_code == 200
        assert response.elapsed.total_seconds() >= 0.3


def test_list_faults_names_column_fits_the_longest_name() -> None:
    lines = _serve("--list-faults").stdout.splitlines()
    width = max(map(len, FAULTS))
    # every family bracket starts in the same column, one space after the longest name
    assert {line.index(" [") for line in lines} == {width}


def test_list_faults_into_a_closed_pipe_exits_quietly() -> None:
    # `arker-conformance serve --list-faults | head`: the reader is gone before we write
    reader, writer = os.pipe()
    os.close(reader)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "conformance.cli", "serve", "--list-faults"],
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(writer)
    assert "Traceback" not in result.stderr and "BrokenPipeError" not in result.stderr
    assert result.returncode == 0
