"""Capability honesty: what a profile declares unsupported must say so.

Each probe runs only where the profile declares its capability ``unsupported`` (marker
``honesty``). The backend must refuse the capability's characteristic operation with a flat
422 ``unsupported_operation`` — never a 500, never a 404, never a silent success — and,
where it is observable, without side effect: a refused run must not have executed (its
command would have created a marker file that a later foreground run looks for), a refused
fork must not have created a VM, a refused resize must not have changed the VM, a refused
session must not appear among the VM's sessions, a refused binding must not show its path
to a foreground run, a refused signal or cancel must leave a background run to finish on
its own, and a refused inbound-ports run must not show a tunnel on the VM.

Each probe observes only through what the profile leaves supported. Where nothing is
observable (e.g. a signal needs a run in flight, and the profile declares background runs
unsupported) the probe judges the answer alone and its step log, stored in the report,
says "side effect not observable: <why>".

A passing probe is reported as ``unsupported``; a failing one as ``fail``.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import httpx
import pytest

from conformance.checks import UnsupportedOperation, expect_error, expect_ok
from conformance.steps import StepLog
from conformance.suite._background import (
    Started,
    follow_run,
    get_run,
    run_path,
    start_background,
)
from conformance.suite._listing import list_all
from conformance.suite._polling import PollTimeout, Wait, poll_until
from conformance.suite._shell import decode_output, run_command, runs_path, vm_path
from conformance.target import Target

UNSUPPORTED = "unsupported_operation"
MARKER_DIR = "/tmp"
# The trap says whether a signal reached the run; without one it finishes on its own.
TRAPPED = "trap 'echo SIGNALLED; exit 7' INT; echo READY; sleep 3; echo FINISHED"


def expect_refused(target: Target, response: httpx.Response, what: str, steps: StepLog) -> None:
    """The response must be the contract's 422 flat ``unsupported_operation``."""
    steps.log(f"{what}: answered {response.status_code}")
    expect_error(target.spec, response, UNSUPPORTED)


def expect_not_run(target: Target, vm_id: str, marker: str, steps: StepLog) -> None:
    """The refused command must not have run: its marker file must not exist."""
    steps.log(f"look for {marker} with a foreground run")
    seen = run_command(
        target.spec, target.client, vm_id, f"test -e {marker} && echo ran || echo absent"
    )
    assert seen.text.strip() == "absent", (
        f"the request was refused with {UNSUPPORTED} but its command ran anyway: "
        f"{marker} exists (a silent execution)"
    )


RUN_OPTIONS = [
    pytest.param(
        "runs.background",
        {"background": True},
        marks=pytest.mark.honesty("runs.background"),
        id="background",
    ),
    pytest.param(
        "runs.timeout", {"timeout": 60}, marks=pytest.mark.honesty("runs.timeout"), id="timeout"
    ),
    pytest.param(
        "runs.resources",
        {"vcpu_count": 1, "memory_mib": 512},
        marks=pytest.mark.honesty("runs.resources"),
        id="resources",
    ),
    pytest.param(
        "runs.acquire_release",
        {"acquire": "cpu", "release": "cpu"},
        marks=pytest.mark.honesty("runs.acquire_release"),
        id="acquire-release",
    ),
    pytest.param(
        "tunnels",
        {"network": {"inbound": {"ports": {"8080": {}}}}},
        marks=pytest.mark.honesty("tunnels"),
        id="inbound-ports",
    ),
]


def not_observable(steps: StepLog, why: str) -> None:
    """Say in the report that this probe judged the answer only: ``why`` nothing shows."""
    steps.log(f"side effect not observable: {why}")


def start_observed_run(target: Target, vm_id: str, steps: StepLog, why: str) -> Started | None:
    """A background run of :data:`TRAPPED` to observe; None (and the report says why not)
    when the profile declares background runs unsupported or the backend refuses them."""
    if target.profile.requirement("runs.background") != "unsupported":
        steps.log(f"start a background run in the default session: {TRAPPED}")
        with contextlib.suppress(UnsupportedOperation):
            started = start_background(target.spec, target.client, vm_id, TRAPPED)
            wait_until_ready(target, vm_id, started.run_id, steps)
            return started
    not_observable(steps, f"{why}, and background runs are unsupported")
    return None


def expect_no_tunnel(target: Target, vm_id: str, port: str, steps: StepLog) -> None:
    """The VM must show no tunnel on ``port`` (through its optional ``tunnels`` field)."""
    body = expect_ok(target.spec, "getVm", target.client.request("GET", vm_path(vm_id)))
    if not isinstance(body.get("tunnels"), list):
        not_observable(steps, "the Vm answer carries no tunnels field to show a tunnel")
        return
    steps.log(f"GET the VM: its tunnels must not include port {port}")
    opened = [t for t in body["tunnels"] if isinstance(t, dict) and str(t.get("port")) == port]
    assert not opened, (
        f"the inbound-ports request was refused with {UNSUPPORTED} but the VM shows a "
        f"tunnel on port {port}: {opened[0]!r}"
    )


@pytest.mark.parametrize(("capability", "option"), RUN_OPTIONS)
@pytest.mark.rules("CAP-001")
def test_run_option_is_refused_and_not_executed(
    target: Target, vm: dict[str, Any], steps: StepLog, capability: str, option: dict[str, Any]
) -> None:
    marker = f"{MARKER_DIR}/{target.prefix}-{capability}-ran"
    body = {"command": f"touch {marker}", **option}
    steps.log(
        f"POST runs with {sorted(option)} (capability {capability}), command touches {marker}"
    )
    response = target.client.request("POST", runs_path(vm["vm_id"]), json=body)
    expect_refused(target, response, "run request", steps)
    if capability == "tunnels":
        expect_no_tunnel(target, vm["vm_id"], "8080", steps)
    expect_not_run(target, vm["vm_id"], marker, steps)


def wait_until_ready(target: Target, vm_id: str, run_id: str, steps: StepLog) -> None:
    """Wait until the run printed READY (its trap is set) or ended: only then can a
    signal or cancel land on it. A backend that shows output only at the end lets the
    run end first; the probe then judges the answer alone, and says so."""

    def probe() -> tuple[bool, dict[str, Any]]:
        run = get_run(target.spec, target.client, vm_id, run_id)
        ready = b"READY" in decode_output(run, "stdout")
        return ready or target.spec.state_machine.is_terminal(str(run.get("state"))), run

    try:
        run = poll_until(probe, f"run {run_id} to print READY", wait=Wait.operator())
    except PollTimeout:  # no time is promised: judge what follows, and say so
        not_observable(steps, f"run {run_id} showed no output within the wait budget")
        return
    if run.get("state") != "running":
        not_observable(steps, f"run {run_id} ended before its output showed it had started")


def expect_finished_alone(
    target: Target, vm_id: str, run_id: str, refused: str, steps: StepLog
) -> None:
    """The background run must end ``completed`` with FINISHED: ``refused`` did not act."""
    steps.log(f"follow run {run_id}: it must finish on its own")
    final = follow_run(target.spec, target.client, vm_id, run_id)
    stdout = decode_output(final, "stdout").decode(errors="replace")
    assert final.get("state") == "completed" and "FINISHED" in stdout, (
        f"the {refused} was refused with {UNSUPPORTED} but took effect: run {run_id} ended "
        f"{final.get('state')!r} with stdout {stdout!r} (expected completed, FINISHED)"
    )


@pytest.mark.honesty("runs.signal")
@pytest.mark.rules("CAP-001")
def test_signal_is_refused_and_not_delivered(
    target: Target, vm: dict[str, Any], steps: StepLog
) -> None:
    started = start_observed_run(target, vm["vm_id"], steps, "a signal needs a run in flight")
    signal = {"command": "", "signal": "SIGINT"}
    response = target.client.request("POST", runs_path(vm["vm_id"]), json=signal)
    expect_refused(target, response, "signal request", steps)
    if started is not None:
        expect_finished_alone(target, vm["vm_id"], started.run_id, "signal", steps)


@pytest.mark.honesty("runs.cancel")
@pytest.mark.rules("CAP-001")
def test_cancel_is_refused_and_the_run_goes_on(
    target: Target, vm: dict[str, Any], steps: StepLog
) -> None:
    started = start_observed_run(target, vm["vm_id"], steps, "only a run in flight is cancelled")
    if started is None:  # cancel a finished run: only the answer can be judged
        done = run_command(target.spec, target.client, vm["vm_id"], "true")
        run_id = str(done.body.get("run_id") or "conf-no-run-id")
    else:
        run_id = started.run_id
    response = target.client.request("DELETE", run_path(vm["vm_id"], run_id))
    expect_refused(target, response, f"cancel of run {run_id}", steps)
    if started is not None:
        expect_finished_alone(target, vm["vm_id"], run_id, "cancel", steps)


def _session_ids(target: Target, vm_id: str) -> set[str]:
    body = expect_ok(target.spec, "getVm", target.client.request("GET", vm_path(vm_id)))
    return {str(s.get("session_id")) for s in body.get("sessions") or [] if isinstance(s, dict)}


@pytest.mark.honesty("sessions")
@pytest.mark.rules("CAP-001")
def test_sessions_are_refused_and_none_is_created(
    target: Target, vm: dict[str, Any], steps: StepLog
) -> None:
    path = f"{vm_path(vm['vm_id'])}/sessions"
    before = _session_ids(target, vm["vm_id"])
    steps.log(f"the VM's sessions before (GET the VM): {sorted(before)}")
    expect_refused(target, target.client.request("POST", path, json={}), "create session", steps)
    expect_refused(target, target.client.request("GET", path), "list sessions", steps)
    created = _session_ids(target, vm["vm_id"]) - before
    steps.log(f"the VM's sessions after: new {sorted(created)}")
    assert not created, (
        f"creating a session was refused with {UNSUPPORTED} but the VM now lists session(s) "
        f"{sorted(created)}"
    )


@pytest.mark.honesty("tunnels")
@pytest.mark.rules("CAP-001")
def test_tunnel_listing_is_refused(target: Target, vm: dict[str, Any], steps: StepLog) -> None:
    response = target.client.request("GET", f"{vm_path(vm['vm_id'])}/tunnels")
    expect_refused(target, response, "list tunnels", steps)


@pytest.mark.honesty("resize")
@pytest.mark.rules("CAP-001")
def test_resize_is_refused_and_changes_nothing(
    target: Target, vm: dict[str, Any], steps: StepLog
) -> None:
    before = {k: vm.get(k) for k in ("vcpu_count", "memory_mib", "disk_mib")}
    wanted = {"vcpu_count": (before["vcpu_count"] or 1) + 1}
    response = target.client.request("POST", f"{vm_path(vm['vm_id'])}/resize", json=wanted)
    expect_refused(target, response, f"resize to {wanted}", steps)
    after = expect_ok(target.spec, "getVm", target.client.request("GET", vm_path(vm["vm_id"])))
    now = {k: after.get(k) for k in before}
    assert now == before, f"resize was refused but the VM changed from {before} to {now}"


@pytest.mark.honesty("filesystems")
@pytest.mark.rules("CAP-001")
def test_filesystems_are_refused(target: Target, steps: StepLog) -> None:
    expect_refused(target, target.create_filesystem_raw("honesty"), "create filesystem", steps)
    listing = target.client.request("GET", "/v1/filesystems")
    expect_refused(target, listing, "list filesystems", steps)
    not_observable(
        steps, "listing filesystems answers 422 too, and no other operation shows a filesystem"
    )


@pytest.mark.honesty("syncs")
@pytest.mark.rules("CAP-001")
def test_filesystem_bindings_are_refused_and_nothing_is_bound(
    target: Target, vm: dict[str, Any], steps: StepLog
) -> None:
    fs_id, mount = "conf-no-such-filesystem", f"/mnt/{target.prefix}-honesty"
    real = target.profile.requirement("filesystems") != "unsupported"
    if real:
        fs_id = target.create_filesystem("bound")["filesystem_id"]
    steps.log(f"bind filesystem {fs_id} at {mount}")
    created = target.create_sync(vm["vm_id"], fs_id, mount)
    expect_refused(target, created, "create binding", steps)
    listing = target.client.request("GET", f"{vm_path(vm['vm_id'])}/syncs")
    expect_refused(target, listing, "list bindings", steps)
    if not real:
        not_observable(steps, "filesystems are unsupported, so no real filesystem was bound")
        return
    steps.log(f"a foreground run looks for {mount}")
    seen = run_command(
        target.spec, target.client, vm["vm_id"], f"test -e {mount} && echo bound || echo absent"
    )
    assert seen.text.strip() == "absent", (
        f"binding filesystem {fs_id} was refused with {UNSUPPORTED} but {mount} exists in "
        "the VM (the filesystem was bound anyway)"
    )


FORK_OPTIONS = [
    pytest.param({"durable": True}, marks=pytest.mark.honesty("fork.durable"), id="durable"),
    pytest.param({"network": False}, marks=pytest.mark.honesty("fork.network"), id="network"),
    pytest.param({"vcpu_count": 1}, marks=pytest.mark.honesty("fork.sizing"), id="sizing"),
]


@pytest.mark.parametrize("option", FORK_OPTIONS)
@pytest.mark.rules("CAP-001")
def test_fork_option_is_refused_and_creates_no_vm(
    target: Target, steps: StepLog, option: dict[str, Any]
) -> None:
    response = target.fork_raw(suffix="honesty", **option)
    name = _sent_name(response)
    expect_refused(target, response, f"fork with {option}", steps)
    steps.log(f"list VMs: {name} must not exist")
    names = {vm.get("name") for vm in _all_vms(target)}
    assert name not in names, f"fork with {option} was refused but VM {name} was created"


@pytest.mark.honesty("fork.public")
@pytest.mark.rules("CAP-001")
def test_public_vms_are_refused(
    request: pytest.FixtureRequest, target: Target, steps: StepLog
) -> None:
    """Either ``public: true`` is refused, or the VM it made is not forkable by another org."""
    response = target.fork_raw(suffix="public", public=True)
    if response.status_code != 200:
        expect_refused(target, response, "fork with public: true", steps)
        return
    made = expect_ok(target.spec, "forkVm", response, capability="vms")
    steps.log(f"public: true accepted ({made['vm_id']}); org B forks it by id")
    other = request.getfixturevalue("other_client")
    theirs = target.fork_raw(client=other, suffix="theirs", source_vm_id=made["vm_id"])
    expect_refused(target, theirs, "cross-org fork of a public VM", steps)


@pytest.mark.honesty("fork.by_id")
@pytest.mark.rules("CAP-001")
def test_fork_by_id_is_refused_and_creates_no_vm(
    target: Target, vm: dict[str, Any], steps: StepLog
) -> None:
    response = target.fork_raw(suffix="honesty", source_vm_id=vm["vm_id"])
    name = _sent_name(response)
    expect_refused(target, response, "fork by id", steps)
    assert name not in {v.get("name") for v in _all_vms(target)}, (
        f"fork by id was refused but VM {name} was created"
    )


@pytest.mark.honesty("sync.presigned")
@pytest.mark.rules("CAP-001")
def test_presigned_upload_is_refused(target: Target, vm: dict[str, Any], steps: StepLog) -> None:
    entry = {"path": "/tmp/conf-presigned", "size": 5 * 1024 * 1024, "presigned": True}
    response = target.client.request(
        "POST", f"{vm_path(vm['vm_id'])}/sync", json={"op": "write", "writes": [entry]}
    )
    if response.status_code == 200:  # a per-entry refusal is the other honest shape
        steps.log("answered 200: the entry must carry an unsupported_operation error")
        result = (response.json().get("results") or [{}])[0]
        error = result.get("error") or {}
        assert error.get("code") == UNSUPPORTED and not result.get("presigned_url"), (
            f"presigned upload on a backend declaring sync.presigned unsupported: expected a "
            f"422 or a per-entry {UNSUPPORTED} error, got result {result!r}"
        )
        return
    expect_refused(target, response, "presigned upload request", steps)


def _sent_name(response: httpx.Response) -> str:
    return str(json.loads(response.request.content).get("name"))


def _all_vms(target: Target) -> list[dict[str, Any]]:
    return list_all(
        target.spec, target.client, "listVms", "/v1/vms", "vms", capability="vms", control=True
    )
