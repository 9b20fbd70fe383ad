"""Transient answers are retried, within bounds, only where sending again acts once.

Against a real HTTP server on 127.0.0.1 that answers 502/503/504 before succeeding.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from conformance.client import ArkerClient, RetryPolicy, exchange_of
from conformance.plugin import results
from conformance.vocabulary import Outcome

from .data.scripted_server import Answer, ScriptedServer

KEY = "sk-test-0123456789abcdef"
UNAVAILABLE = Answer.json(503, {"code": "unavailable", "message": "try again"})
OK = Answer.json(200, {"vms": []})


@pytest.fixture
def client(server: ScriptedServer, waits: list[float]) -> Iterator[ArkerClient]:
    with ArkerClient(server.url, api_key=KEY, sleep=waits.append) as made:
        yield made


@pytest.mark.parametrize("status", [502, 503, 504])
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_a_transient_answer_without_retry_after_is_retried_and_marked(
    client: ArkerClient, server: ScriptedServer, waits: list[float], method: str, status: int
) -> None:
    server.script["/v1/vms/vm_1"] = [Answer.json(status, {}), OK]
    response = client.request(method, "/v1/vms/vm_1")
    assert response.status_code == 200 and len(server.seen) == 2
    assert waits == [0.5]  # the first exponential backoff step
    first, last = client.log.exchanges
    assert first.status == status and first.retry_note == f"answered {status}; retried after 0.50 s"
    assert (last.attempt, last.retry_note) == (2, None) and exchange_of(response) is last
    assert "retried: answered" in first.summary() and "(attempt 2)" in last.summary()


def test_retry_after_is_honoured_on_a_503(
    client: ArkerClient, server: ScriptedServer, waits: list[float]
) -> None:
    server.script["/v1/vms"] = [Answer.json(503, {}, retry_after="3"), OK]
    assert client.request("GET", "/v1/vms").status_code == 200
    assert waits == [3.0]


def test_backoff_doubles_and_the_attempts_are_bounded(
    client: ArkerClient, server: ScriptedServer, waits: list[float]
) -> None:
    server.script["/v1/vms"] = [UNAVAILABLE]
    assert client.request("GET", "/v1/vms").status_code == 503  # what the checks then judge
    assert waits == [0.5, 1.0, 2.0] and len(server.seen) == RetryPolicy().max_attempts
    assert [bool(e.retry_note) for e in client.log.exchanges] == [True, True, True, False]


def test_the_wait_budget_of_one_request_bounds_its_retries(
    server: ScriptedServer, waits: list[float]
) -> None:
    server.script["/v1/vms"] = [Answer.json(503, {}, retry_after="20")]
    policy = RetryPolicy(budget_s=30.0)
    with ArkerClient(server.url, api_key=KEY, retry=policy, sleep=waits.append) as limited:
        assert limited.request("GET", "/v1/vms").status_code == 503
    assert waits == [20.0] and len(server.seen) == 2


def test_a_post_that_creates_is_not_retried_without_an_idempotency_key(
    client: ArkerClient, server: ScriptedServer, waits: list[float]
) -> None:
    server.script["/v1/fork"] = [Answer.json(503, {}, retry_after="1"), OK]
    assert client.request("POST", "/v1/fork", json={"source_vm_name": "u"}).status_code == 503
    assert waits == [] and len(server.seen) == 1
    assert client.log.exchanges[0].retry_note is None


def test_a_post_with_an_idempotency_key_is_retried(
    client: ArkerClient, server: ScriptedServer, waits: list[float]
) -> None:
    server.script["/v1/vms/vm_1/runs"] = [Answer.json(502, {}), OK]
    response = client.request(
        "POST", "/v1/vms/vm_1/runs", json={"command": "true"}, headers={"Idempotency-Key": "k1"}
    )
    assert response.status_code == 200 and waits == [0.5] and len(server.seen) == 2
    assert server.seen[0].body == server.seen[1].body


def test_the_evidence_of_a_judged_answer_shows_the_retries_before_it(
    client: ArkerClient, server: ScriptedServer, tmp_path: Path
) -> None:
    server.script["/v1/vms"] = [UNAVAILABLE, UNAVAILABLE, Answer.json(500, {})]
    client.request("GET", "/v1/vms/other")  # unrelated, before
    response = client.request("GET", "/v1/vms")
    judged = exchange_of(response)
    exc = SimpleNamespace(exchanges=[judged])
    target = SimpleNamespace(log=client.log, settings=SimpleNamespace(run_dir=tmp_path))
    item = SimpleNamespace(stash={}, funcargs={}, nodeid="t.py::test_judged")
    report = SimpleNamespace(sections=[])
    found = results._evidence(item, report, exc, Outcome.FAIL, target)  # type: ignore[arg-type]
    assert [e["status"] for e in found.evidence] == [503, 503, 500]
    assert [bool(e["retry_note"]) for e in found.evidence] == [True, True, False]
