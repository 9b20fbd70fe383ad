"""Cursor pagination on every list endpoint (``cursor``, ``limit``, ``next_cursor``).

For each list: create three items, then walk it with each limit of ``WALK_LIMITS``. Each
walk must see every created item exactly once (no duplicates, no gaps), never get more
items than ``limit``, and end with ``next_cursor`` null or absent. The three limits are the
three kinds of page a walk meets, and a limit between them would prove nothing they do not:

* ``limit=1``: every item on a page of its own, so the cursor is followed across every
  item boundary, every page is full (a limit the backend ignores shows at once) and the
  last page is full too (a ``next_cursor`` set because the page filled, not because more
  items follow, leads to an empty page or never ends);
* ``limit=2``: a full page of several items, then a partial one: the cursor after a page
  of several items resumes right after its last one (no item repeated or skipped at a page
  boundary), and a partial last page ends the walk;
* ``limit=1000``: the whole list on one page with a null ``next_cursor``; on a test-owned
  VM this walk is also the one-page answer every other walk must match exactly.

0.5.1 says of ``limit`` only "max items per page; backend caps may apply": a limit that is
not an integer is 400, a positive limit up to 1000 is answered (caps may return fewer
items, never more), and an out-of-range limit (0, negative, above 1000: the 1..1000 bound
is a later contract's) may be refused with 400 or clamped; one value of each kind is
sent (0, -1, 1001), as a second value above 1000 would meet the same check. A garbage
cursor is 400. A cursor from one list replayed on another is 400 or a valid page (the
contract only says cursors are opaque). A walk is bounded by the operator's wait budget
only (an error when spent), never by a page count.

Capabilities: every list is judged as ``pagination``. The lists of optional families
(sessions, tunnels, syncs, filesystems) also ``requires`` their family: where the profile
declares it unsupported they are disabled by profile, and a backend answering
``unsupported_operation`` for the family is judged by the family's requirement, so a
profile without sessions never fails ``pagination`` for it.
"""

from __future__ import annotations

import contextlib
import functools
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from conformance.checks import expect_error, expect_ok
from conformance.errors import HarnessError
from conformance.suite._background import Gate, start_background
from conformance.suite._forks import kept_vm
from conformance.suite._listing import PageBudget
from conformance.suite._shell import runs_path, vm_path

if TYPE_CHECKING:
    from conformance.steps import StepLog
    from conformance.target import Target

pytestmark = [pytest.mark.capability("pagination"), pytest.mark.shares_vm]

N_ITEMS = 3
WALK_LIMITS = (1, 2, 1000)  # what each proves: the module's docstring
Undo = list[Callable[[], object]]


@pytest.fixture(scope="module")
def module_vm(target: Target) -> Iterator[dict[str, Any]]:
    """This module's own shared VM: its lists are walked with every limit, so they hold only
    what these tests made (the suite-wide shared VM gathers every module's runs)."""
    yield from kept_vm(target, "pages")


@dataclass(frozen=True)
class Listing:
    """One list endpoint: where it lives and how its items are identified."""

    op_id: str
    collection: str  # "{vm}" stands for the VM path
    items_key: str
    id_key: str
    needs: tuple[str, ...] = ()  # the families listing (and filling) it needs
    fill_needs: tuple[str, ...] = ()  # what filling it needs beyond listing it
    control: bool = False

    @property
    def capability(self) -> str:
        """What an ``unsupported_operation`` on the list would say is missing."""
        return self.needs[0] if self.needs else "pagination"

    @property
    def per_vm(self) -> bool:
        return "{vm}" in self.collection

    def path(self, vm_id: str | None) -> str:
        return self.collection.replace("{vm}", vm_path(vm_id) if vm_id else "")


LISTINGS = {
    "listVms": Listing("listVms", "/v1/vms", "vms", "vm_id", control=True),
    # listing runs is part of runs.background (get, list, state filter)
    "listRuns": Listing("listRuns", "{vm}/runs", "runs", "run_id", ("runs.background",)),
    "listSessions": Listing(
        "listSessions", "{vm}/sessions", "sessions", "session_id", ("sessions",)
    ),
    # the tunnels are opened by a background run
    "listTunnels": Listing(
        "listTunnels", "{vm}/tunnels", "tunnels", "port", ("tunnels",), ("runs.background",)
    ),
    # filling the bindings list needs filesystems to bind
    "listSyncs": Listing("listSyncs", "{vm}/syncs", "syncs", "sync_id", ("syncs", "filesystems")),
    "listFilesystems": Listing(
        "listFilesystems", "/v1/filesystems", "filesystems", "filesystem_id", ("filesystems",)
    ),
}


def listing_params(*, creating: bool) -> list[Any]:
    """One pytest param per list, marked ``requires`` its families; lists needing no VM
    can be marked ``creates_nothing`` when the test itself creates nothing else."""
    return [
        pytest.param(
            op_id,
            marks=[
                *([pytest.mark.requires(*listing.needs)] if listing.needs else []),
                *(
                    [pytest.mark.requires(*listing.fill_needs)]
                    if creating and listing.fill_needs
                    else []
                ),
                *([] if creating or listing.per_vm else [pytest.mark.creates_nothing]),
            ],
        )
        for op_id, listing in LISTINGS.items()
    ]


@dataclass
class Walk:
    """What one walk with a given ``limit`` saw."""

    ids: list[Any] = field(default_factory=list)
    pages: int = 0


def walk(
    target: Target, listing: Listing, vm_id: str | None, limit: int, params: dict[str, Any]
) -> Walk:
    """Follow ``next_cursor`` from the first page to the last with ``limit``."""
    seen, cursor, budget = Walk(), None, PageBudget(f"{listing.op_id} limit={limit}")
    while True:
        budget.charge()
        query = {**params, "limit": limit, "cursor": cursor}
        response = target.client.request(
            "GET", listing.path(vm_id), params=query, control=listing.control
        )
        body = expect_ok(target.spec, listing.op_id, response, capability=listing.capability)
        items = body[listing.items_key]
        assert len(items) <= limit, (
            f"{listing.op_id} page {seen.pages + 1} with limit={limit}: expected at most "
            f"{limit} items, got {len(items)}"
        )
        # Only a test-owned VM's lists are still while walked; org-wide lists may shrink.
        assert not (cursor and listing.per_vm and not items), (
            f"{listing.op_id} limit={limit}: page {seen.pages} gave a next_cursor, but it leads "
            "to an empty page; next_cursor must be null when there is no further page"
        )
        seen.ids += [item[listing.id_key] for item in items]
        seen.pages += 1
        cursor = body.get("next_cursor")
        if cursor is None:
            return seen
        assert isinstance(cursor, str) and cursor, (
            f"{listing.op_id}: next_cursor must be a non-empty string or null, got {cursor!r}"
        )


# -- creating n items per list -------------------------------------------------------------


def _ok(target: Target, op_id: str, response: Any, capability: str) -> dict[str, Any]:
    return expect_ok(target.spec, op_id, response, capability=capability)


def _make_vms(target: Target, vm_id: str, undo: Undo) -> tuple[list[Any], dict[str, Any]]:
    # One VM fewer than the other lists, deleted when the test ends: VMs are what the
    # --max-vms budget counts.
    made: list[str] = []
    for _ in range(N_ITEMS - 2):
        made.append(target.fork()["vm_id"])
        undo.append(functools.partial(target.delete_vm, made[-1]))
    return [vm_id, *made], {}


def _make_runs(target: Target, vm_id: str, undo: Undo) -> tuple[list[Any], dict[str, Any]]:
    # Foreground runs: listing runs must not depend on background support.
    made = []
    for n in range(N_ITEMS):
        response = target.client.request("POST", runs_path(vm_id), json={"command": f"echo {n}"})
        made.append(_ok(target, "createRun", response, "runs.foreground").get("run_id"))
    return [run_id for run_id in made if isinstance(run_id, str)], {}


def _make_sessions(target: Target, vm_id: str, undo: Undo) -> tuple[list[Any], dict[str, Any]]:
    path = f"{vm_path(vm_id)}/sessions"
    made = [
        _ok(target, "createSession", target.client.request("POST", path, json={}), "sessions")
        for _ in range(N_ITEMS)
    ]
    return [s["session_id"] for s in made], {}


def _make_tunnels(target: Target, vm_id: str, undo: Undo) -> tuple[list[Any], dict[str, Any]]:
    base = 20000 + secrets.randbelow(30000)
    ports: dict[str, dict[str, str]] = {str(base + n): {} for n in range(N_ITEMS)}
    # The run holds its tunnels until the test stops it, or for less than one request
    # timeout: a backend running background commands synchronously answers in time to be
    # judged (a fail) rather than timing out (the suite's own error).
    gate = Gate.new("tunnels", hold=target.settings.request_timeout * 0.75)
    network = {"inbound": {"ports": ports}}
    started = start_background(
        target.spec, target.client, vm_id, gate.command("true"), capability="tunnels",
        network=network,
    )  # fmt: skip
    run_id = started.run_id
    undo.append(lambda: target.client.request("DELETE", f"{runs_path(vm_id)}/{run_id}"))
    return [int(port) for port in ports], {}


def _make_syncs(target: Target, vm_id: str, undo: Undo) -> tuple[list[Any], dict[str, Any]]:
    made = []
    for n in range(N_ITEMS):
        fs = target.create_filesystem(f"page-sync-{secrets.token_hex(3)}-{n}")
        response = target.create_sync(vm_id, fs["filesystem_id"], f"/mnt/conf-page-{n}")
        made.append(_ok(target, "createSync", response, "syncs")["sync_id"])
    return made, {}


def _make_filesystems(target: Target, vm_id: str, undo: Undo) -> tuple[list[Any], dict[str, Any]]:
    tag = secrets.token_hex(3)
    made = [target.create_filesystem(f"page-fs-{tag}-{n}") for n in range(N_ITEMS)]
    # Ledger names are <run prefix>-<n>-<suffix>: the run prefix is the tightest shared one.
    return [fs["filesystem_id"] for fs in made], {"name_prefix": f"{target.prefix}-"}


MAKERS = {
    "listVms": _make_vms,
    "listRuns": _make_runs,
    "listSessions": _make_sessions,
    "listTunnels": _make_tunnels,
    "listSyncs": _make_syncs,
    "listFilesystems": _make_filesystems,
}


@pytest.fixture
def undo() -> Iterator[Undo]:
    """Undo steps (cancel a run, delete a binding) run after the test, newest first."""
    steps: Undo = []
    yield steps
    for step in reversed(steps):
        # A failed undo is left to the session teardown (ledger), which reports leaks.
        with contextlib.suppress(HarnessError):
            step()


# -- the tests -----------------------------------------------------------------------------


@pytest.mark.parametrize("op_id", listing_params(creating=True))
@pytest.mark.rules("PAG-001", "PAG-002")
def test_every_limit_walks_all_items_once(
    target: Target, vm: dict[str, Any], undo: Undo, steps: StepLog, op_id: str
) -> None:
    listing = LISTINGS[op_id]
    steps.log(f"create a few items for {op_id}")
    created, params = MAKERS[op_id](target, vm["vm_id"], undo)
    vm_id = vm["vm_id"] if listing.per_vm else None
    whole: set[Any] | None = None
    for limit in sorted(WALK_LIMITS, reverse=True):
        steps.log(f"walk {op_id} with limit={limit}")
        seen = walk(target, listing, vm_id, limit, params)
        if limit == max(WALK_LIMITS) and listing.per_vm:
            # A test-owned VM's list holds still: every walk must see exactly this answer.
            whole = set(seen.ids)
        duplicates = sorted({str(i) for i in seen.ids if seen.ids.count(i) > 1})
        assert not duplicates, f"{op_id} limit={limit}: items seen twice: {duplicates}"
        missing = [i for i in created if i not in seen.ids]
        if whole is not None:
            missing += sorted((whole - set(seen.ids)) - set(missing), key=str)
        assert not missing, (
            f"{op_id} limit={limit}: items never seen across {seen.pages} pages: {missing}"
        )
    assert len(created) >= N_ITEMS - 1 or (whole is not None and len(whole) >= N_ITEMS), (
        f"{op_id}: expected at least {N_ITEMS} items to walk, created {created}, listed {whole}"
    )


def _vm_for(listing: Listing, request: pytest.FixtureRequest) -> str | None:
    return request.getfixturevalue("vm")["vm_id"] if listing.per_vm else None


def _get_page(target: Target, request: pytest.FixtureRequest, listing: Listing, limit: Any) -> Any:
    return target.client.request(
        "GET",
        listing.path(_vm_for(listing, request)),
        params={"limit": limit},
        control=listing.control,
    )


@pytest.mark.parametrize("op_id", listing_params(creating=False))
@pytest.mark.rules("PAG-003")
def test_limit_that_is_not_an_integer_is_a_bad_request(
    target: Target, request: pytest.FixtureRequest, op_id: str
) -> None:
    listing = LISTINGS[op_id]
    response = _get_page(target, request, listing, "ten")
    expect_error(target.spec, response, "bad_request", capability=listing.capability)


@pytest.mark.parametrize("op_id", listing_params(creating=False))
@pytest.mark.parametrize("limit", [0, -1, 1001])
@pytest.mark.rules("PAG-004")
def test_out_of_range_limit_is_refused_or_clamped(
    target: Target, request: pytest.FixtureRequest, op_id: str, limit: int
) -> None:
    # 0.5.1 bounds limit nowhere ("backend caps may apply"); 1..1000 is a later contract's.
    # So 400 bad_request and a clamped page both pass; a page never exceeds a positive limit.
    listing = LISTINGS[op_id]
    response = _get_page(target, request, listing, limit)
    if response.status_code == 400:
        expect_error(target.spec, response, "bad_request", capability=listing.capability)
        return
    body = expect_ok(target.spec, op_id, response, capability=listing.capability)
    items = body[listing.items_key]
    assert limit < 1 or len(items) <= limit, (
        f"{op_id} limit={limit}: a clamped page holds at most {limit} items, got {len(items)}"
    )


@pytest.mark.parametrize("op_id", listing_params(creating=False))
@pytest.mark.rules("PAG-005")
def test_limit_1000_is_accepted(target: Target, request: pytest.FixtureRequest, op_id: str) -> None:
    listing = LISTINGS[op_id]
    path = listing.path(_vm_for(listing, request))
    response = target.client.request("GET", path, params={"limit": 1000}, control=listing.control)
    body = expect_ok(target.spec, op_id, response, capability=listing.capability)
    assert len(body[listing.items_key]) <= 1000, f"{op_id} limit=1000 returned more than 1000"


@pytest.mark.parametrize("op_id", listing_params(creating=False))
@pytest.mark.rules("PAG-006")
def test_garbage_cursor_is_a_bad_request(
    target: Target, request: pytest.FixtureRequest, op_id: str
) -> None:
    listing = LISTINGS[op_id]
    path = listing.path(_vm_for(listing, request))
    garbage = f"conf-not-a-cursor-{secrets.token_hex(8)}"
    response = target.client.request(
        "GET", path, params={"cursor": garbage}, control=listing.control
    )
    expect_error(target.spec, response, "bad_request", capability=listing.capability)


@pytest.mark.requires("runs.background")  # the cursor comes from listRuns
@pytest.mark.rules("PAG-007")
def test_cursor_from_another_list_is_refused_or_answered_consistently(
    target: Target, vm: dict[str, Any], steps: StepLog
) -> None:
    steps.log("take a next_cursor from listRuns (two runs, limit 1)")
    for command in ("echo a", "echo b"):
        response = target.client.request("POST", runs_path(vm["vm_id"]), json={"command": command})
        _ok(target, "createRun", response, "runs.foreground")
    first = target.client.request("GET", runs_path(vm["vm_id"]), params={"limit": 1})
    cursor = _ok(target, "listRuns", first, "runs.background").get("next_cursor")
    assert isinstance(cursor, str), (
        f"listRuns limit=1 over two runs: expected a cursor, got {cursor!r}"
    )
    steps.log("replay it on listVms")
    replay = target.client.request("GET", "/v1/vms", params={"cursor": cursor}, control=True)
    if replay.status_code == 400:
        expect_error(target.spec, replay, "bad_request")
    else:
        expect_ok(target.spec, "listVms", replay, capability="pagination")
