"""Tunnels for a run's inbound ports: starting → open with a proxy URL → closed.

A background ``python3 -m http.server`` asks for a port; the backend's proxy URL then
serves its directory listing without an API key, and stops serving once the tunnel is
deleted or the run ends.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from arker import VM, Arker, ArkerError, Tunnel

from .conftest import poll


def free_port() -> int:
    """A port free right now on 127.0.0.1, chosen by the OS (bind to port 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Served:
    """A VM serving ``/srv/www`` (holding ``marker.txt``) on ``port`` from run ``run_id``."""

    vm: VM
    port: int
    run_id: str


def serve_www(vm: VM, port: int) -> str:
    """Start a background http.server of ``/srv/www`` asking for a tunnel; its run id."""
    vm.sync("/srv/www/marker.txt", b"tunnelled")
    started = vm.run(
        f"cd /srv/www && exec python3 -m http.server {port} --bind 127.0.0.1",
        background=True,
        network={"inbound": {"ports": {str(port): {}}}},
    )
    assert started.run_id
    return started.run_id


@pytest.fixture
def served(vm_a: VM) -> Iterator[Served]:
    """A background http.server behind a tunnel; its run is cancelled afterwards."""
    port = free_port()
    run_id = serve_www(vm_a, port)
    yield Served(vm_a, port, run_id)
    with contextlib.suppress(ArkerError):
        vm_a.cancel_run(run_id)


def _wait_open(served: Served) -> Tunnel:
    return poll(
        lambda: served.vm.get_tunnel(served.port),
        lambda t: t.state != "starting",
        f"tunnel {served.port} leaves starting",
    )


def test_background_run_reports_a_starting_tunnel(served: Served) -> None:
    run = served.vm.get_run(served.run_id)
    (tunnel,) = [t for t in run.tunnels if t.port == served.port]
    assert tunnel.vm_id == served.vm.id and tunnel.run_id == served.run_id
    assert (tunnel.visibility, tunnel.protocol) == ("private", "http")
    assert tunnel.state in ("starting", "open")


def test_open_tunnel_serves_the_port_without_an_api_key(served: Served) -> None:
    tunnel = _wait_open(served)
    assert tunnel.state == "open" and tunnel.url, (tunnel, served.vm.get_run(served.run_id))
    listing = httpx.get(tunnel.url)
    assert listing.status_code == 200 and "marker.txt" in listing.text
    assert httpx.get(tunnel.url + "marker.txt").text == "tunnelled"
    vm_view = served.vm.refresh()
    assert [t.port for t in vm_view.tunnels or []] == [served.port]


def test_list_filters_by_state(served: Served) -> None:
    _wait_open(served)
    assert [t.port for t in served.vm.list_tunnels(state="open").tunnels] == [served.port]
    assert served.vm.list_tunnels(state="closed").tunnels == []


def test_deleted_tunnel_closes_and_its_url_stops(served: Served) -> None:
    url = _wait_open(served).url
    assert url and httpx.get(url).status_code == 200
    assert served.vm.delete_tunnel(served.port).deleted is True
    after = served.vm.get_tunnel(served.port)
    assert after.state == "closed" and after.url is None and after.message
    gone = httpx.get(url)
    assert gone.status_code == 404 and gone.json()["code"] == "not_found"


def test_tunnel_closes_when_its_run_ends(served: Served) -> None:
    url = _wait_open(served).url
    assert url
    served.vm.cancel_run(served.run_id)
    closed = poll(
        lambda: served.vm.get_tunnel(served.port),
        lambda t: t.state == "closed",
        "tunnel closes after its run is cancelled",
    )
    assert closed.message and served.run_id in closed.message
    assert httpx.get(url).status_code == 404


def test_bad_and_unknown_ports(http_a: httpx.Client, vm_a: VM) -> None:
    # "%C2%B9" is "¹": str.isdigit() says yes, int() says no (found by the property layer)
    cases = (("http", 400), ("0", 400), ("70000", 400), ("%C2%B9", 400), ("8123", 404))
    for port, status in cases:
        for method in ("GET", "DELETE"):
            response = http_a.request(method, f"/v1/vms/{vm_a.id}/tunnels/{port}")
            assert response.status_code == status, (method, port, response.text)
            assert set(response.json()) == {"code", "message"}
    assert http_a.get(f"/v1/vms/{vm_a.id}/tunnels", params={"state": "up"}).status_code == 400


def test_unknown_proxy_token_is_404(http_a: httpx.Client) -> None:
    response = http_a.get("/_tunnels/not-a-token/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_blocked_network_vm_gets_a_closed_tunnel_saying_why(arker_a: Arker) -> None:
    isolated = arker_a.fork("ubuntu", network=False)
    port = free_port()
    started = isolated.run("true", background=True, network={"inbound": {"ports": {str(port): {}}}})
    tunnel = isolated.get_tunnel(port)
    assert tunnel.state == "closed" and tunnel.message and "blocked" in tunnel.message
    assert tunnel.run_id == started.run_id
    isolated.delete()
