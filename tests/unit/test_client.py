"""ArkerClient against a real HTTP server on 127.0.0.1: recording, auth, curl, retry, errors."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conformance.client import ArkerClient, ExchangeLog, RetryPolicy, exchange_of
from conformance.errors import HarnessError, TargetUnreachable
from conformance.spec import Spec

from .data.scripted_server import Answer, ScriptedServer, scripted_server

KEY = "sk-test-0123456789abcdef"
MINI = Path(__file__).parent / "data" / "mini.openapi.yaml"


@pytest.fixture
def client(server: ScriptedServer, waits: list[float]) -> Iterator[ArkerClient]:
    with ArkerClient(server.url, api_key=KEY, spec=Spec.load(MINI), sleep=waits.append) as made:
        yield made


def test_exchange_is_recorded_and_stashed_on_the_response(
    client: ArkerClient, server: ScriptedServer
) -> None:
    server.script["/v1/vms/vm_1/runs"] = [Answer.json(200, {"exit_code": 0})]
    response = client.request("POST", "/v1/vms/vm_1/runs", json={"command": "true"})
    exchange = exchange_of(response)
    assert exchange is not None and client.log.exchanges == [exchange]
    assert (exchange.method, exchange.url) == ("POST", f"{server.url}/v1/vms/vm_1/runs")
    assert exchange.operation_id == "createRun"
    assert exchange.request_body == '{"command": "true"}'
    assert (exchange.status, exchange.response_body) == (200, '{"exit_code": 0}')
    assert exchange.response_headers["content-type"] == "application/json"
    assert exchange.elapsed_s > 0


def test_json_body_is_sent_with_content_type_and_bodiless_calls_have_none(
    client: ArkerClient, server: ScriptedServer
) -> None:
    client.request("POST", "/v1/fork", json={"source_vm_name": "ubuntu"})
    client.request("GET", "/v1/vms/vm_1")
    client.request("DELETE", "/v1/vms/vm_1")
    post, get, delete = server.seen
    assert post.headers["content-type"] == "application/json"
    assert post.body == b'{"source_vm_name": "ubuntu"}'
    for bodiless in (get, delete):
        assert "content-type" not in bodiless.headers
        assert bodiless.body == b""


def test_auth_header_present_absent_and_overridden(
    client: ArkerClient, server: ScriptedServer
) -> None:
    client.request("GET", "/v1/vms")
    client.request("GET", "/v1/vms", auth=False)
    client.request("GET", "/v1/vms", api_key="sk-wrong-key-for-401")
    default, anonymous, overridden = server.seen
    assert default.headers["authorization"] == f"Bearer {KEY}"
    assert "authorization" not in anonymous.headers
    assert overridden.headers["authorization"] == "Bearer sk-wrong-key-for-401"


def test_query_params_drop_none_and_control_url_is_used_on_request(waits: list[float]) -> None:
    with scripted_server() as compute, scripted_server() as control:
        with ArkerClient(compute.url, api_key=KEY, control_url=control.url) as both:
            both.request("GET", "/v1/vms", params={"limit": 2, "cursor": None}, control=True)
            both.request("GET", "/v1/vms/vm_1")
        assert [seen.path for seen in control.seen] == ["/v1/vms?limit=2"]
        assert [seen.path for seen in compute.seen] == ["/v1/vms/vm_1"]


def test_curl_line_reads_the_key_from_the_environment_and_reproduces_the_request(
    client: ArkerClient, server: ScriptedServer
) -> None:
    response = client.request(
        "POST",
        "/v1/vms/vm_1/runs",
        json={"command": "echo 'hi'"},
        headers={"Idempotency-Key": "k1"},
    )
    line = exchange_of(response).curl()  # type: ignore[union-attr]
    assert '-H "Authorization: Bearer $ARKER_API_KEY"' in line
    assert KEY not in line
    env = {**os.environ, "ARKER_API_KEY": KEY}
    subprocess.run(["sh", "-c", line + " -s -o /dev/null"], check=True, env=env, timeout=30)
    original, replayed = server.seen
    assert replayed.method == original.method and replayed.path == original.path
    assert replayed.body == original.body
    for name in ("authorization", "content-type", "idempotency-key"):
        assert replayed.headers[name] == original.headers[name]


def test_curl_line_of_a_one_off_key_shows_only_the_mask(client: ArkerClient) -> None:
    response = client.request("GET", "/v1/vms", api_key="sk-wrong-key-for-401")
    line = exchange_of(response).curl()  # type: ignore[union-attr]
    assert "'authorization: Bearer ***'" in line and "sk-wrong" not in line


def test_retry_after_on_429_is_honoured_then_the_answer_returned(
    client: ArkerClient, server: ScriptedServer, waits: list[float]
) -> None:
    server.script["/v1/vms"] = [
        Answer.json(429, {}, retry_after="2"),
        Answer.json(200, {"vms": []}),
    ]
    response = client.request("GET", "/v1/vms")
    assert response.status_code == 200
    assert waits == [2.0]
    assert [e.status for e in client.log.exchanges] == [429, 200]


def test_retry_is_bounded_by_max_attempts(server: ScriptedServer, waits: list[float]) -> None:
    server.script["/v1/vms"] = [Answer.json(429, {}, retry_after="1")]
    policy = RetryPolicy(max_attempts=3)
    with ArkerClient(server.url, api_key=KEY, retry=policy, sleep=waits.append) as limited:
        assert limited.request("GET", "/v1/vms").status_code == 429
    assert len(server.seen) == 3 and waits == [1.0, 1.0]


@pytest.mark.parametrize(
    "answer",
    [
        Answer.json(429, {}, retry_after="31"),  # longer than max_wait_s: give it back
        Answer.json(500, {}, retry_after="1"),  # only 429 and 502/503/504 are retried
    ],
)
def test_answers_that_are_not_retried(
    client: ArkerClient, server: ScriptedServer, waits: list[float], answer: Answer
) -> None:
    server.script["/v1/vms"] = [answer, Answer.json(200, {})]
    assert client.request("GET", "/v1/vms").status_code == answer.status
    assert waits == [] and len(server.seen) == 1


def test_503_with_retry_after_http_date_is_retried(
    client: ArkerClient, server: ScriptedServer, waits: list[float]
) -> None:
    past = "Wed, 21 Oct 2015 07:28:00 GMT"
    server.script["/v1/vms"] = [Answer.json(503, {}, retry_after=past), Answer.json(200, {})]
    assert client.request("GET", "/v1/vms").status_code == 200
    assert waits == [0.0]


def test_closed_port_raises_target_unreachable_with_a_redacted_url() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/_presigned/t?expires=1&signature=deadbeef"
    with (
        ArkerClient(f"http://127.0.0.1:{port}", api_key=KEY) as dead,
        pytest.raises(TargetUnreachable) as caught,
    ):
        dead.request("GET", url, auth=False)
    assert isinstance(caught.value, HarnessError)
    assert caught.value.url == f"http://127.0.0.1:{port}/_presigned/t?expires=1&signature=***"
    assert "deadbeef" not in str(caught.value)


def test_long_bodies_are_truncated_in_the_record_saying_how_much(
    client: ArkerClient, server: ScriptedServer
) -> None:
    server.script["/v1/vms"] = [Answer(200, b"x" * 10_000)]
    response = client.request("GET", "/v1/vms", json={"pad": "y" * 5000})
    exchange = exchange_of(response)
    assert exchange is not None and len(response.content) == 10_000
    kept = "... [truncated: 10000 bytes in all, first 4096 characters kept]"
    assert exchange.response_body == "x" * 4096 + kept
    assert exchange.request_body is not None and exchange.request_body.endswith("characters kept]")
    assert exchange.curl().endswith("# not exact: the request body was truncated in the record")


def test_rate_limit_waits_for_tokens_without_spinning(server: ScriptedServer) -> None:
    now = [100.0]
    waits: list[float] = []
    with ArkerClient(server.url, rate=2.0, sleep=waits.append, clock=lambda: now[0]) as slow:
        for _ in range(4):
            slow.request("GET", "/v1/vms")
    assert waits == [0.5, 1.0]  # burst of 2, then one token each half second (reserved)


def test_concurrent_requests_from_threads_are_all_recorded(
    client: ArkerClient, server: ScriptedServer
) -> None:
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def send(n: int) -> None:
        barrier.wait(timeout=30)
        statuses.append(client.request("GET", f"/v1/vms/vm_{n}").status_code)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [200] * 8
    urls = sorted(e.url for e in client.log.exchanges)
    assert urls == sorted(f"{server.url}/v1/vms/vm_{n}" for n in range(8))


def test_log_mark_and_since_select_later_exchanges(client: ArkerClient) -> None:
    client.request("GET", "/v1/vms")
    mark = client.log.mark()
    client.request("GET", "/v1/vms/vm_1")
    assert [e.operation_id for e in client.log.since(mark)] == ["getVm"]


def test_shared_recorder_and_closed_client(server: ScriptedServer) -> None:
    shared = ExchangeLog()
    client = ArkerClient(server.url, api_key=KEY, recorder=shared)
    client.request("GET", "/v1/vms")
    client.close()
    assert len(shared.exchanges) == 1
    with pytest.raises(RuntimeError):
        client.request("GET", "/v1/vms")


def test_json_and_content_are_exclusive(client: ArkerClient) -> None:
    with pytest.raises(ValueError, match="not both"):
        client.request("PUT", "/x", json={}, content=b"raw")


def test_raw_content_is_sent_as_is_without_auth(
    client: ArkerClient, server: ScriptedServer
) -> None:
    client.request(
        "PUT", f"{server.url}/_presigned/p.1?signature=abc", content=b"\xfe\xff", auth=False
    )
    (put,) = server.seen
    assert put.body == b"\xfe\xff" and "authorization" not in put.headers
    assert client.log.exchanges[0].request_body == "\\xfe\\xff"
    assert client.log.exchanges[0].curl().endswith("was binary (shown backslash-escaped)")
    assert client.log.exchanges[0].url.endswith("signature=***")


def test_response_extensions_survive_httpx(client: ArkerClient) -> None:
    response = client.request("GET", "/v1/vms")
    assert isinstance(response, httpx.Response) and exchange_of(response) is not None
    assert exchange_of(httpx.Response(200)) is None


def test_an_explicit_authorization_header_is_sent_as_given(
    client: ArkerClient, server: ScriptedServer
) -> None:
    response = client.request("GET", "/v1/vms", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    (seen,) = server.seen
    assert seen.headers["authorization"] == "Basic dXNlcjpwYXNz"
    assert "$ARKER_API_KEY" not in exchange_of(response).curl()  # type: ignore[union-attr]
