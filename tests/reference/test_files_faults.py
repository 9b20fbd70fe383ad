"""The file and network families' named faults each switch on exactly their violation.

One server runs with all four faults (they touch disjoint behaviour); each test shows
the contract being broken the way ``faults.FAULTS`` describes, so the fault zoo has
something real to catch.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest
from arker import VM, Arker

from conformance.reference.launcher import ReferenceServer

from .conftest import KEY_A, ORG_A, poll
from .test_tunnels import free_port

FAULTS = (
    "sync-read-truncates",
    "syncs-taken-path-ok",
    "filesystem-delete-bound-ok",
    "tunnel-delete-noop",
)


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceServer]:
    """A reference backend with this module's faults switched on."""
    data = tmp_path_factory.mktemp("faulty") / "data"
    with ReferenceServer(data, api_keys={KEY_A: ORG_A}, faults=FAULTS) as running:
        yield running


@pytest.fixture
def arker(faulty: ReferenceServer) -> Arker:
    """The official client against the faulty server."""
    return Arker(api_key=KEY_A, base_url=faulty.base_url, retry=False)


@pytest.fixture
def vm(arker: Arker) -> Iterator[VM]:
    """A fresh VM on the faulty server."""
    made = arker.fork("ubuntu")
    yield made
    made.delete()


def test_sync_read_truncates_drops_the_last_byte(vm: VM) -> None:
    vm.sync("/tmp/small", b"abc")
    assert vm.sync("/tmp/small") == b"ab"
    large = b"\x05" * (4 * 1024 * 1024 + 2)
    vm.sync("/tmp/large", large)
    assert vm.sync("/tmp/large") == large[:-1]


def test_syncs_taken_path_ok_binds_a_second_filesystem_over_the_first(arker: Arker, vm: VM) -> None:
    first = arker.create_filesystem(name=f"one-{secrets.token_hex(3)}")
    second = arker.create_filesystem(name=f"two-{secrets.token_hex(3)}")
    vm.create_sync(filesystem_id=first.filesystem_id, path="/data")
    vm.create_sync(filesystem_id=second.filesystem_id, path="/data")
    assert [s.path for s in vm.list_syncs().syncs] == ["/data", "/data"]


def test_filesystem_delete_bound_ok_deletes_a_bound_filesystem(arker: Arker, vm: VM) -> None:
    bound = arker.create_filesystem(name=f"bound-{secrets.token_hex(3)}")
    vm.create_sync(filesystem_id=bound.filesystem_id)
    assert arker.delete_filesystem(bound.filesystem_id).deleted is True


def test_tunnel_delete_noop_keeps_serving(vm: VM) -> None:
    port = free_port()
    run = vm.run(
        f"exec python3 -m http.server {port} --bind 127.0.0.1 --directory /tmp",
        background=True,
        network={"inbound": {"ports": {str(port): {}}}},
    )
    tunnel = poll(lambda: vm.get_tunnel(port), lambda t: t.state != "starting", "tunnel opens")
    assert tunnel.url, (tunnel, vm.get_run(run.run_id or ""))
    assert vm.delete_tunnel(port).deleted is True
    assert vm.get_tunnel(port).state == "open"
    assert httpx.get(tunnel.url).status_code == 200
    vm.cancel_run(run.run_id or "")
