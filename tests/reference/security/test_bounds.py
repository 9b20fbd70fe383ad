"""A hostile tenant's inputs answer 400/413 at once, never 500, a hang or a pinned core.

0.5.1 states no bound for these inputs; the backend's own bounds (``bounds.py``) refuse
them with a flat ``bad_request`` before they cost anything.
"""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest
from arker import VM

from conformance.reference.common.bounds import MAX_DEPTH, MAX_INBOUND_PORTS
from conformance.reference.launcher import ReferenceServer

from ..conftest import KEY_B

FAST_S = 5.0  # what "at once" means on a loaded 2-core machine


def _sync(http: httpx.Client, vm: VM, body: dict[str, object]) -> httpx.Response:
    raw = json.dumps(body)  # ASCII escapes: a lone surrogate travels as \ud800
    return http.post(
        f"/v1/vms/{vm.vm_id}/sync", content=raw, headers={"content-type": "application/json"}
    )


def _write(path: str) -> dict[str, object]:
    entry = {"path": path, "size": 1, "start": 0, "end": 1, "content": "eA==", "upload_id": "u1"}
    return {"op": "write", "writes": [entry]}


def _is_flat_400(response: httpx.Response) -> bool:
    return response.status_code == 400 and response.json().get("code") == "bad_request"


def test_a_3000_component_write_is_refused_at_once_and_blocks_no_other_org(
    server: ReferenceServer, http_a: httpx.Client, vm_a: VM, arker_b: object
) -> None:
    deep = "/tmp/" + "/".join(["d"] * 3000) + "/f"
    other = arker_b.fork("ubuntu")  # type: ignore[attr-defined]
    other_took: list[float] = []

    def other_org_writes() -> None:
        time.sleep(0.3)  # lands while the deep write is being handled
        started = time.monotonic()
        with httpx.Client(
            base_url=server.base_url, timeout=60.0, headers={"Authorization": f"Bearer {KEY_B}"}
        ) as http_b:
            _sync(http_b, other, _write("/tmp/b"))
        other_took.append(time.monotonic() - started)

    helper = threading.Thread(target=other_org_writes)
    helper.start()
    started = time.monotonic()
    try:
        response = _sync(http_a, vm_a, _write(deep))
    except httpx.TimeoutException:
        response = None
    took = time.monotonic() - started
    helper.join(120)
    other.delete()
    assert response is not None and _is_flat_400(response), response and response.text
    assert took < FAST_S, f"the deep write took {took:.1f} s"
    assert other_took and other_took[0] < FAST_S, f"org B's write waited {other_took}"


def test_a_path_at_the_depth_bound_is_written_quickly(http_a: httpx.Client, vm_a: VM) -> None:
    path = "/tmp/" + "/".join(["d"] * (MAX_DEPTH - 2)) + "/f"
    started = time.monotonic()
    response = _sync(http_a, vm_a, _write(path))
    assert response.status_code == 200 and "error" not in response.json()["results"][0]
    assert time.monotonic() - started < FAST_S
    assert vm_a.sync(path) == b"x"


@pytest.mark.parametrize(
    "path",
    ["/tmp/" + "n" * 300, "/tmp/" + "x/" * 2100 + "f", "/tmp/\ud800"],
    ids=["long-component", "long-path", "lone-surrogate"],
)
@pytest.mark.parametrize("op", ["read", "write"])
def test_bad_paths_are_400(http_a: httpx.Client, vm_a: VM, path: str, op: str) -> None:
    body = {"op": "read", "path": path} if op == "read" else _write(path)
    assert _is_flat_400(_sync(http_a, vm_a, body))


def test_a_lone_surrogate_anywhere_in_a_body_is_400(http_a: httpx.Client) -> None:
    raw = b'{"source_vm_name": "ubuntu", "source_org_id": "ArkerHQ", "name": "vm-\\ud800"}'
    response = http_a.post("/v1/fork", content=raw, headers={"content-type": "application/json"})
    assert _is_flat_400(response)


@pytest.mark.parametrize("depth", [100, 100_000])
def test_deeply_nested_json_is_400(http_a: httpx.Client, depth: int) -> None:
    raw = '{"source_vm_name": "ubuntu", "x": ' + "[" * depth + "]" * depth + "}"
    response = http_a.post("/v1/fork", content=raw, headers={"content-type": "application/json"})
    assert _is_flat_400(response)


def test_a_5000_digit_port_is_400(http_a: httpx.Client, vm_a: VM) -> None:
    body = {"command": "true", "network": {"inbound": {"ports": {"9" * 5000: {}}}}}
    assert _is_flat_400(http_a.post(f"/v1/vms/{vm_a.vm_id}/runs", json=body))


def test_a_5000_digit_expires_is_400(http_a: httpx.Client) -> None:
    response = http_a.get("/_presigned/g.eA", params={"expires": "9" * 5000, "signature": "00"})
    assert _is_flat_400(response)


def test_20000_inbound_ports_are_refused_at_once_and_vm_bodies_stay_small(
    http_a: httpx.Client, vm_a: VM
) -> None:
    ports = {str(10000 + n): {} for n in range(20000)}
    body = {"command": "true", "network": {"inbound": {"ports": ports}}}
    started = time.monotonic()
    response = http_a.post(f"/v1/vms/{vm_a.vm_id}/runs", json=body)
    took = time.monotonic() - started
    size = len(http_a.get(f"/v1/vms/{vm_a.vm_id}").content)
    assert _is_flat_400(response) and str(MAX_INBOUND_PORTS) in response.json()["message"]
    assert took < FAST_S and size < 64 * 1024, f"took {took:.1f} s, Vm body {size} bytes"


def test_a_policy_list_beyond_the_bound_is_400(http_a: httpx.Client) -> None:
    policy = {"type": "allow", "allow": [f"10.{n // 256}.{n % 256}.0/24" for n in range(5000)]}
    response = http_a.post(
        "/v1/fork", json={"source_vm_name": "ubuntu", "source_org_id": "ArkerHQ", "network": policy}
    )
    assert _is_flat_400(response)
