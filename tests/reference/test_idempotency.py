"""Idempotency-Key on POST /runs: one execution per key, conflict on a different body."""

from __future__ import annotations

import threading
import uuid

import pytest
from arker import VM, ArkerError


def _count(vm: VM) -> int:
    return int(vm.run("wc -l < /work/count").stdout.strip() or b"0")


def test_same_key_same_body_returns_the_original_run_once(vm_a: VM) -> None:
    key = uuid.uuid4().hex
    first = vm_a.run("echo x >> /work/count", idempotency_key=key)
    again = vm_a.run("echo x >> /work/count", idempotency_key=key)
    assert first.run_id == again.run_id
    assert _count(vm_a) == 1


def test_same_key_different_body_is_a_conflict_naming_the_run(vm_a: VM) -> None:
    key = uuid.uuid4().hex
    first = vm_a.run("true", idempotency_key=key)
    with pytest.raises(ArkerError) as caught:
        vm_a.run("false", idempotency_key=key)
    assert (caught.value.code, caught.value.status) == ("conflict", 409)
    assert first.run_id and first.run_id in caught.value.message


def test_concurrent_duplicates_execute_once(vm_a: VM) -> None:
    key = uuid.uuid4().hex
    ids: list[str | None] = []

    def send() -> None:
        ids.append(vm_a.run("sleep 0.2; echo x >> /work/count", idempotency_key=key).run_id)

    threads = [threading.Thread(target=send) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(ids) == 5 and len(set(ids)) == 1
    assert _count(vm_a) == 1
