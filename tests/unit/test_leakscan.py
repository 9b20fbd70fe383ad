"""Leak check from lists: one walk per kind and org; an incomplete list falls back to GETs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from conformance.janitor import Janitor
from conformance.leakscan import LeakScan
from conformance.ledger import Ledger

PREFIX = "conf-r1-"


class FakeClient:
    """Answers list and get requests from fixed data; records every request."""

    def __init__(self, pages: dict[str, Any], gets: dict[str, int] | None = None) -> None:
        self.pages = pages  # path -> page body (dict) or a status code (int)
        self.gets = gets or {}  # path -> status of a plain GET
        self.sent: list[tuple[str, str]] = []

    def request(
        self, method: str, path: str, params: Any = None, control: bool = False
    ) -> httpx.Response:
        self.sent.append((method, path))
        if params is None:
            return httpx.Response(self.gets.get(path, 404), json={})
        page = self.pages.get(path, {})
        if isinstance(page, int):
            return httpx.Response(page, json={"code": "internal", "message": "broken"})
        return httpx.Response(200, json={**page, "next_cursor": None})


def ledger_with(tmp_path: Path, *rows: tuple[str, str, str | None]) -> Ledger:
    ledger = Ledger(tmp_path / "ledger.jsonl", "conf-r1")
    for kind, resource_id, parent in rows:
        name = ledger.new_name(kind) if kind != "sync" else None
        ledger.created(ledger.intend(kind, name, parent=parent), resource_id)
    return ledger


def test_a_listed_vm_is_a_leak_and_the_check_sends_one_list_per_kind(tmp_path: Path) -> None:
    ledger = ledger_with(tmp_path, *(("vm", f"vm_{n}", None) for n in range(5)))
    kept = {"vm_id": "vm_3", "name": "conf-r1-4-vm"}
    client = FakeClient({"/v1/vms": {"vms": [kept]}, "/v1/filesystems": {"filesystems": []}})
    scan = LeakScan(Janitor(client), PREFIX)  # type: ignore[arg-type]
    leaks = ledger.leaks(scan.still_there)
    assert [leak["id"] for leak in leaks] == ["vm_3"]
    assert [row["id"] for row in scan.leftovers()] == ["vm_3"]
    assert client.sent == [("GET", "/v1/vms"), ("GET", "/v1/filesystems")]


def test_an_incomplete_list_falls_back_to_one_get_per_entry(tmp_path: Path) -> None:
    ledger = ledger_with(tmp_path, ("vm", "vm_1", None), ("vm", "vm_2", None))
    client = FakeClient({"/v1/vms": 500}, gets={"/v1/vms/vm_2": 200})
    leaks = ledger.leaks(LeakScan(Janitor(client), PREFIX).still_there)  # type: ignore[arg-type]
    assert [leak["id"] for leak in leaks] == ["vm_2"]
    assert ("GET", "/v1/vms/vm_1") in client.sent


def test_bindings_are_listed_per_parent_and_a_gone_parent_holds_none(tmp_path: Path) -> None:
    ledger = ledger_with(
        tmp_path, ("sync", "s_1", "vm_a"), ("sync", "s_2", "vm_a"), ("sync", "s_3", "vm_b")
    )
    client = FakeClient(
        {"/v1/vms/vm_a/syncs": {"syncs": [{"sync_id": "s_2"}]}, "/v1/vms/vm_b/syncs": 404}
    )
    leaks = ledger.leaks(LeakScan(Janitor(client), PREFIX).still_there)  # type: ignore[arg-type]
    assert [leak["id"] for leak in leaks] == ["s_2"]
    assert client.sent == [("GET", "/v1/vms/vm_a/syncs"), ("GET", "/v1/vms/vm_b/syncs")]
