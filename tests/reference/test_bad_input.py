"""Bad input gets the right flat error, never a 500."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from conformance.reference.launcher import ReferenceServer

STATUS = {"bad_request": 400, "unauthorized": 401, "not_found": 404, "payload_too_large": 413}


def expect_error(response: httpx.Response, code: str) -> None:
    """The response is the flat ``{code, message}`` envelope with the contract's status."""
    body = response.json()
    assert (response.status_code, body.get("code")) == (STATUS[code], code), body
    assert isinstance(body.get("message"), str) and "error" not in body


@pytest.fixture
def vm_id(http_a: httpx.Client) -> Iterator[str]:
    response = http_a.post(
        "/v1/fork", json={"source_vm_name": "ubuntu", "source_org_id": "ArkerHQ"}
    )
    vm_id: str = response.json()["vm_id"]
    yield vm_id
    http_a.delete(f"/v1/vms/{vm_id}")


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"{not json", "malformed"),
        (b"[1, 2]", "not an object"),
        (b'"x"', "a string"),
        (b"\xff\xfe", "not utf-8"),
    ],
)
def test_malformed_bodies_are_bad_requests(
    http_a: httpx.Client, vm_id: str, content: bytes, why: str
) -> None:
    for path in (
        "/v1/fork",
        f"/v1/vms/{vm_id}/runs",
        f"/v1/vms/{vm_id}/sessions",
        f"/v1/vms/{vm_id}/resize",
    ):
        expect_error(http_a.post(path, content=content), "bad_request")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"command": 1},
        {"command": "true", "background": "yes"},
        {"command": "true", "timeout": "soon"},
        {"command": "true", "signal": "SIGFOO"},
        {"command": "true", "session_idx": -1},
        {"command": "true", "acquire": "gpu"},
        {"command": "true", "vcpu_count": 0},
        {"command": "true", "network": {"inbound": {"ports": {"http": {}}}}},
    ],
)
def test_wrong_run_fields_are_bad_requests(
    http_a: httpx.Client, vm_id: str, body: dict[str, object]
) -> None:
    expect_error(http_a.post(f"/v1/vms/{vm_id}/runs", json=body), "bad_request")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"source_vm_name": "ubuntu", "source_vm_id": "vm_x"},
        {"source_vm_name": 3},
        {"source_vm_name": "ubuntu", "source_org_id": "ArkerHQ", "vcpu_count": -1},
        {"source_vm_name": "ubuntu", "source_org_id": "ArkerHQ", "memory_mib": "big"},
        {"source_vm_name": "ubuntu", "source_org_id": "ArkerHQ", "network": "sometimes"},
        {
            "source_vm_name": "ubuntu",
            "source_org_id": "ArkerHQ",
            "network": {"type": "allow", "allow": ["not a host!"]},
        },
        {"source_vm_name": "ubuntu", "source_org_id": "ArkerHQ", "public": "yes"},
    ],
)
def test_wrong_fork_fields_are_bad_requests(http_a: httpx.Client, body: dict[str, object]) -> None:
    expect_error(http_a.post("/v1/fork", json=body), "bad_request")


def test_nulls_are_accepted_like_absent_fields(http_a: httpx.Client) -> None:
    body = {
        "source_vm_id": None,
        "source_vm_name": "ubuntu",
        "source_org_id": "ArkerHQ",
        "name": None,
        "public": None,
        "network": None,
        "disk": True,
        "vcpu_count": None,
        "memory_mib": None,
        "max_memory_mib": None,
        "disk_mib": None,
        "durable": None,
    }
    response = http_a.post("/v1/fork", json=body)
    assert response.status_code == 200, response.text
    http_a.delete(f"/v1/vms/{response.json()['vm_id']}")


def test_unknown_ids_are_not_found(http_a: httpx.Client, vm_id: str) -> None:
    for path in (
        "/v1/vms/vm_nope",
        f"/v1/vms/{vm_id}/runs/run_nope",
        f"/v1/vms/{vm_id}/sessions/ses_nope",
        "/v1/vms/vm_nope/runs",
    ):
        expect_error(http_a.get(path), "not_found")
    expect_error(http_a.post("/v1/fork", json={"source_vm_id": "vm_nope"}), "not_found")
    expect_error(http_a.post("/v1/fork", json={"source_vm_name": "nope"}), "not_found")
    expect_error(
        http_a.post(f"/v1/vms/{vm_id}/runs", json={"command": "true", "session_id": "ses_nope"}),
        "not_found",
    )
    expect_error(http_a.get("/v1/no/such/route"), "not_found")


@pytest.mark.parametrize("cursor", ["garbage", "eyJhZnRlciI6MX0.AAAA", "", "a.b.c"])
def test_bad_cursors_and_limits_are_bad_requests(
    http_a: httpx.Client, vm_id: str, cursor: str
) -> None:
    if cursor:
        expect_error(http_a.get("/v1/vms", params={"cursor": cursor}), "bad_request")
        expect_error(http_a.get(f"/v1/vms/{vm_id}/runs", params={"cursor": cursor}), "bad_request")
    for limit in ("0", "1001", "ten", "-1"):
        expect_error(http_a.get("/v1/vms", params={"limit": limit}), "bad_request")


def test_cursor_of_another_list_is_refused(http_a: httpx.Client, vm_id: str) -> None:
    for _ in range(2):
        http_a.post(f"/v1/vms/{vm_id}/runs", json={"command": "true"})
    cursor = http_a.get(f"/v1/vms/{vm_id}/runs", params={"limit": 1}).json()["next_cursor"]
    assert cursor
    expect_error(http_a.get("/v1/vms", params={"cursor": cursor}), "bad_request")


def test_unknown_enum_values_are_bad_requests(http_a: httpx.Client, vm_id: str) -> None:
    expect_error(http_a.get("/v1/vms", params={"state": "sleeping"}), "bad_request")
    expect_error(http_a.get("/v1/vms", params={"provider": "gcp"}), "bad_request")
    expect_error(http_a.get(f"/v1/vms/{vm_id}/runs", params={"state": "done"}), "bad_request")
    expect_error(
        http_a.get(f"/v1/vms/{vm_id}/runs", params={"started_after": "yesterday"}), "bad_request"
    )
    expect_error(http_a.get(f"/v1/vms/{vm_id}/sessions", params={"state": "x"}), "bad_request")


def test_oversize_run_body_is_payload_too_large(http_a: httpx.Client, vm_id: str) -> None:
    big = {"command": "true", "pad": "x" * (4 * 1024 * 1024 + 1)}
    expect_error(http_a.post(f"/v1/vms/{vm_id}/runs", json=big), "payload_too_large")


def test_bad_idempotency_keys_are_bad_requests(http_a: httpx.Client, vm_id: str) -> None:
    for key in (b"x" * 65, b"tab\there", "é".encode()):
        response = http_a.post(
            f"/v1/vms/{vm_id}/runs", json={"command": "true"}, headers={b"Idempotency-Key": key}
        )
        expect_error(response, "bad_request")


def test_missing_or_wrong_key_is_unauthorized_with_a_challenge(server: ReferenceServer) -> None:
    with httpx.Client(base_url=server.base_url) as anon:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}):
            response = anon.get("/v1/vms", headers=headers)
            expect_error(response, "unauthorized")
            assert response.headers["www-authenticate"].startswith("Bearer")
        assert anon.get("/").status_code == 200
