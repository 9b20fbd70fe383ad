"""Tunnels opened by a run's ``network.inbound.ports`` (0.5.1's ``Tunnel``).

A background ``python3 -m http.server`` asks for its port; the tunnel shows in the run,
goes ``starting`` → ``open`` with a ``url`` that serves the VM's port, is listed (with a
``state`` filter), and once deleted is gone (404 or ``closed``) and no longer serves.
The module's tests share one VM: each serves on a port of its own, drawn at random from
:data:`GUEST_PORTS`; the probes of unknown ports use ports outside that range.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from conformance.checks import expect_error, expect_ok
from conformance.suite._listing import list_all
from conformance.suite._polling import Wait, poll_until
from conformance.suite._served import fetch_served
from conformance.suite._shell import runs_path, vm_path

if TYPE_CHECKING:
    from conformance.client import ArkerClient
    from conformance.spec import Spec
    from conformance.steps import StepLog

pytestmark = pytest.mark.capability("tunnels")

_STATES = frozenset({"starting", "open", "closed"})


# Below the usual ephemeral range (32768+): a VM sharing its host's network could
# otherwise collide with a port the host handed to some outgoing connection.
GUEST_PORTS = (20000, 32000)
UNOPENED_PORTS = (19000, 19999)  # no test here opens one: an unknown port in the shared VM


def tunnel_path(vm_id: str, port: int | str) -> str:
    """One tunnel of a VM, addressed by its guest port (a bare integer on the wire)."""
    return f"{vm_path(vm_id)}/tunnels/{port}"


@dataclass(frozen=True)
class ServedPort:
    """A VM running ``http.server`` on ``port`` behind a tunnel; ``marker`` is a served file."""

    vm_id: str
    port: int
    run_id: str
    dispatch: dict[str, Any]
    marker: str

    @property
    def path(self) -> str:
        return tunnel_path(self.vm_id, self.port)


@pytest.fixture
def served_port(spec: Spec, client: ArkerClient, module_vm: dict[str, Any]) -> Iterator[ServedPort]:
    """Start ``http.server`` in the module's VM with an inbound port; cancel it afterwards."""
    vm = module_vm
    port, marker = random.randint(*GUEST_PORTS), f"conf-tunnel-{secrets.token_hex(6)}"
    www = f"/tmp/conf-www-{marker}"
    command = (
        f"mkdir -p {www} && printf {marker} > {www}/marker.txt && cd {www} && "
        f"exec python3 -m http.server {port} --bind 0.0.0.0"
    )
    body = {
        "command": command,
        "background": True,
        "network": {
            "inbound": {"ports": {str(port): {"visibility": "private", "protocol": "http"}}}
        },
    }
    response = client.request("POST", runs_path(vm["vm_id"]), json=body)
    dispatch = expect_ok(spec, "createRun", response, capability="tunnels")
    assert isinstance(dispatch.get("run_id"), str), (
        f"background run: expected a BackgroundRunResponse with run_id, got {dispatch!r}"
    )
    yield ServedPort(vm["vm_id"], port, dispatch["run_id"], dispatch, marker)
    client.request("DELETE", f"{runs_path(vm['vm_id'])}/{dispatch['run_id']}")


def _wait_open(spec: Spec, client: ArkerClient, served: ServedPort) -> dict[str, Any]:
    def probe() -> tuple[bool, Any]:
        tunnel = expect_ok(
            spec, "getTunnel", client.request("GET", served.path), capability="tunnels"
        )
        assert tunnel.get("state") != "closed", f"tunnel closed before opening: {tunnel!r}"
        # `open` means it accepts connections, and `url` is where: an open tunnel names it.
        assert tunnel.get("state") != "open" or tunnel.get("url"), (
            f"tunnel {served.port} is open but has no url to connect to: {tunnel!r}"
        )
        return tunnel.get("state") == "open", tunnel

    # 0.5.1 sets no time for `starting` to become `open`: the operator's budget bounds it.
    return poll_until(probe, f"tunnel {served.port} to be open", wait=Wait.operator())


def _served_marker(url: str, marker: str) -> tuple[bool, str]:
    # Never with the API client: it would hand the org's key to whatever the VM runs.
    response = fetch_served(f"{url.rstrip('/')}/marker.txt")
    if response is None:
        return False, "no answer"
    observed = f"{response.status_code} {response.text[:120]!r}"
    return response.status_code == 200 and response.text == marker, observed


@pytest.mark.requires("runs.background")  # the serving command runs in the background
@pytest.mark.rules("TUN-001")
def test_inbound_port_opens_a_tunnel_that_serves(
    spec: Spec, client: ArkerClient, served_port: ServedPort, steps: StepLog
) -> None:
    served = served_port
    steps.log(f"background run {served.run_id} asked for port {served.port}")
    for tunnel in served.dispatch.get("tunnels") or []:
        ok = tunnel.get("port") == served.port and tunnel.get("state") in {"starting", "open"}
        assert ok, f"BackgroundRunResponse.tunnels: expected port {served.port}, got {tunnel}"
    run_url = f"{runs_path(served.vm_id)}/{served.run_id}"
    run = expect_ok(spec, "getRun", client.request("GET", run_url), capability="tunnels")
    mine = [t for t in run.get("tunnels", []) if t.get("port") == served.port]
    assert len(mine) == 1 and mine[0].get("vm_id") == served.vm_id, (
        f"Run.tunnels: expected one tunnel for port {served.port} of VM {served.vm_id}, "
        f"got {run.get('tunnels')!r}"
    )
    assert mine[0].get("run_id") in (None, served.run_id), f"Run.tunnels run_id: {mine[0]!r}"
    steps.log("poll GET /tunnels/{port} until open with a url")
    tunnel = _wait_open(spec, client, served)
    assert tunnel.get("vm_id") == served.vm_id and tunnel.get("port") == served.port, (
        f"getTunnel: expected vm_id {served.vm_id} port {served.port}, got {tunnel!r}"
    )
    steps.log(f"GET {tunnel['url']}/marker.txt through the tunnel")
    poll_until(
        lambda: _served_marker(tunnel["url"], served.marker),
        "the tunnel URL to serve the VM's http.server file",
        wait=Wait.operator(),
    )


def _listed_ports(spec: Spec, client: ArkerClient, vm_id: str, state: str | None) -> list[int]:
    tunnels = list_all(
        spec,
        client,
        "listTunnels",
        f"{vm_path(vm_id)}/tunnels",
        "tunnels",
        capability="tunnels",
        params={"state": state},
    )
    for tunnel in tunnels:
        assert state is None or tunnel.get("state") == state, (
            f"listTunnels(state={state}): got a tunnel in state {tunnel.get('state')!r}"
        )
    return [tunnel["port"] for tunnel in tunnels]


@pytest.mark.requires("runs.background")  # the serving command runs in the background
@pytest.mark.rules("TUN-002")
def test_tunnel_list_filters_by_state(
    spec: Spec, client: ArkerClient, served_port: ServedPort
) -> None:
    _wait_open(spec, client, served_port)
    vm_id, port = served_port.vm_id, served_port.port
    assert port in _listed_ports(spec, client, vm_id, None), f"open tunnel {port} not listed"
    assert port in _listed_ports(spec, client, vm_id, "open"), f"{port} missing under state=open"
    closed = _listed_ports(spec, client, vm_id, "closed")
    assert port not in closed, f"open tunnel {port} listed under state=closed: {closed}"


@pytest.mark.requires("runs.background")  # the serving command runs in the background
@pytest.mark.rules("TUN-003")
def test_deleted_tunnel_is_gone_and_stops_serving(
    spec: Spec, client: ArkerClient, served_port: ServedPort, steps: StepLog
) -> None:
    served = served_port
    tunnel = _wait_open(spec, client, served)
    poll_until(
        lambda: _served_marker(tunnel["url"], served.marker),
        "the tunnel URL to serve before deletion",
        wait=Wait.operator(),
    )
    steps.log(f"DELETE tunnel {served.port}")
    deleted = expect_ok(
        spec, "deleteTunnel", client.request("DELETE", served.path), capability="tunnels"
    )
    assert deleted.get("deleted") is True, f"deleteTunnel: expected deleted=true, got {deleted}"
    steps.log("GET the tunnel: 404, or state closed")
    after = client.request("GET", served.path)
    if after.status_code == 404:
        expect_error(spec, after, "not_found", capability="tunnels")
    else:
        body = expect_ok(spec, "getTunnel", after, capability="tunnels")
        assert body.get("state") == "closed", f"deleted tunnel: expected 404 or closed, got {body}"
    steps.log("the url stops serving")
    poll_until(
        lambda: (not _served_marker(tunnel["url"], served.marker)[0], "still serving"),
        "the deleted tunnel's URL to stop serving the VM's port",
        wait=Wait.operator(),
    )
    assert served.port not in _listed_ports(spec, client, served.vm_id, "open"), (
        f"deleted tunnel {served.port} still listed as open"
    )


@pytest.mark.shares_vm
@pytest.mark.parametrize("method", ["GET", "DELETE"])
@pytest.mark.rules("TUN-004")
def test_non_integer_port_is_a_bad_request(
    spec: Spec, client: ArkerClient, vm: dict[str, Any], method: str
) -> None:
    response = client.request(method, tunnel_path(vm["vm_id"], "http"))
    expect_error(spec, response, "bad_request", capability="tunnels")


@pytest.mark.shares_vm
@pytest.mark.parametrize("method", ["GET", "DELETE"])
@pytest.mark.rules("TUN-005")
def test_unknown_port_is_not_found(
    spec: Spec, client: ArkerClient, vm: dict[str, Any], method: str
) -> None:
    port = random.randint(*UNOPENED_PORTS)
    response = client.request(method, tunnel_path(vm["vm_id"], port))
    expect_error(spec, response, "not_found", capability="tunnels")
