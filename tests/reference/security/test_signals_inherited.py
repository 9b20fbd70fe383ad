"""A run starts with default signal dispositions and an empty signal mask.

A server started under ``nohup`` (SIGHUP ignored) or by a parent that blocks a signal
would otherwise hand both to every run: a ``signal: SIGHUP`` then does nothing, and a
blocked signal never arrives. The server itself keeps what it was given.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from arker import Arker

from conformance.reference.launcher import ReferenceServer

from ..conftest import poll

KEY = "signals-key"
_CLEAN = b"SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n"


@pytest.fixture
def nohup_server(tmp_path: Path) -> Iterator[ReferenceServer]:
    """A server started the way ``nohup`` starts it, plus SIGUSR2 blocked by its parent."""
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2})
    try:
        server = ReferenceServer(tmp_path / "data", api_keys={KEY: "org"}).start()
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR2})
        signal.signal(signal.SIGHUP, previous)
    try:
        yield server
    finally:
        server.stop()


def test_a_run_of_a_server_started_under_nohup_has_default_dispositions(
    nohup_server: ReferenceServer,
) -> None:
    assert nohup_server.proc is not None
    # what nohup is for: the server itself still shrugs off a hangup
    os.kill(nohup_server.proc.pid, signal.SIGHUP)
    arker = Arker(api_key=KEY, base_url=nohup_server.base_url, retry=False)
    vm = arker.fork("ubuntu")
    try:
        seen = vm.run("grep -E '^Sig(Blk|Ign):' /proc/self/status").stdout
    finally:
        vm.delete()
    assert seen == _CLEAN, f"a run's process inherited the server's signal state: {seen!r}"


def test_a_sighup_to_the_session_ends_a_run_of_a_server_started_under_nohup(
    nohup_server: ReferenceServer,
) -> None:
    arker = Arker(api_key=KEY, base_url=nohup_server.base_url, retry=False)
    vm = arker.fork("ubuntu")
    try:
        session = vm.create_session()
        started = vm.run(
            "touch /tmp/ready; sleep 30", session_id=session.session_id, background=True
        )
        assert started.run_id
        poll(
            lambda: vm.run("test -e /tmp/ready && echo up").stdout,
            lambda out: out == b"up\n",
            "the run has started",
        )
        vm.run("", signal="SIGHUP", session_id=session.session_id)
        ended = poll(
            lambda: vm.get_run(started.run_id),
            lambda run: run.state != "running",
            "the run ends after SIGHUP",
            deadline_s=10,
        )
    finally:
        vm.delete()
    assert (ended.state, ended.exit_code) == ("completed", 128 + signal.SIGHUP), ended
