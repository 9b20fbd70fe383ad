"""The host finds a run's command group under its wrapper, and nothing outside it."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator

import pytest

from conformance.reference.sandbox.proctree import command_group, group_alive, killpg

from .conftest import poll

# a wrapper that starts its command as a job in a group of its own, like run.sh
WRAPPER = "set -m; sleep 30 & echo $!; wait $!"


@pytest.fixture
def wrapper() -> Iterator[subprocess.Popen[str]]:
    with subprocess.Popen(
        ["/bin/bash", "-c", WRAPPER], stdout=subprocess.PIPE, text=True, start_new_session=True
    ) as proc:
        yield proc
        killpg(proc.pid, signal.SIGKILL)


def test_command_group_is_the_jobs_group_not_the_wrappers(
    wrapper: subprocess.Popen[str],
) -> None:
    assert wrapper.stdout is not None
    job = int(wrapper.stdout.readline())
    poll(lambda: command_group(wrapper.pid), lambda g: g == job, "the job's own group")
    assert os.getpgid(job) == job != wrapper.pid
    group = job
    killpg(group, signal.SIGTERM)
    assert wrapper.wait(timeout=30) == 128 + signal.SIGTERM  # the wrapper saw its job die
    assert not group_alive(group)


def test_no_command_group_under_a_process_without_one() -> None:
    with subprocess.Popen(["/bin/sleep", "30"], start_new_session=True) as lone:
        try:
            assert command_group(lone.pid) is None and group_alive(lone.pid)
        finally:
            lone.kill()
