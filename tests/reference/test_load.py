"""Bounded load on 127.0.0.1: concurrent foreground runs and concurrent forks, no errors."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from arker import VM, Arker


def test_fifty_concurrent_foreground_runs(vm_a: VM) -> None:
    def one(i: int) -> tuple[int, bytes, int]:
        result = vm_a.run(f"echo {i}; exit {i % 7}")
        return i, result.stdout, result.exit_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(one, range(50)))
    assert results == [(i, f"{i}\n".encode(), i % 7) for i in range(50)]
    assert len({r.run_id for r in vm_a.list_runs(limit=100).runs}) >= 50


def test_twenty_concurrent_forks(vm_a: VM, arker_a: Arker) -> None:
    vm_a.run("echo base > /work/base")

    def fork(i: int) -> VM:
        return arker_a.fork(vm_a) if i % 2 else arker_a.fork("ubuntu")

    with ThreadPoolExecutor(max_workers=20) as pool:
        children = list(pool.map(fork, range(20)))
    try:
        assert len({child.id for child in children}) == 20
        for i, child in enumerate(children):
            expected = b"base\n" if i % 2 else b""
            assert child.run("cat /work/base 2>/dev/null").stdout == expected
    finally:
        with ThreadPoolExecutor(max_workers=10) as pool:
            list(pool.map(lambda child: child.delete(), children))
