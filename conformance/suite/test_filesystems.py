"""Standalone filesystems: create, get, list with ``name_prefix``, delete (``Filesystem``).

Names are org-scoped and unique (a duplicate is 409 ``conflict``), must be non-empty, and
another org sees none of them.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest

from conformance.checks import expect_error, expect_ok
from conformance.suite._listing import list_all

if TYPE_CHECKING:
    import httpx

    from conformance.client import ArkerClient
    from conformance.spec import Spec
    from conformance.steps import StepLog
    from conformance.target import Target

pytestmark = pytest.mark.capability("filesystems")

_COLLECTION = "/v1/filesystems"


def filesystem_path(filesystem_id: str) -> str:
    """Return ``/v1/filesystems/{filesystem_id}`` with the id percent-encoded."""
    return f"{_COLLECTION}/{quote(filesystem_id, safe='')}"


def _delete_if_created(client: ArkerClient, response: httpx.Response) -> None:
    """Undo a create the backend should have refused, so a failing test leaks nothing."""
    if response.is_success and isinstance(response.json(), dict):
        created = response.json().get("filesystem_id")
        if isinstance(created, str):
            client.request("DELETE", filesystem_path(created))


def list_filesystem_names(spec: Spec, client: ArkerClient, name_prefix: str) -> list[str]:
    """Walk every page of ``GET /v1/filesystems?name_prefix=...`` and return the names."""
    filesystems = list_all(
        spec,
        client,
        "listFilesystems",
        _COLLECTION,
        "filesystems",
        capability="filesystems",
        params={"name_prefix": name_prefix},
    )
    return [fs["name"] for fs in filesystems]


@pytest.mark.rules("FS-001")
def test_created_filesystem_can_be_read_back_and_deleted(
    spec: Spec, client: ArkerClient, target: Target, steps: StepLog
) -> None:
    created = target.create_filesystem(f"fs-crud-{secrets.token_hex(3)}")
    fs_id = created["filesystem_id"]
    steps.log(f"GET {fs_id}")
    got = expect_ok(
        spec,
        "getFilesystem",
        client.request("GET", filesystem_path(fs_id)),
        capability="filesystems",
    )
    for field in ("filesystem_id", "name", "owner_org_id", "created_at"):
        assert got.get(field) == created.get(field), (
            f"getFilesystem {field}: expected {created.get(field)!r} (from create), got "
            f"{got.get(field)!r}"
        )
    steps.log(f"DELETE {fs_id}")
    deleted = expect_ok(
        spec,
        "deleteFilesystem",
        client.request("DELETE", filesystem_path(fs_id)),
        capability="filesystems",
    )
    assert deleted.get("deleted") is True, f"deleteFilesystem: expected deleted=true, got {deleted}"
    steps.log("GET after delete is 404 and the name is gone from the list")
    gone = client.request("GET", filesystem_path(fs_id))
    expect_error(spec, gone, "not_found", capability="filesystems")
    names = list_filesystem_names(spec, client, created["name"])
    assert created["name"] not in names, f"deleted filesystem still listed: {names}"


@pytest.mark.rules("FS-002")
def test_list_filters_by_name_prefix(spec: Spec, client: ArkerClient, target: Target) -> None:
    tag = secrets.token_hex(3)
    first, second = (target.create_filesystem(f"fs-list-{tag}-{n}")["name"] for n in (1, 2))
    run_prefix = f"{target.prefix}-"
    names = list_filesystem_names(spec, client, run_prefix)
    assert first in names and second in names, (
        f"name_prefix={run_prefix!r}: expected {first!r} and {second!r} among {sorted(names)}"
    )
    strays = [name for name in names if not name.startswith(run_prefix)]
    assert not strays, f"name_prefix={run_prefix!r} returned names without it: {strays}"
    exact = list_filesystem_names(spec, client, first)
    assert exact == [first], (
        f"name_prefix={first!r} (a whole name): expected exactly [{first!r}], got {exact} "
        f"({second!r} must be filtered out)"
    )


@pytest.mark.rules("FS-003")
def test_duplicate_name_is_a_conflict(spec: Spec, client: ArkerClient, target: Target) -> None:
    existing = target.create_filesystem(f"fs-dup-{secrets.token_hex(3)}")
    response = target.create_filesystem_raw(name=existing["name"])
    expect_error(spec, response, "conflict", capability="filesystems")


@pytest.mark.parametrize("body", [{}, {"name": 42}], ids=["missing", "int"])
@pytest.mark.rules("FS-004")
def test_invalid_name_is_a_bad_request(
    spec: Spec, client: ArkerClient, body: dict[str, Any]
) -> None:
    response = client.request("POST", _COLLECTION, json=body)
    _delete_if_created(client, response)
    expect_error(spec, response, "bad_request", capability="filesystems")


@pytest.mark.rules("FS-005")
def test_empty_name_is_refused_or_kept(spec: Spec, client: ArkerClient) -> None:
    # `name` is a required string in 0.5.1; a minimum length of 1 is a later contract's.
    response = client.request("POST", _COLLECTION, json={"name": ""})
    _delete_if_created(client, response)
    if response.status_code == 400:
        expect_error(spec, response, "bad_request", capability="filesystems")
        return
    created = expect_ok(spec, "createFilesystem", response, capability="filesystems")
    assert created.get("name") == "", f"created with name '': got name {created.get('name')!r}"


@pytest.mark.creates_nothing
@pytest.mark.parametrize("method", ["GET", "DELETE"])
@pytest.mark.rules("FS-006")
def test_unknown_filesystem_is_not_found(spec: Spec, client: ArkerClient, method: str) -> None:
    response = client.request(method, filesystem_path(f"fs-conf-missing-{secrets.token_hex(6)}"))
    expect_error(spec, response, "not_found", capability="filesystems")


# Judged as `tenancy`; it needs the family, so a profile without filesystems disables it
# and an unsupported_operation from a backend lacking them follows `filesystems`.
@pytest.mark.capability("tenancy")
@pytest.mark.requires("filesystems")
@pytest.mark.rules("TEN-006")
def test_other_org_cannot_see_or_delete_a_filesystem(
    spec: Spec, client: ArkerClient, other_client: ArkerClient, target: Target, steps: StepLog
) -> None:
    created = target.create_filesystem(f"fs-tenancy-{secrets.token_hex(3)}")
    path = filesystem_path(created["filesystem_id"])
    steps.log("org B: GET and DELETE org A's filesystem")
    for method in ("GET", "DELETE"):
        refused = other_client.request(method, path)
        # 403 forbidden or 404 not_found: the error table lists both for another org's resource
        expect_error(spec, refused, ("not_found", "forbidden"), capability="filesystems")
    steps.log("org B: list with org A's name as prefix")
    seen = list_filesystem_names(spec, other_client, created["name"])
    assert created["name"] not in seen, f"org B lists org A's filesystem: {seen}"
    steps.log("org A still has it")
    expect_ok(spec, "getFilesystem", client.request("GET", path), capability="filesystems")
