"""Burst mode: the official 0.5.1 client routes to a burst reference and finds its VMs there.

Two backends: a regular one (the client's base URL) and one started with
``--provider aws-burst`` (its burst base URL). The client sends the ``arkuntu`` fork to the
burst URL and every later call on the child by the child's id; only ids of the burst form
bring those calls back to the burst backend. A regular backend behind the burst URL hands
out ``vm_...`` ids, and the client's next call on such an id goes to the regular backend,
which does not know it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from arker import Arker, ArkerError

from conformance.reference.launcher import ReferenceServer

KEY, ORG = "key-burst-a", "org-a"
BURST_VM_ID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}_[A-Za-z0-9]+")


def _servers(tmp: Path, burst_options: tuple[str, ...]) -> tuple[ReferenceServer, ReferenceServer]:
    keys = {KEY: ORG}
    regular = ReferenceServer(tmp / "regular", api_keys=keys, sandbox="none")
    burst = ReferenceServer(tmp / "burst", api_keys=keys, sandbox="none", options=burst_options)
    return regular, burst


@pytest.fixture
def client(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Arker]:
    regular, burst = _servers(tmp_path, request.param)
    with regular, burst:
        yield Arker(
            api_key=KEY,
            base_url=regular.base_url,
            burst_base_url=burst.base_url,
            control_base_url=burst.base_url,
            retry=False,
        )


@pytest.mark.parametrize("client", [("--provider", "aws-burst")], indirect=True)
def test_client_routes_arkuntu_forks_and_their_calls_to_the_burst_backend(client: Arker) -> None:
    vm = client.fork("arkuntu")
    assert BURST_VM_ID.fullmatch(vm.id), vm.id
    again = client.get_vm(vm.id)  # routed by the id's form alone
    assert again.provider == "aws-burst"
    assert client.vm(vm.id).run("echo routed").stdout == b"routed\n"
    child = client.fork(source_vm_id=vm.id)
    assert BURST_VM_ID.fullmatch(child.id) and child.provider == "aws-burst"
    vm.delete()
    child.delete()


@pytest.mark.parametrize("client", [()], indirect=True)
def test_a_regular_backend_behind_the_burst_url_loses_its_vms(client: Arker) -> None:
    vm = client.fork("arkuntu")  # goes to the burst URL, answered with a vm_... id
    assert not BURST_VM_ID.fullmatch(vm.id)
    with pytest.raises(ArkerError) as lost:
        client.get_vm(vm.id)  # routed to the regular backend, which never saw it
    assert lost.value.code == "not_found"
