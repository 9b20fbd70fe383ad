"""Read a whole list endpoint by following ``next_cursor`` to its end.

Scenario tests that ask "is X listed?" must not depend on an empty backend: other runs'
resources may fill the first page, so they walk every page. 0.5.1 sets no bound on how
many pages a list has; the walk ends when ``next_cursor`` is null or absent, and only the
operator's wait budget (``--wait-budget``) bounds it: running out is an error naming the
pages read, never a fail. A cursor that comes back twice in one walk is a loop that would
never end: a fail.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from conformance.checks import expect_ok
from conformance.suite._polling import Wait

if TYPE_CHECKING:
    from conformance.client import ArkerClient
    from conformance.spec import Spec

__all__ = ["PAGE_SIZE", "PageBudget", "list_all"]

PAGE_SIZE = 100


class PageBudget:
    """The operator's budget for one walk over a list (``--wait-budget``, in seconds).

    Example::

        budget = PageBudget("listRuns")
        while cursor is not None:
            budget.charge()
            ...
    """

    def __init__(self, what: str, *, clock: Any = time.monotonic) -> None:
        self.what = what
        self.wait = Wait.operator()
        self.pages = 0
        self._clock = clock
        self._started = clock()

    def charge(self) -> None:
        """Count one more page; raise :class:`OperatorWaitExpired` once the budget is spent."""
        waited = self._clock() - self._started
        if self.pages and waited > self.wait.seconds:
            raise self.wait.expired(
                f"{self.what} to reach a page whose next_cursor is null",
                waited,
                f"{self.pages} pages read, each with a next_cursor",
            )
        self.pages += 1


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
    """Every item of a list endpoint, each page schema-checked, until ``next_cursor`` is null.

    Args:
        op_id: the list operation (``listRuns``) whose schema each page must match.
        key: the items' key in a page (``runs``).
        capability: what a 422 would say is unsupported.
        params: filters sent with every page (``{"state": "running"}``).
        control: send to the control-plane URL (``GET /v1/vms``).

    Raises:
        OperatorWaitExpired: the walk outlasted the operator's wait budget (an error).

    Example: ``runs = list_all(spec, client, "listRuns", runs_path(vm_id), "runs",
    capability="runs.background")``
    """
    items: list[dict[str, Any]] = []
    query: dict[str, Any] = {"limit": PAGE_SIZE, **(params or {})}
    budget, cursors = PageBudget(op_id), set()
    while True:
        budget.charge()
        response = client.request("GET", path, params=query, control=control)
        page = expect_ok(spec, op_id, response, capability=capability)
        items.extend(page[key])
        cursor = page.get("next_cursor")
        if not cursor:
            return items
        assert cursor not in cursors, (
            f"PAG-001: {op_id}: page {budget.pages} gave next_cursor {cursor!r}, already given "
            "by an earlier page of this walk: the list loops and never ends"
        )
        cursors.add(cursor)
        query = {**query, "cursor": cursor}
