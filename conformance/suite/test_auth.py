"""Every operation requires ``Authorization: Bearer <key>`` (the 0.5.1 SDKs send it).

No key, a wrong key, or another scheme is 401 ``unauthorized`` with the flat error body,
on the control plane and the compute host alike. ``WWW-Authenticate`` is only required by
the later contract, so it is not checked. Requests target ids that do not exist: a backend
must refuse on the credentials before it looks anything up, and nothing can be created.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from conformance.checks import expect_error
from conformance.suite._shell import runs_path, vm_path

if TYPE_CHECKING:
    from conformance.target import Target

pytestmark = [pytest.mark.capability("auth"), pytest.mark.creates_nothing]

_VM = f"conf-auth-probe-{secrets.token_hex(4)}"


@dataclass(frozen=True)
class Call:
    """One operation to send without valid credentials."""

    method: str
    path: str
    json: Any = None
    control: bool = False


CALLS = {
    "listVms": Call("GET", "/v1/vms", control=True),
    "forkVm": Call("POST", "/v1/fork", {"source_vm_name": f"{_VM}-source"}),
    "getVm": Call("GET", vm_path(_VM)),
    "deleteVm": Call("DELETE", vm_path(_VM)),
    "createRun": Call("POST", runs_path(_VM), {"command": "true"}),
    "listRuns": Call("GET", runs_path(_VM)),
    "listSessions": Call("GET", f"{vm_path(_VM)}/sessions"),
    "listTunnels": Call("GET", f"{vm_path(_VM)}/tunnels"),
    "listSyncs": Call("GET", f"{vm_path(_VM)}/syncs"),
    "syncFiles": Call("POST", f"{vm_path(_VM)}/sync", {"op": "read", "path": "/etc/hostname"}),
    "listFilesystems": Call("GET", "/v1/filesystems"),
    # An empty name: a backend ignoring auth would refuse it (400) rather than create it.
    "createFilesystem": Call("POST", "/v1/filesystems", {"name": ""}),
}


def _send(target: Target, call: Call, **credentials: Any) -> Any:
    return target.client.request(
        call.method, call.path, json=call.json, control=call.control, **credentials
    )


@pytest.mark.parametrize("op_id", list(CALLS))
@pytest.mark.rules("AUTH-001")
def test_missing_key_is_unauthorized(target: Target, op_id: str) -> None:
    expect_error(target.spec, _send(target, CALLS[op_id], auth=False), "unauthorized")


@pytest.mark.parametrize("op_id", list(CALLS))
@pytest.mark.rules("AUTH-002")
def test_wrong_key_is_unauthorized(target: Target, op_id: str) -> None:
    wrong = f"conf-wrong-key-{secrets.token_hex(16)}"
    target.redactor.add(wrong)
    expect_error(target.spec, _send(target, CALLS[op_id], api_key=wrong), "unauthorized")


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Basic dXNlcjpwYXNzd29yZA=="],
    ids=["bearer-without-token", "basic-credentials"],
)
@pytest.mark.rules("AUTH-003")
def test_malformed_authorization_is_unauthorized(target: Target, header: str) -> None:
    response = target.client.request(
        "GET", "/v1/vms", control=True, auth=False, headers={"authorization": header}
    )
    expect_error(target.spec, response, "unauthorized")
