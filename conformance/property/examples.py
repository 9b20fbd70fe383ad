"""Explicit cases: contract situations random generation almost never reaches.

hypothesis runs them first (``@example``), as they are, in every positive test of their
operation: a fork and a filesystem that take a name this run already gave (409
``conflict``: names are unique per org). They reuse the world's resources, so nothing new
exists unless the backend wrongly accepts them (then the ledger deletes it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance.target import GOLDEN_ORG

if TYPE_CHECKING:
    from schemathesis import Case
    from schemathesis.schemas import APIOperation

    from conformance.property.plan import PropertyItem
    from conformance.property.world import World

__all__ = ["explicit_cases"]


def explicit_cases(
    world: World, operation: APIOperation[Any, Any, Any, Any], item: PropertyItem
) -> list[Case[Any]]:
    """The explicit cases of ``item`` (none outside positive tests or under --read-only).

    Example: for ``forkVm-positive``, a golden fork named like the world's VM.
    """
    if item.mode != "positive" or world.read_only:
        return []
    if item.operation_id == "forkVm" and world.get("vm") is not None and "vm" in world.names:
        body: Any = {
            "source_vm_name": world.target.golden,
            "source_org_id": GOLDEN_ORG,
            "name": world.names["vm"],
        }
        return [operation.Case(body=body, media_type="application/json")]
    if item.operation_id == "createFilesystem" and world.get("filesystem") is not None:
        named: Any = {"name": world.names["filesystem"]}
        return [operation.Case(body=named, media_type="application/json")]
    return []
