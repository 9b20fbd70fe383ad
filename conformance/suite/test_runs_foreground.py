"""Foreground runs: exit codes, stdout/stderr, encodings, isolation and timeouts.

0.5.1's ``CompletedRunResponse``: a foreground run blocks until the command
ends and answers 200 with the exit code and the encoded output; a non-zero exit is still
``completed``; valid UTF-8 comes back as ``utf-8``, arbitrary bytes as ``base64``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest

from conformance.checks import expect_ok
from conformance.suite._forks import fork_for_test
from conformance.suite._shell import decode_output, run_command, runs_path

if TYPE_CHECKING:
    from conformance.target import Target

pytestmark = [pytest.mark.capability("runs.foreground"), pytest.mark.shares_vm]

# A run's own `timeout` is the one time 0.5.1 states here: `timeout: 1` on a 20 s sleep must
# answer before the sleep could have ended by itself (an answer later than that cannot tell
# a killed run from a finished one). 20 s stays under the client's per-request timeout, so
# a backend that ignores `timeout` fails here instead of erroring on a transport timeout.
RUN_TIMEOUT = 1
SLEEP_SECONDS = 20


def run(target: Target, vm_id: str, command: str, **fields: Any) -> dict[str, Any]:
    """POST a foreground run and return the schema-checked body."""
    response = target.client.request("POST", runs_path(vm_id), json={"command": command, **fields})
    body: dict[str, Any] = expect_ok(
        target.spec, "createRun", response, capability="runs.foreground"
    )
    return body


@pytest.mark.parametrize("code", [0, 3, 255])
@pytest.mark.rules("RUN-001")
def test_exit_code_is_reported_and_run_is_completed(
    target: Target, vm: dict[str, Any], code: int
) -> None:
    body = run(target, vm["vm_id"], f"exit {code}")
    assert body["exit_code"] == code, (
        f"`exit {code}`: expected exit_code {code}, got {body['exit_code']!r}"
    )
    # A non-zero exit is still the program's verdict, not a platform failure (RunState).
    state = body.get("state", "completed")
    assert state == "completed", f"`exit {code}`: expected state 'completed', got {state!r}"
    if "run_id" in body:
        assert isinstance(body["run_id"], str) and body["run_id"], (
            f"expected run_id to be a non-empty string when present, got {body['run_id']!r}"
        )


@pytest.mark.rules("RUN-002")
def test_stdout_and_stderr_are_kept_apart(target: Target, vm: dict[str, Any]) -> None:
    body = run(target, vm["vm_id"], "printf to-out; printf to-err >&2")
    stdout, stderr = decode_output(body, "stdout"), decode_output(body, "stderr")
    assert (stdout, stderr) == (b"to-out", b"to-err"), (
        f"expected stdout b'to-out' and stderr b'to-err', got stdout {stdout!r}, stderr {stderr!r}"
    )


@pytest.mark.rules("RUN-003")
def test_utf8_output_round_trips(target: Target, vm: dict[str, Any]) -> None:
    text = "héllo ✓ 日本語 🚀"
    body = run(target, vm["vm_id"], f"printf '%s' '{text}'")
    assert body["stdout_encoding"] in ("utf-8", "base64"), (
        f"expected stdout_encoding 'utf-8' (or 'base64'), got {body['stdout_encoding']!r}"
    )
    got = decode_output(body, "stdout")
    assert got == text.encode(), f"expected stdout {text.encode()!r}, got {got!r}"


@pytest.mark.rules("RUN-004")
def test_non_utf8_bytes_come_back_base64_encoded(target: Target, vm: dict[str, Any]) -> None:
    expected = b"\xff\xfe\x00\x01raw\x80"
    body = run(target, vm["vm_id"], r"printf '\377\376\000\001raw\200'")
    assert body["stdout_encoding"] == "base64", (
        f"bytes that are not UTF-8 must come back as base64; got stdout_encoding "
        f"{body['stdout_encoding']!r} with stdout {body['stdout']!r}"
    )
    got = decode_output(body, "stdout")
    assert got == expected, f"expected decoded stdout {expected!r}, got {got!r}"


@pytest.mark.rules("RUN-005")
def test_large_multiline_output_is_intact(target: Target, vm: dict[str, Any]) -> None:
    # About 110 KB over 20000 lines: no truncation, no reordering, no lost newlines.
    expected = "".join(f"{n}\n" for n in range(1, 20001)).encode()
    result = run_command(target.spec, target.client, vm["vm_id"], "seq 1 20000")
    assert result.stdout == expected, (
        f"expected {len(expected)} bytes of `seq 1 20000`, got {len(result.stdout)} bytes "
        f"ending {result.stdout[-40:]!r}"
    )


@pytest.mark.rules("RUN-006")
def test_environment_of_one_vm_does_not_reach_another(
    target: Target, request: pytest.FixtureRequest, vm: dict[str, Any]
) -> None:
    other = fork_for_test(target, request)
    run_command(target.spec, target.client, vm["vm_id"], "export CONF_ISOLATION=first-vm-only")
    seen = run_command(
        target.spec, target.client, other["vm_id"], "printenv CONF_ISOLATION || echo unset"
    ).text.strip()
    assert seen == "unset", f"expected CONF_ISOLATION unset in the second VM, got {seen!r}"


@pytest.mark.capability("runs.timeout")
@pytest.mark.rules("RUN-007")
def test_timeout_ends_a_long_command_early(target: Target, vm: dict[str, Any]) -> None:
    """Accepted outcomes: the run answers before the command could end by itself and is
    not reported as a clean success — either ``state`` failed/cancelled, or a non-zero (or
    -1) ``exit_code`` such as 124/137/143."""
    started = time.monotonic()
    body = run(target, vm["vm_id"], f"sleep {SLEEP_SECONDS}", timeout=RUN_TIMEOUT)
    elapsed = time.monotonic() - started
    assert elapsed < SLEEP_SECONDS, (
        f"timeout: {RUN_TIMEOUT} on `sleep {SLEEP_SECONDS}`: the answer came after "
        f"{elapsed:.1f}s, when the command could have ended by itself; the run's own "
        f"timeout ({RUN_TIMEOUT}s) was not applied"
    )
    clean = body.get("state", "completed") == "completed" and body["exit_code"] == 0
    assert not clean, (
        f"timeout: {RUN_TIMEOUT} on a {SLEEP_SECONDS} s sleep: expected the run to be reported "
        "as killed (failed/cancelled state or a non-zero exit code), got state "
        f"{body.get('state')!r}, exit_code {body['exit_code']!r}"
    )
