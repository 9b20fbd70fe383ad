"""Pick VM sizes that differ from a VM's current ones, so an echo cannot pass by accident.

Modest steps up from what the backend reports (never down: a disk rarely shrinks), or
small defaults when it reports nothing.
"""

from __future__ import annotations

from typing import Any

__all__ = ["other_sizing"]


def other_sizing(vm: dict[str, Any]) -> dict[str, int]:
    """``vcpu_count``/``memory_mib``/``disk_mib`` values each different from ``vm``'s.

    Example: ``other_sizing({"vcpu_count": 2, "memory_mib": 1024, "disk_mib": None})``
    gives ``{"vcpu_count": 1, "memory_mib": 1536, "disk_mib": 4096}``.
    """

    def step(key: str, by: int, default: int) -> int:
        current = vm.get(key)
        return current + by if isinstance(current, int) and current > 0 else default

    return {
        "vcpu_count": 1 if vm.get("vcpu_count") == 2 else 2,
        "memory_mib": step("memory_mib", 512, 1024),
        "disk_mib": step("disk_mib", 1024, 4096),
    }
