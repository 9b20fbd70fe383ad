"""Ledger: names, reverse-order teardown, failures kept, crash recovery from the JSONL file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.ledger import Ledger, LedgerEntry


def make(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "run" / "ledger.jsonl", "conf-r1")


def test_names_carry_the_run_prefix_and_are_unique(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.jsonl", "conf-r1", tag="gw0")
    first, second = ledger.new_name("vm"), ledger.new_name("vm")
    assert first.startswith("conf-r1-gw0-") and first.endswith("-vm")
    assert first != second


def test_teardown_deletes_newest_first_and_only_live_entries(tmp_path: Path) -> None:
    ledger = make(tmp_path)
    entries = [ledger.intend("vm", f"n{i}") for i in range(3)]
    for i, entry in enumerate(entries):
        ledger.created(entry, f"vm_{i}")
    ledger.deleted(entries[1])
    order: list[str | None] = []
    problems = ledger.teardown(lambda e: order.append(e.id))
    assert order == ["vm_2", "vm_0"]
    assert problems == []
    assert ledger.alive() == []


def test_a_failed_delete_is_reported_and_teardown_continues(tmp_path: Path) -> None:
    ledger = make(tmp_path)
    for i in range(3):
        ledger.created(ledger.intend("vm", f"n{i}"), f"vm_{i}")

    def delete(entry: LedgerEntry) -> None:
        if entry.id == "vm_1":
            raise RuntimeError("500 from DELETE")

    problems = ledger.teardown(delete)
    assert [p.entry.id for p in problems] == ["vm_1"]
    assert "500 from DELETE" in problems[0].error
    assert [e.id for e in ledger.alive()] == ["vm_1"]


def test_every_event_is_on_disk_before_the_next_step(tmp_path: Path) -> None:
    ledger = make(tmp_path)
    entry = ledger.intend("filesystem", "conf-r1-1-fs")
    lines = ledger.path.read_text().splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["intend"]
    ledger.created(entry, "fs_1")
    ledger.deleted(entry)
    events = [json.loads(line)["event"] for line in ledger.path.read_text().splitlines()]
    assert events == ["intend", "created", "deleted"]


def test_crash_recovery_replays_the_file_and_ignores_a_torn_line(tmp_path: Path) -> None:
    ledger = make(tmp_path)
    a = ledger.intend("vm", "a")
    ledger.created(a, "vm_a")
    b = ledger.intend("sync", None, parent="vm_a")
    ledger.created(b, "sync_b")
    gone = ledger.intend("vm", "gone")
    ledger.created(gone, "vm_gone")
    ledger.deleted(gone)
    ledger.intend("vm", "never-answered")  # crashed before the answer
    with ledger.path.open("a") as fh:
        fh.write('{"event": "created", "se')  # torn write of a killed process
    recovered = Ledger.load(ledger.path)
    live = recovered.alive()
    assert [(e.kind, e.id, e.name) for e in live] == [
        ("vm", "vm_a", "a"),
        ("sync", "sync_b", None),
        ("vm", None, "never-answered"),
    ]
    assert live[1].parent == "vm_a"
    order: list[str | None] = []
    recovered.teardown(lambda e: order.append(e.id or e.name))
    assert order == ["never-answered", "sync_b", "vm_a"]


def test_leaks_are_the_entries_still_present(tmp_path: Path) -> None:
    ledger = make(tmp_path)
    for i in range(2):
        ledger.created(ledger.intend("vm", f"n{i}"), f"vm_{i}")
    leaks = ledger.leaks(lambda e: e.id == "vm_1")
    assert leaks == [
        {
            "kind": "vm",
            "id": "vm_1",
            "name": "n1",
            "parent": None,
            "reason": "still present after teardown",
        }
    ]


def test_find_returns_live_entries_only(tmp_path: Path) -> None:
    ledger = make(tmp_path)
    entry = ledger.intend("vm", "x")
    ledger.created(entry, "vm_x")
    assert ledger.find("vm", "vm_x") is entry
    ledger.deleted(entry)
    assert ledger.find("vm", "vm_x") is None


@pytest.mark.parametrize("kind", ["vm", "filesystem"])
def test_alive_filters_by_kind(tmp_path: Path, kind: str) -> None:
    ledger = make(tmp_path)
    ledger.intend("vm", "v")
    ledger.intend("filesystem", "f")
    assert [e.kind for e in ledger.alive(kind)] == [kind]


def test_release_since_a_mark_deletes_only_later_entries_newest_first(tmp_path: Path) -> None:
    ledger = make(tmp_path)
    ledger.created(ledger.intend("vm", "shared"), "vm_shared")
    mark = ledger.mark()
    for i in range(3):
        ledger.created(ledger.intend("vm", f"n{i}"), f"vm_{i}")
    order: list[str | None] = []

    def delete(entry: LedgerEntry) -> None:
        order.append(entry.id)
        if entry.id == "vm_1":
            raise RuntimeError("busy")

    ledger.release(ledger.alive_since(mark), delete)
    assert order == ["vm_2", "vm_1", "vm_0"]
    assert [e.id for e in ledger.alive()] == ["vm_shared", "vm_1"]
