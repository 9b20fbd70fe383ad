"""Read a whole list endpoint by following ``next_cursor`` (FACTS §D.10).

Scenario tests that ask "is X listed?" must not depend on an empty backend: other runs'
resources may fill the first page, so they walk every page (bounded).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from conformance.checks import expect_ok

if TYPE_CHECKING:
    from conformance.client import ArkerClient
    from conformance.spec import Spec

__all__ = ["list_all"]

MAX_PAGES = 50
PAGE_SIZE = 100


def list_all(
    spec: Spec,
    client: ArkerClient,
    op_id: str,
    path: str,
    key: str,
    *,
    capability: str,
    params: Mapping[str, Any] | None = None,
    control: bool = False,
) -> list[dict[str, Any]]:
    """Every item of a list endpoint, each page schema-checked, at most ``MAX_PAGES`` pages.

    Args:
        op_id: the list operation (``listRuns``) whose schema each page must match.
        key: the items' key in a page (``runs``).
        capability: what a 422 would say is unsupported.
        params: filters sent with every page (``{"state": "running"}``).
        control: send to the control-plane URL (``GET /v1/vms``).

    Example: ``runs = list_all(spec, client, "listRuns", runs_path(vm_id), "runs",
    capability="runs.background")``
    """
    items: list[dict[str, Any]] = []
    query: dict[str, Any] = {"limit": PAGE_SIZE, **(params or {})}
    for _ in range(MAX_PAGES):
        response = client.request("GET", path, params=query, control=control)
        page = expect_ok(spec, op_id, response, capability=capability)
        items.extend(page[key])
        if not page.get("next_cursor"):
            break
        query = {**query, "cursor": page["next_cursor"]}
    return items
