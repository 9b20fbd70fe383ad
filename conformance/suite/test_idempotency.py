"""Idempotency-Key on ``POST /v1/vms/{id}/runs``: one key, one execution.

0.5.1's key rules: the same key with the same request returns the original run (and
runs nothing again); the same key with a different request is 409 ``conflict`` (an extra
``run_id`` naming the original is allowed); a key is 1-64 printable ASCII characters.
Executions are counted inside the VM: every execution appends one line to a file. The
module's tests share one VM (runs are their subject, not the VM): each counts in its own
file, and every key is fresh.
"""

from __future__ import annotations

import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from conformance.checks import expect_error, expect_ok
from conformance.suite._shell import run_command, runs_path

if TYPE_CHECKING:
    from conformance.steps import StepLog
    from conformance.target import Target

pytestmark = [pytest.mark.capability("runs.idempotency"), pytest.mark.shares_vm]

CONCURRENT = 8


def fresh_key() -> str:
    return f"conf-{secrets.token_hex(8)}"


def fresh_tally(stem: str) -> str:
    """A file of this test's own in the shared VM: one line per execution."""
    return f"$HOME/conf-idempotency-{stem}-{secrets.token_hex(4)}"


def append_to(tally: str) -> str:
    return f"echo executed >> {tally}"


def post_run(target: Target, vm_id: str, command: str, key: str) -> httpx.Response:
    return target.client.request(
        "POST", runs_path(vm_id), json={"command": command}, headers={"Idempotency-Key": key}
    )


def run_id_of(target: Target, response: httpx.Response) -> str:
    body = expect_ok(target.spec, "createRun", response, capability="runs.idempotency")
    run_id = body.get("run_id")
    assert isinstance(run_id, str) and run_id, (
        f"an idempotent replay must name the original run: expected a run_id, got {body!r}"
    )
    return run_id


def executions(target: Target, vm_id: str, path: str) -> int:
    out = run_command(target.spec, target.client, vm_id, f"cat {path} 2>/dev/null | wc -l")
    return int(out.text.strip())


@pytest.mark.rules("IDM-001")
def test_same_key_and_body_return_the_original_run(
    target: Target, vm: dict[str, Any], steps: StepLog
) -> None:
    key, tally = fresh_key(), fresh_tally("replay")
    first = run_id_of(target, post_run(target, vm["vm_id"], append_to(tally), key))
    steps.log(f"first request ran {first}; replay it with key {key}")
    again = run_id_of(target, post_run(target, vm["vm_id"], append_to(tally), key))
    assert again == first, f"expected the replay to return run {first}, got {again}"
    count = executions(target, vm["vm_id"], tally)
    assert count == 1, f"expected the command executed once, it ran {count} times"


@pytest.mark.rules("IDM-002")
def test_same_key_with_another_body_is_conflict(
    target: Target, vm: dict[str, Any], steps: StepLog
) -> None:
    key, tally, other = fresh_key(), fresh_tally("first"), fresh_tally("other")
    first = run_id_of(target, post_run(target, vm["vm_id"], append_to(tally), key))
    steps.log(f"reuse key {key} of run {first} for a different command")
    response = post_run(target, vm["vm_id"], append_to(other), key)
    expect_error(target.spec, response, "conflict")
    original = response.json().get("run_id")
    assert original in (None, first), (
        f"an extra run_id on the conflict must name the original run {first}, got {original!r}"
    )
    count = executions(target, vm["vm_id"], other)
    assert count == 0, f"the refused request must execute nothing; it ran {count} times"


@pytest.mark.rules("IDM-003")
def test_concurrent_duplicates_execute_once(
    target: Target, vm: dict[str, Any], steps: StepLog
) -> None:
    key, tally, barrier = fresh_key(), fresh_tally("burst"), threading.Barrier(CONCURRENT)

    def send(_: int) -> httpx.Response:
        barrier.wait(timeout=30)
        return post_run(target, vm["vm_id"], append_to(tally), key)

    steps.log(f"send {CONCURRENT} identical requests with key {key} at once")
    with ThreadPoolExecutor(CONCURRENT) as pool:
        responses = list(pool.map(send, range(CONCURRENT)))
    run_ids = {run_id_of(target, response) for response in responses}
    assert len(run_ids) == 1, f"expected every answer to name one run, got {sorted(run_ids)}"
    count = executions(target, vm["vm_id"], tally)
    assert count == 1, f"expected one execution for {CONCURRENT} duplicates, counted {count}"


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("", id="empty"),
        pytest.param("k" * 65, id="65-chars"),
        pytest.param("tab\tinside", id="non-printable"),
    ],
)
@pytest.mark.rules("IDM-004")
def test_unusual_key_is_refused_or_runs_once(target: Target, vm: dict[str, Any], key: str) -> None:
    # 0.5.1 bounds the key nowhere (1-64 printable ASCII is a later contract's): such a key
    # may be refused with 400 bad_request, then nothing runs, or accepted, then the command
    # runs exactly once.
    marker = fresh_tally("bad-key")
    response = post_run(target, vm["vm_id"], append_to(marker), key)
    if response.status_code == 400:
        expect_error(target.spec, response, "bad_request")
        expected = 0
    else:
        expect_ok(target.spec, "createRun", response, capability="runs.idempotency")
        expected = 1
    count = executions(target, vm["vm_id"], marker)
    assert count == expected, (
        f"Idempotency-Key {key!r} answered {response.status_code}: expected the command to run "
        f"{expected} time(s), it ran {count}"
    )
