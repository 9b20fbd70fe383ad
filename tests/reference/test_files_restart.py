"""Uploads survive a restart: staged bytes and ranges live in SQLite and files, not memory."""

from __future__ import annotations

import base64
import signal
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from conformance.reference.launcher import ReferenceServer

from .conftest import KEY_A, ORG_A


@pytest.fixture
def restartable(tmp_path: Any) -> Iterator[ReferenceServer]:
    """A server of its own, so restarting it disturbs no other test."""
    with ReferenceServer(tmp_path / "data", api_keys={KEY_A: ORG_A}) as running:
        yield running


def _client(server: ReferenceServer) -> httpx.Client:
    return httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {KEY_A}"}, timeout=60.0
    )


def _chunk(start: int, data: bytes) -> dict[str, Any]:
    return {
        "path": "/tmp/halves",
        "size": 8,
        "upload_id": "01RESTARTUPLOAD00000000000",
        "content": base64.b64encode(data).decode(),
        "start": start,
        "end": start + len(data),
    }


def test_half_an_upload_survives_a_crash(restartable: ReferenceServer) -> None:
    with _client(restartable) as http:
        vm_id = http.post(
            "/v1/fork", json={"source_vm_name": "ubuntu", "source_org_id": "ArkerHQ"}
        ).json()["vm_id"]
        first = http.post(
            f"/v1/vms/{vm_id}/sync", json={"op": "write", "writes": [_chunk(0, b"abcd")]}
        )
        assert first.json()["results"][0]["received_bytes"] == 4
    restartable.restart(signal.SIGKILL)
    with _client(restartable) as http:
        second = http.post(
            f"/v1/vms/{vm_id}/sync", json={"op": "write", "writes": [_chunk(4, b"efgh")]}
        )
        result = second.json()["results"][0]
        assert result["ranges"] == [{"start": 0, "end": 8}] and result["written"] is True
        read = http.post(f"/v1/vms/{vm_id}/sync", json={"op": "read", "path": "/tmp/halves"})
        assert base64.b64decode(read.json()["content"]) == b"abcdefgh"
