"""Sessions: persistent shells that keep cwd and env between runs.

``Session``, ``CreateSessionRequest``: a session is created with optional ``env`` and ``cwd``;
a ``cd`` or ``export`` in one run holds in the next run of that session and nowhere else;
runs naming no session share the default session; a deleted session takes no more runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest

from conformance.checks import expect_error, expect_ok
from conformance.suite._listing import list_all
from conformance.suite._shell import decode_output, runs_path, vm_path

if TYPE_CHECKING:
    from conformance.steps import StepLog
    from conformance.target import Target

pytestmark = [pytest.mark.capability("sessions"), pytest.mark.shares_vm]

WORKDIR = "/tmp/conf-session-dir"


def sessions_path(vm_id: str, session_id: str | None = None) -> str:
    base = f"{vm_path(vm_id)}/sessions"
    return base if session_id is None else f"{base}/{quote(session_id, safe='')}"


def create_session(target: Target, vm_id: str, **fields: Any) -> dict[str, Any]:
    response = target.client.request("POST", sessions_path(vm_id), json=fields)
    body: dict[str, Any] = expect_ok(target.spec, "createSession", response, capability="sessions")
    return body


def get_session(target: Target, vm_id: str, session_id: str) -> dict[str, Any]:
    response = target.client.request("GET", sessions_path(vm_id, session_id))
    body: dict[str, Any] = expect_ok(target.spec, "getSession", response, capability="sessions")
    return body


def sh(target: Target, vm_id: str, command: str, session_id: str | None = None) -> str:
    """Run ``command`` (in ``session_id``, or the default session) and return its stdout."""
    payload: dict[str, Any] = {"command": command}
    if session_id is not None:
        payload["session_id"] = session_id
    response = target.client.request("POST", runs_path(vm_id), json=payload)
    body = expect_ok(target.spec, "createRun", response, capability="sessions")
    assert body["exit_code"] == 0, (
        f"{command!r}: expected exit code 0, got {body['exit_code']}; "
        f"stderr {decode_output(body, 'stderr')[:300]!r}"
    )
    return decode_output(body, "stdout").decode("utf-8", errors="replace").strip()


@pytest.mark.rules("SES-001")
def test_created_session_starts_with_its_env_and_cwd(target: Target, vm: dict[str, Any]) -> None:
    sh(target, vm["vm_id"], f"mkdir -p {WORKDIR}")
    session = create_session(target, vm["vm_id"], env={"CONF_GREETING": "hello"}, cwd=WORKDIR)
    sid = session["session_id"]
    # A later contract lets cwd read "" before the first run; else it must be the requested one.
    assert session["cwd"] in (WORKDIR, ""), (
        f"expected the new session's cwd {WORKDIR!r}, got {session['cwd']!r}"
    )
    if session.get("env") is not None:
        assert session["env"].get("CONF_GREETING") == "hello", (
            f"expected the session's env to carry CONF_GREETING=hello, got {session['env']!r}"
        )
    seen = sh(target, vm["vm_id"], 'pwd; echo "$CONF_GREETING"', sid)
    assert seen == f"{WORKDIR}\nhello", (
        f"expected cwd {WORKDIR!r} and CONF_GREETING 'hello' in the session, got {seen!r}"
    )
    assert get_session(target, vm["vm_id"], sid)["cwd"] == WORKDIR, (
        f"expected GET session to report cwd {WORKDIR!r} after a run"
    )


@pytest.mark.rules("SES-002")
def test_cwd_and_env_persist_across_runs(
    target: Target, vm: dict[str, Any], steps: StepLog
) -> None:
    session = create_session(target, vm["vm_id"])
    sid = session["session_id"]
    steps.log(f"in session {sid}: cd {WORKDIR} and export CONF_KEPT")
    sh(target, vm["vm_id"], f"mkdir -p {WORKDIR} && cd {WORKDIR} && export CONF_KEPT=kept", sid)
    seen = sh(target, vm["vm_id"], 'pwd; echo "${CONF_KEPT:-unset}"', sid)
    assert seen == f"{WORKDIR}\nkept", (
        f"expected {WORKDIR!r} and 'kept' in the next run, got {seen!r}"
    )
    got = get_session(target, vm["vm_id"], sid)
    assert got["cwd"] == WORKDIR, (
        f"expected GET session to report cwd {WORKDIR!r}, got {got['cwd']!r}"
    )


@pytest.mark.rules("SES-003")
def test_sessions_are_independent(target: Target, vm: dict[str, Any], steps: StepLog) -> None:
    first = create_session(target, vm["vm_id"])["session_id"]
    second = create_session(target, vm["vm_id"], cwd="/")["session_id"]
    steps.log(f"cd and export in {first}; read in {second}")
    sh(target, vm["vm_id"], f"mkdir -p {WORKDIR} && cd {WORKDIR} && export CONF_MINE=first", first)
    seen = sh(target, vm["vm_id"], 'pwd; echo "${CONF_MINE:-unset}"', second)
    assert seen == "/\nunset", f"expected the second session untouched ('/', 'unset'), got {seen!r}"


@pytest.mark.rules("SES-004")
def test_get_and_list_show_the_sessions(target: Target, vm: dict[str, Any]) -> None:
    created = [create_session(target, vm["vm_id"])["session_id"] for _ in range(2)]
    for sid in created:
        got = get_session(target, vm["vm_id"], sid)
        assert got["session_id"] == sid, f"GET session {sid}: got session_id {got['session_id']!r}"
    listed = {
        s["session_id"]
        for s in list_all(
            target.spec,
            target.client,
            "listSessions",
            sessions_path(vm["vm_id"]),
            "sessions",
            capability="sessions",
        )
    }
    missing = sorted(set(created) - listed)
    assert not missing, f"expected both sessions listed, missing {missing}; listed {sorted(listed)}"


@pytest.mark.rules("SES-005")
def test_deleted_session_takes_no_more_runs(
    target: Target, vm: dict[str, Any], steps: StepLog
) -> None:
    sid = create_session(target, vm["vm_id"])["session_id"]
    steps.log(f"delete session {sid}")
    response = target.client.request("DELETE", sessions_path(vm["vm_id"], sid))
    body = expect_ok(target.spec, "deleteSession", response, capability="sessions")
    assert body["deleted"] is True, f"expected {{deleted: true}}, got {body!r}"
    run = target.client.request(
        "POST", runs_path(vm["vm_id"]), json={"command": "true", "session_id": sid}
    )
    expect_error(target.spec, run, "not_found")


@pytest.mark.rules("SES-006")
def test_runs_naming_no_session_share_the_default_session(
    target: Target, vm: dict[str, Any]
) -> None:
    sh(target, vm["vm_id"], f"mkdir -p {WORKDIR} && cd {WORKDIR} && export CONF_SHARED=shared")
    seen = sh(target, vm["vm_id"], 'pwd; echo "${CONF_SHARED:-unset}"')
    assert seen == f"{WORKDIR}\nshared", (
        f"expected the default session to keep {WORKDIR!r} and 'shared', got {seen!r}"
    )
