"""The pagination walk against emulated backends: caps pass, more than the limit fails."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from conformance.client import ArkerClient
from conformance.spec import Spec
from conformance.suite._listing import list_all
from conformance.suite._polling import OperatorWaitExpired
from conformance.suite.test_pagination import LISTINGS, walk

SPEC = Spec.load()
VMS = [f"vm_{n:03d}" for n in range(7)]


def vm(vm_id: str) -> dict[str, Any]:
    return {"vm_id": vm_id, "owner_org_id": "org-a", "created_at": "2026-01-01T00:00:00Z",
            "public": False, "state": "idle", "sessions": []}  # fmt: skip


@dataclass
class Pages:
    """GET /v1/vms over VMS: ``cap`` items at most per page, or ``extra`` over the limit."""

    cap: int | None = None
    extra: int = 0
    endless: bool = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        limit = int(request.url.params.get("limit", "100"))
        start = int(request.url.params.get("cursor") or 0)
        size = min(limit, self.cap) if self.cap else limit + self.extra
        items = VMS[start : start + size]
        after = start + len(items)
        more = after < len(VMS) or self.endless
        body = {"vms": [vm(i) for i in items], "next_cursor": str(after + 1000 * self.endless)
                if more else None}  # fmt: skip
        return httpx.Response(200, content=json.dumps(body).encode(),
                              headers={"content-type": "application/json"})  # fmt: skip


@dataclass
class FakeTarget:
    client: ArkerClient
    spec: Spec = SPEC


def target_over(pages: Pages) -> FakeTarget:
    client = ArkerClient("http://backend.test", api_key="conf-unit-key", spec=SPEC)
    client._http = httpx.Client(transport=httpx.MockTransport(pages))
    return FakeTarget(client)


@pytest.mark.parametrize("limit", [1, 3, 1000])
def test_a_backend_capping_pages_walks_every_item_once(limit: int) -> None:
    seen = walk(target_over(Pages(cap=2)), LISTINGS["listVms"], None, limit, {})
    assert seen.ids == VMS


def test_a_page_with_more_items_than_the_limit_fails() -> None:
    with pytest.raises(AssertionError, match="expected at most 2 items, got 3"):
        walk(target_over(Pages(extra=1)), LISTINGS["listVms"], None, 2, {})


def test_a_list_that_never_ends_is_an_error_not_a_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARKER_WAIT_BUDGET", "0.2")
    monkeypatch.setattr("conformance.suite._polling._resolved", {})
    with pytest.raises(OperatorWaitExpired, match="next_cursor is null"):
        walk(target_over(Pages(endless=True)), LISTINGS["listVms"], None, 5, {})


def test_a_cursor_given_twice_in_one_walk_is_a_loop() -> None:
    def same_cursor(request: httpx.Request) -> httpx.Response:
        body = {"vms": [vm("vm_000")], "next_cursor": "again"}
        return httpx.Response(200, json=body)

    client = ArkerClient("http://backend.test", api_key="conf-unit-key", spec=SPEC)
    client._http = httpx.Client(transport=httpx.MockTransport(same_cursor))
    with pytest.raises(AssertionError, match="loops and never ends"):
        list_all(SPEC, client, "listVms", "/v1/vms", "vms", capability="vms")
