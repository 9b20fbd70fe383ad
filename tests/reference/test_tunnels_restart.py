"""Tunnel URLs on a fresh server, and tunnels of durable runs retried after a crash.

Both use a server of their own: the URL must be known from the bound socket before any
tunnel route was called, and a crash needs a server the other tests do not share.
"""

from __future__ import annotations

import signal

import httpx
import pytest
from arker import VM, Tunnel

from conformance.reference.launcher import ReferenceServer
from conformance.reference.server import public_base_url

from .conftest import poll
from .test_restart import client, own_server
from .test_tunnels import free_port, serve_www

__all__ = ["own_server"]  # the fixture, imported for use here


def _open_in_run(vm: VM, run_id: str, port: int, what: str) -> Tunnel:
    run = poll(
        lambda: vm.get_run(run_id),
        lambda r: any(t.port == port and t.state != "starting" for t in r.tunnels),
        what,
    )
    (tunnel,) = [t for t in run.tunnels if t.port == port]
    return tunnel


def test_run_carries_the_tunnel_url_before_any_tunnel_route_is_called(
    own_server: ReferenceServer,
) -> None:
    vm = client(own_server).fork("ubuntu")
    port = free_port()
    run_id = serve_www(vm, port)
    tunnel = _open_in_run(vm, run_id, port, "tunnel opens (seen through GET run only)")
    assert tunnel.state == "open" and tunnel.url
    assert tunnel.url.startswith(own_server.base_url + "/_tunnels/")
    assert httpx.get(tunnel.url + "marker.txt").text == "tunnelled"
    vm.cancel_run(run_id)


def test_durable_run_retried_after_a_crash_reopens_its_tunnel(
    own_server: ReferenceServer,
) -> None:
    vm = client(own_server).fork("ubuntu", durable=True)
    port = free_port()
    run_id = serve_www(vm, port)
    first = _open_in_run(vm, run_id, port, "tunnel opens before the crash")
    own_server.restart(signal.SIGKILL)
    vm = client(own_server).get_vm(vm.id)
    poll(lambda: vm.get_run(run_id), lambda r: r.retry_count == 1, "run retried")
    again = _open_in_run(vm, run_id, port, "tunnel reopens for the retried run")
    assert again.state == "open" and again.url and first.url
    assert httpx.get(again.url + "marker.txt").text == "tunnelled"
    vm.cancel_run(run_id)


@pytest.mark.parametrize(
    ("host", "url"),
    [("127.0.0.1", "http://127.0.0.1:8080"), ("::1", "http://[::1]:8080"), ("0.0.0.0", None)],
)
def test_public_base_url(host: str, url: str | None) -> None:
    assert public_base_url(host, 8080) == url
