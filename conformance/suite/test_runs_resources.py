"""Per-run resources (``vcpu_count``/``memory_mib``/``disk_mib``) and acquire/release.

0.5.1's ``RunRequest`` and ``ResourceKind``, and the error-code table. A run may carry
per-run resource overrides; it then executes as usual (what the VM gets is not
observable through 0.5.1, so only that it runs and its output are checked). Sizes are
numbers (integers, the d.ts ``number``): 0, a negative value or a string is a schema
violation, ``bad_request``, and nothing runs. ``acquire``/``release`` are comma-separated
``cpu``/``memory``/``disk``; a run carrying them runs normally; a request whose only
purpose is to acquire or release (``command: ""``, still required) executes nothing and is
answered with a completed acknowledgement that names no new run (a later contract); an unknown
kind is ``bad_request``. Released resources are what the *next* run gets back (``release``:
``release: "cpu"`` keeps memory hot "for the next run"), so a run after a release works.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

import pytest

from conformance.checks import expect_error, expect_ok
from conformance.suite._acks import expect_acknowledgement
from conformance.suite._shell import decode_output, run_command, runs_path

if TYPE_CHECKING:
    import httpx

    from conformance.target import Target

RESOURCE_FIELDS = ("vcpu_count", "memory_mib", "disk_mib")
DEFAULT_SIZES = {"vcpu_count": 1, "memory_mib": 1024, "disk_mib": 4096}
# runs with options, refused and not: each leaves its own marker, so one VM serves all
pytestmark = pytest.mark.shares_vm


def post_run(target: Target, vm_id: str, command: str, **fields: Any) -> httpx.Response:
    return target.client.request("POST", runs_path(vm_id), json={"command": command, **fields})


def ran(target: Target, vm_id: str, marker: str) -> bool:
    """Whether ``marker`` exists in the VM (a foreground run looks)."""
    seen = run_command(target.spec, target.client, vm_id, f"test -e {marker} && echo y || echo n")
    return seen.text.strip() == "y"


@pytest.fixture(scope="module")
def refusing_vm(module_vm: dict[str, Any]) -> str:
    """The module's VM, for requests that must be refused (each leaves its own marker)."""
    return str(module_vm["vm_id"])


def expect_refused_not_run(
    target: Target, vm_id: str, capability: str, tag: str, **fields: Any
) -> None:
    """A run carrying ``fields`` is ``bad_request`` and its command (a marker) never runs."""
    marker = f"$HOME/conf-refused-{tag}"
    response = post_run(target, vm_id, f"touch {marker}", **fields)
    expect_error(target.spec, response, "bad_request", capability=capability)
    assert not ran(target, vm_id, marker), (
        f"a run refused for {fields} executed anyway: {marker} exists"
    )


# -- per-run resources ---------------------------------------------------------------------


def sizes_of(vm: dict[str, Any], fields: tuple[str, ...]) -> dict[str, int]:
    """The VM's own sizes where it reports them (a backend may refuse other sizes)."""
    return {
        f: vm[f] if isinstance(vm.get(f), int) and vm[f] > 0 else DEFAULT_SIZES[f] for f in fields
    }


def expect_normal_run(target: Target, vm_id: str, capability: str, **fields: Any) -> None:
    """A run carrying ``fields`` executes like any other: its exit code, output and file."""
    marker = f"$HOME/conf-option-ran-{secrets.token_hex(4)}"  # the VM is the module's
    response = post_run(target, vm_id, f"touch {marker}; echo option-run", **fields)
    body = expect_ok(target.spec, "createRun", response, capability=capability)
    got = (body.get("exit_code"), decode_output(body, "stdout"))
    assert got == (0, b"option-run\n"), (
        f"a run with {fields} should execute normally: expected exit 0 and stdout "
        f"b'option-run\\n', got {got!r} (body {body!r})"
    )
    assert ran(target, vm_id, marker), (
        f"the run with {fields} answered its output but its file {marker} is not in the VM"
    )


@pytest.mark.capability("runs.resources")
@pytest.mark.parametrize(
    "fields", [(f,) for f in RESOURCE_FIELDS] + [RESOURCE_FIELDS], ids=[*RESOURCE_FIELDS, "all"]
)
@pytest.mark.rules("RES-001")
def test_run_with_resources_executes(
    target: Target, vm: dict[str, Any], fields: tuple[str, ...]
) -> None:
    expect_normal_run(target, vm["vm_id"], "runs.resources", **sizes_of(vm, fields))


@pytest.mark.capability("runs.resources")
@pytest.mark.parametrize("value", [0, -1, "1"], ids=["zero", "negative", "string"])
@pytest.mark.parametrize("field", RESOURCE_FIELDS)
@pytest.mark.rules("RES-002")
def test_invalid_resource_value_is_bad_request(
    target: Target, refusing_vm: str, field: str, value: Any
) -> None:
    sizing: dict[str, Any] = {field: value}
    expect_refused_not_run(target, refusing_vm, "runs.resources", f"{field}-{value}", **sizing)


# -- acquire and release -------------------------------------------------------------------


@pytest.mark.capability("runs.acquire_release")
@pytest.mark.parametrize(
    "fields",
    [
        {"acquire": "cpu,memory"},
        {"release": "cpu"},
        {"acquire": "cpu", "release": "cpu,memory,disk"},
    ],
    ids=["acquire", "release", "both"],
)
@pytest.mark.rules("RES-003")
def test_run_with_acquire_or_release_executes(
    target: Target, vm: dict[str, Any], fields: dict[str, str]
) -> None:
    expect_normal_run(target, vm["vm_id"], "runs.acquire_release", **fields)


@pytest.mark.capability("runs.acquire_release")
@pytest.mark.parametrize(
    "fields",
    [{"release": "cpu"}, {"release": "cpu,memory,disk"}, {"acquire": "cpu,memory"}],
    ids=["release-cpu", "release-all", "acquire-only"],
)
@pytest.mark.rules("RES-004")
def test_resource_only_request_is_acknowledged_without_a_run(
    target: Target, vm: dict[str, Any], fields: dict[str, str]
) -> None:
    before = run_command(target.spec, target.client, vm["vm_id"], "echo before").body
    response = post_run(target, vm["vm_id"], "", **fields)
    expect_acknowledgement(
        target,
        response,
        capability="runs.acquire_release",
        request=f"{fields} with command ''",
        may_echo=before.get("run_id"),
    )
    after = run_command(target.spec, target.client, vm["vm_id"], "echo after-release").text
    assert after == "after-release\n", (
        f"the next run after {fields} should get its resources back and run; got {after!r}"
    )


@pytest.mark.capability("runs.acquire_release")
@pytest.mark.parametrize("field", ["acquire", "release"])
@pytest.mark.parametrize("value", ["gpu", "cpu,gpu"], ids=["gpu", "cpu-gpu"])
@pytest.mark.rules("RES-005")
def test_unknown_resource_kind_is_bad_request(
    target: Target, refusing_vm: str, field: str, value: str
) -> None:
    kinds: dict[str, Any] = {field: value}
    tag = f"{field}-{value.replace(',', '-')}"
    expect_refused_not_run(target, refusing_vm, "runs.acquire_release", tag, **kinds)
