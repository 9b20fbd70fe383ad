"""Fork egress policy: ``network`` on ``POST /v1/fork`` decides what the new VM may reach.

0.5.1's ``ForkRequest.network``: ``NetworkPolicyInput`` is a boolean, a string or a
``NetworkPolicy`` object. ``true``/``"true"``/``"open"``/``{"type": "open"}`` mean open
egress; ``false``/``"false"``/``"blocked"``/``"none"``/``{"type": "blocked"}`` mean none;
other strings are 400; ``allow``/``block`` carry lists whose entry syntax is unspecified
(hosts or CIDRs are the reading), so only their acceptance is checked here.

The egress probe is a TCP connect from inside the VM (bash's ``/dev/tcp`` under coreutils
``timeout``) to the API's own host and port, taken from the client's base URL: a VM with
open egress on any real deployment reaches it, a VM without egress does not.

Portability: a blocked VM failing to connect proves something only if some VM of the
same backend connects (a witness: one forked with no policy, else one forked ``open``),
so every blocked test first needs a witness. An open VM that cannot connect fails when
the API host is a global address (open egress reaches the public internet) or when a
witness connected (the host is reachable from VMs here). Otherwise — a loopback or
private API host no VM reaches, e.g. a backend on the test machine whose VMs have their
own network stack — the policy cannot be judged: the tests end in *error* (incomplete),
never in a pass.
"""

from __future__ import annotations

import ipaddress
import shlex
import socket
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from conformance.checks import expect_error
from conformance.errors import HarnessError
from conformance.suite._forks import fork_for_test, fork_raw_for_test
from conformance.suite._polling import operator_budget
from conformance.suite._shell import run_command

if TYPE_CHECKING:
    from conformance.steps import StepLog
    from conformance.target import Target

pytestmark = pytest.mark.capability("fork.network")

CONNECTED, UNREACHABLE = "connected", "unreachable"

OPEN_POLICIES = [
    pytest.param(True, id="true"),
    pytest.param("open", id="open"),
    pytest.param("true", id="string-true"),
    pytest.param({"type": "open"}, id="object-open"),
]
BLOCKED_POLICIES = [
    pytest.param(False, id="false"),
    pytest.param("blocked", id="blocked"),
    pytest.param("false", id="string-false"),
    pytest.param("none", id="none"),
    pytest.param({"type": "blocked"}, id="object-blocked"),
]
INVALID_POLICIES = [
    pytest.param("sometimes", id="unknown-string"),
    pytest.param(42, id="number"),
    pytest.param({"type": "allow"}, id="allow-without-list"),
    pytest.param({"type": "block"}, id="block-without-list"),
    pytest.param({"type": "teleport"}, id="unknown-type"),
]
LISTED_POLICIES = [
    pytest.param({"type": "allow", "allow": ["example.com", "10.0.0.0/8"]}, id="allow"),
    pytest.param({"type": "block", "block": ["example.com", "192.0.2.0/24"]}, id="block"),
]


def api_endpoint(base_url: str) -> tuple[str, int]:
    """Host and port of the API, as a VM would dial them (default port by scheme)."""
    url = httpx.URL(base_url)
    return url.host, url.port or (443 if url.scheme == "https" else 80)


def host_is_global(host: str) -> bool:
    """Whether every address ``host`` resolves to (here) is a global one."""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return all(ipaddress.ip_address(info[4][0]).is_global for info in infos)


def connect_timeout(target: Target) -> int:
    """Seconds the in-VM connect may take: a twelfth of the operator's wait budget (10 s by
    default), under half the request timeout so the probing run itself always answers.

    0.5.1 states no connect time; a connect slower than this counts as unreachable.
    """
    return max(1, int(min(operator_budget() / 12, target.settings.request_timeout / 2)))


def egress(target: Target, vm_id: str) -> str:
    """Probe, from inside ``vm_id``, a TCP connect to the API host: connected or unreachable."""
    host, port = api_endpoint(target.client.base_url)
    dial = shlex.quote(f"exec 3<>/dev/tcp/{host}/{port}")
    command = (
        f"if timeout {connect_timeout(target)} bash -c {dial} 2>/dev/null; "
        f"then echo {CONNECTED}; else echo {UNREACHABLE}; fi"
    )
    seen = run_command(target.spec, target.client, vm_id, command).text.strip()
    if seen not in (CONNECTED, UNREACHABLE):
        raise HarnessError(f"egress probe printed {seen!r}, not {CONNECTED}/{UNREACHABLE}")
    return seen


def unjudgeable(target: Target) -> HarnessError:
    host, port = api_endpoint(target.client.base_url)
    return HarnessError(
        f"fork.network cannot be judged: no VM could connect to the API at {host}:{port}, "
        "which is not a global address (a backend on this machine or a private network may be "
        "out of a VM's reach by design); point --backend-url at an address the VMs can reach"
    )


@pytest.fixture(scope="module")
def vm_reaches_api(
    target: Target, request: pytest.FixtureRequest, module_vm: dict[str, Any]
) -> bool:
    """Whether some VM of this backend reaches the API: the module's VM (forked with no
    policy), else one forked open."""
    if egress(target, module_vm["vm_id"]) == CONNECTED:
        return True
    witness = fork_for_test(target, request, capability="fork.network", network="open")
    return egress(target, witness["vm_id"]) == CONNECTED


@pytest.mark.parametrize("policy", OPEN_POLICIES)
@pytest.mark.rules("NET-001")
def test_open_policy_reaches_the_api_host(
    target: Target, request: pytest.FixtureRequest, steps: StepLog, policy: Any
) -> None:
    vm = fork_for_test(target, request, capability="fork.network", network=policy)
    steps.log(f"forked {vm['vm_id']} with network {policy!r}; dial the API host from inside")
    seen = egress(target, vm["vm_id"])
    if seen == UNREACHABLE and not host_is_global(api_endpoint(target.client.base_url)[0]):
        steps.log("no connect to a non-global API host: does any VM here reach it?")
        if not request.getfixturevalue("vm_reaches_api"):
            raise unjudgeable(target)
    assert seen == CONNECTED, (
        f"network {policy!r} means open egress (ForkRequest), yet a TCP connect from the VM to "
        f"the API's own host {target.public_url} failed"
    )


@pytest.mark.parametrize("policy", BLOCKED_POLICIES)
@pytest.mark.rules("NET-002")
def test_blocked_policy_cuts_egress(
    target: Target,
    request: pytest.FixtureRequest,
    steps: StepLog,
    vm_reaches_api: bool,
    policy: Any,
) -> None:
    if not vm_reaches_api:
        steps.log("no VM here reaches the API host: a blocked result would prove nothing")
        raise unjudgeable(target)
    vm = fork_for_test(target, request, capability="fork.network", network=policy)
    steps.log(f"forked {vm['vm_id']} with network {policy!r}; dial the API host from inside")
    seen = egress(target, vm["vm_id"])
    assert seen == UNREACHABLE, (
        f"network {policy!r} means no egress (NetworkPolicyInput), yet the VM connected to the "
        f"API's own host {target.public_url} (the policy was ignored)"
    )


@pytest.mark.parametrize("policy", INVALID_POLICIES)
@pytest.mark.rules("NET-003")
def test_invalid_policy_is_bad_request(
    target: Target, request: pytest.FixtureRequest, policy: Any
) -> None:
    # A wrongly accepted fork is deleted after the test (fork_raw_for_test).
    response = fork_raw_for_test(target, request, network=policy)
    expect_error(target.spec, response, "bad_request", capability="fork.network")


@pytest.mark.parametrize("policy", LISTED_POLICIES)
@pytest.mark.rules("NET-004")
def test_allow_and_block_lists_are_accepted(
    target: Target, request: pytest.FixtureRequest, policy: dict[str, Any]
) -> None:
    # What the lists let through is unspecified in 0.5.1: only that the VM is
    # created and works is checked.
    vm = fork_for_test(target, request, capability="fork.network", network=policy)
    seen = run_command(target.spec, target.client, vm["vm_id"], "echo listed-ok").text.strip()
    assert seen == "listed-ok", (
        f"a VM forked with network {policy!r} should run commands; `echo listed-ok` printed "
        f"{seen!r}"
    )
