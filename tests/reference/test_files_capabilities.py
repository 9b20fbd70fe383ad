"""Disabled file and network capabilities answer 422 ``unsupported_operation``, no effect.

Inline transfers stay available with ``sync.presigned`` disabled, but a large read or a
presigned upload is refused rather than silently degraded.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest

from conformance.reference.launcher import ReferenceServer

from .conftest import KEY_A, ORG_A

DISABLED = ("sync.presigned", "filesystems", "syncs", "tunnels")


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceServer]:
    """A backend with the presigned, filesystem, binding and tunnel capabilities disabled."""
    data = tmp_path_factory.mktemp("limited") / "data"
    with ReferenceServer(data, api_keys={KEY_A: ORG_A}, disabled=DISABLED) as running:
        yield running


@pytest.fixture
def http(limited: ReferenceServer) -> Iterator[httpx.Client]:
    """A raw client of org A against the limited backend."""
    headers = {"Authorization": f"Bearer {KEY_A}"}
    with httpx.Client(base_url=limited.base_url, headers=headers, timeout=60.0) as client:
        yield client


@pytest.fixture
def vm_id(http: httpx.Client) -> Iterator[str]:
    """A fresh VM on the limited backend."""
    body = http.post("/v1/fork", json={"source_vm_name": "ubuntu", "source_org_id": "ArkerHQ"})
    made = str(body.json()["vm_id"])
    yield made
    http.delete(f"/v1/vms/{made}")


def _unsupported(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "unsupported_operation"


def _write(path: str, size: int, **entry: object) -> dict[str, object]:
    return {"op": "write", "writes": [{"path": path, "size": size, **entry}]}


def test_presigned_transfers_are_refused_but_inline_works(http: httpx.Client, vm_id: str) -> None:
    sync = f"/v1/vms/{vm_id}/sync"
    _unsupported(http.post(sync, json=_write("/tmp/p", 10, presigned=True)))
    size = 4 * 1024 * 1024 + 3  # above CHUNK_SIZE, yet inline writes may carry it
    content = base64.b64encode(b"\0" * size).decode()
    entry = {"upload_id": "01CAPS", "content": content, "start": 0, "end": size}
    written = http.post(sync, json=_write("/tmp/big", size, **entry))
    assert written.json()["results"][0]["written"] is True
    _unsupported(http.post(sync, json={"op": "read", "path": "/tmp/big"}))
    assert http.post(sync, json={"op": "read", "path": "/tmp/p"}).status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/filesystems"),
        ("POST", "/v1/filesystems"),
        ("GET", "/v1/filesystems/fs_x"),
        ("DELETE", "/v1/filesystems/fs_x"),
        ("GET", "/v1/vms/{vm}/syncs"),
        ("POST", "/v1/vms/{vm}/syncs"),
        ("DELETE", "/v1/vms/{vm}/syncs/sync_x"),
        ("GET", "/v1/vms/{vm}/tunnels"),
        ("GET", "/v1/vms/{vm}/tunnels/8080"),
        ("DELETE", "/v1/vms/{vm}/tunnels/8080"),
    ],
)
def test_disabled_family_answers_422(
    http: httpx.Client, vm_id: str, method: str, path: str
) -> None:
    body = {"name": "x", "filesystem_id": "fs_x"} if method == "POST" else None
    _unsupported(http.request(method, path.format(vm=vm_id), json=body))


def test_nothing_was_created_behind_a_refusal(limited: ReferenceServer, http: httpx.Client) -> None:
    http.post("/v1/filesystems", json={"name": "ghost"})
    assert not any((limited.data_dir / "filesystems").iterdir())
