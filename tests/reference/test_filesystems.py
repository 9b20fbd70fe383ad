"""Filesystems (``/v1/filesystems``): org-scoped, unique names, cursors, flat errors."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator

import httpx
import pytest
from arker import Arker, ArkerError, Filesystem


@pytest.fixture
def prefix() -> str:
    """A name prefix no other test uses."""
    return f"fs-{secrets.token_hex(4)}"


@pytest.fixture
def made(arker_a: Arker, prefix: str) -> Iterator[list[Filesystem]]:
    """Three filesystems of org A named ``<prefix>-0..2``; deleted afterwards."""
    created = [arker_a.create_filesystem(name=f"{prefix}-{i}") for i in range(3)]
    yield created
    for filesystem in created:
        with contextlib.suppress(ArkerError):  # the test deleted it
            arker_a.delete_filesystem(filesystem.filesystem_id)


def test_created_filesystem_reads_back_then_deletes(arker_a: Arker, prefix: str) -> None:
    created = arker_a.create_filesystem(name=prefix)
    assert created.name == prefix and created.owner_org_id == "org-a"
    assert created.size_bytes == 0 and created.created_at.endswith("Z")
    assert arker_a.get_filesystem(created.filesystem_id) == created
    assert arker_a.delete_filesystem(created.filesystem_id).deleted is True
    with pytest.raises(ArkerError) as missing:
        arker_a.get_filesystem(created.filesystem_id)
    assert (missing.value.code, missing.value.status) == ("not_found", 404)


def test_response_carries_region_and_provider(http_a: httpx.Client, prefix: str) -> None:
    body = http_a.post("/v1/filesystems", json={"name": prefix}).json()
    assert (body["region"], body["provider"]) == ("us-west-2", "aws")
    assert http_a.delete(f"/v1/filesystems/{body['filesystem_id']}").json() == {"deleted": True}


def test_list_walks_pages_filtered_by_name_prefix(
    arker_a: Arker, made: list[Filesystem], prefix: str
) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = arker_a.list_filesystems(name_prefix=prefix, limit=1, cursor=cursor)
        seen += [f.name for f in page.filesystems]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [f"{prefix}-{i}" for i in range(3)]


def test_duplicate_name_is_a_conflict(arker_a: Arker, made: list[Filesystem]) -> None:
    with pytest.raises(ArkerError) as duplicate:
        arker_a.create_filesystem(name=made[0].name)
    assert (duplicate.value.code, duplicate.value.status) == ("conflict", 409)


def test_same_name_in_another_org_is_fine(arker_b: Arker, made: list[Filesystem]) -> None:
    theirs = arker_b.create_filesystem(name=made[0].name)
    assert theirs.owner_org_id == "org-b"
    arker_b.delete_filesystem(theirs.filesystem_id)


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": 7}, {"name": "has/slash"}, {"name": "../up"}, {"name": "x" * 200}],
    ids=["missing", "empty", "number", "slash", "dotdot", "too-long"],
)
def test_invalid_name_is_a_flat_400(http_a: httpx.Client, body: dict[str, object]) -> None:
    response = http_a.post("/v1/filesystems", json=body)
    assert response.status_code == 400 and response.json()["code"] == "bad_request"


def test_other_org_sees_a_filesystem_as_unknown(arker_b: Arker, made: list[Filesystem]) -> None:
    for call in (arker_b.get_filesystem, arker_b.delete_filesystem):
        with pytest.raises(ArkerError) as hidden:
            call(made[0].filesystem_id)
        assert (hidden.value.code, hidden.value.status) == ("not_found", 404)
    names = [f.name for f in arker_b.list_filesystems(name_prefix=made[0].name).filesystems]
    assert names == []


def test_bad_cursor_and_limit_are_400(http_a: httpx.Client) -> None:
    for params in ({"cursor": "garbage"}, {"limit": "0"}, {"limit": "x"}):
        response = http_a.get("/v1/filesystems", params=params)
        assert response.status_code == 400 and response.json()["code"] == "bad_request"
