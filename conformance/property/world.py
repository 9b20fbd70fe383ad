"""Real ids for generated cases, so they reach real handlers and not only 404s.

Resources are made in the tests' set-up (``World.ensure``, from a fixture), never in a
test body: the plugin deletes what a test body creates as soon as the test ends.

One :class:`World` per test process: a VM forked through the ledger (``target.fork``) and,
on first need, what lives in it — a finished run, a running run to cancel, sessions, a
background run holding two inbound ports (tunnels), filesystems and a binding. Operations
that delete get their own spare resource, so ``deleteVm`` never deletes the VM every other
test uses. Nothing is created for a capability the profile declares unsupported; under
``--read-only`` nothing is created at all and ids are discovered by listing.

A resource that cannot be made (a contract violation the scenario tests judge) is simply
missing: the cases of that operation keep their generated ids.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from conformance.checks import ContractViolation, UnsupportedOperation, expect_ok
from conformance.errors import HarnessError

if TYPE_CHECKING:
    from conformance.checks.property import RunStateMemo
    from conformance.target import Target

__all__ = ["World"]

# operation -> path parameter -> resource name (see World._makers)
_NEEDS: dict[str, dict[str, str]] = {
    "deleteVm": {"id": "spare_vm"},
    "getRun": {"run_id": "run"},
    "cancelRun": {"run_id": "long_run"},
    "getSession": {"sid": "session"},
    "deleteSession": {"sid": "spare_session"},
    "getTunnel": {"port": "tunnel_port"},
    "deleteTunnel": {"port": "spare_tunnel_port"},
    "deleteSync": {"sync_id": "sync"},
    "getFilesystem": {"filesystem_id": "filesystem"},
    "deleteFilesystem": {"filesystem_id": "spare_filesystem"},
}
_CAPABILITY = {  # resource -> capability it needs
    "run": "runs.foreground",
    "long_run": "runs.background",
    "session": "sessions",
    "spare_session": "sessions",
    "tunnel_port": "tunnels",
    "spare_tunnel_port": "tunnels",
    "sync": "syncs",
    "filesystem": "filesystems",
    "spare_filesystem": "filesystems",
}
# resources the case preparation and the explicit cases of an operation read
_ALSO: dict[str, tuple[str, ...]] = {
    "forkVm": ("vm",),
    "createFilesystem": ("filesystem",),
    "createSync": ("filesystem",),
    "createRun": ("session",),
}
_RUN_SECONDS = 600  # the background runs are cancelled at close; this bounds a crash


@dataclass
class World:
    """Lazily created real resources; ``ids_for(op)`` gives the path ids to substitute."""

    target: Target
    runs: RunStateMemo | None = None  # told the state of every run the world starts
    problems: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # resource -> the name it was given
    _made: dict[str, Any] = field(default_factory=dict)
    _runs_to_stop: list[str] = field(default_factory=list)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    @property
    def read_only(self) -> bool:
        """Under ``--read-only`` the world only discovers, never creates."""
        return self.target.settings.read_only

    def ids_for(self, operation_id: str, path_params: set[str]) -> dict[str, Any]:
        """Real values for ``path_params`` of ``operation_id`` (missing ones left out).

        Example: ``world.ids_for("getRun", {"id", "run_id"})`` gives
        ``{"id": "vm_1", "run_id": "r_1"}``.
        """
        wanted = dict(_NEEDS.get(operation_id, {}))
        if "id" in path_params:
            wanted.setdefault("id", "vm")
        if "filesystem_id" in path_params:
            wanted.setdefault("filesystem_id", "filesystem")
        found = {param: self.get(name) for param, name in wanted.items() if param in path_params}
        return {param: value for param, value in found.items() if value is not None}

    def ensure(self, operation_id: str, path_params: set[str]) -> None:
        """Make now whatever the cases of ``operation_id`` will use.

        Call it from a fixture: what a test *body* creates is released when the test ends,
        but the world must live as long as the session.
        """
        self.ids_for(operation_id, path_params)
        for name in _ALSO.get(operation_id, ()):
            self.get(name)

    def get(self, name: str) -> Any:
        """The resource ``name`` (made on first use), or None when it cannot exist here."""
        with self._lock:
            if name not in self._made:
                self._made[name] = self._make(name)
            return self._made[name]

    def _make(self, name: str) -> Any:
        capability = _CAPABILITY.get(name)
        if capability and self.target.profile.requirement(capability) == "unsupported":
            return None
        if self.read_only:
            return self._discover(name)
        try:
            return self._makers()[name]()
        except (ContractViolation, UnsupportedOperation, HarnessError, AssertionError) as exc:
            self.problems.append(f"{name}: {self.target.redactor.text(str(exc))[:300]}")
            return None

    def _makers(self) -> dict[str, Callable[[], Any]]:
        return {
            "vm": lambda: self._named("vm", self.target.fork(suffix="prop"), "vm_id"),
            "spare_vm": lambda: self.target.fork(suffix="prop-del")["vm_id"],
            "run": lambda: self._run({"command": "echo conformance"}, "runs.foreground"),
            "long_run": lambda: self._background(f"sleep {_RUN_SECONDS}", {}),
            "session": self._session,
            "spare_session": self._session,
            "tunnel_port": lambda: self._ports()[0],
            "spare_tunnel_port": lambda: self._ports()[1],
            "filesystem": lambda: self._named(
                "filesystem", self.target.create_filesystem("prop-fs"), "filesystem_id"
            ),
            "spare_filesystem": lambda: self.target.create_filesystem("prop-del")["filesystem_id"],
            "sync": self._sync,
        }

    # -- makers ----------------------------------------------------------------------------

    def _named(self, name: str, body: dict[str, Any], id_field: str) -> Any:
        if isinstance(body.get("name"), str):
            self.names[name] = body["name"]
        return body[id_field]

    def _vm_path(self) -> str:
        vm = self.get("vm")
        if vm is None:
            raise HarnessError("no property VM")
        return f"/v1/vms/{quote(vm, safe='')}"

    def _run(self, body: dict[str, Any], capability: str) -> str:
        response = self.target.client.request("POST", f"{self._vm_path()}/runs", json=body)
        run = expect_ok(self.target.spec, "createRun", response, capability=capability)
        run_id = run.get("run_id")
        if not isinstance(run_id, str):
            raise HarnessError("createRun answered no run_id")
        if self.runs is not None and isinstance(run.get("state"), str):
            self.runs.observe(self.target.spec, run_id, run["state"], response)
        return run_id

    def _background(self, command: str, extra: dict[str, Any]) -> str:
        body = {"command": command, "background": True, **extra}
        run_id = self._run(body, "runs.background")
        self._runs_to_stop.append(run_id)
        return run_id

    def _ports(self) -> tuple[int, int]:
        ports = self._made.get("_ports")
        if ports is None:
            base = 20000 + secrets.randbelow(30000)
            ports = (base, base + 1)
            wanted = {str(p): {"visibility": "private", "protocol": "http"} for p in ports}
            self._background(f"sleep {_RUN_SECONDS}", {"network": {"inbound": {"ports": wanted}}})
            self._made["_ports"] = ports
        return (int(ports[0]), int(ports[1]))

    def _session(self) -> str:
        response = self.target.client.request("POST", f"{self._vm_path()}/sessions", json={})
        body = expect_ok(self.target.spec, "createSession", response, capability="sessions")
        return str(body["session_id"])

    def _sync(self) -> str:
        filesystem, vm = self.get("filesystem"), self.get("vm")
        if filesystem is None or vm is None:
            raise HarnessError("no filesystem or VM to bind")
        path = f"/mnt/{self.target.ledger.new_name('prop-sync')}"
        response = self.target.create_sync(vm, filesystem, path)
        body = expect_ok(self.target.spec, "createSync", response, capability="syncs")
        return str(body["sync_id"])

    def _discover(self, name: str) -> Any:
        """Read-only: an existing resource of org A, found by listing (None if there is none)."""
        client = self.target.client
        if name == "vm":
            page = client.request("GET", "/v1/vms", params={"limit": 1}, control=True)
            items = page.json().get("vms", []) if page.is_success else []
            return items[0].get("vm_id") if items else None
        if name in ("run", "session", "filesystem") and self.get("vm") is not None:
            path, key, id_field = {
                "run": (f"{self._vm_path()}/runs", "runs", "run_id"),
                "session": (f"{self._vm_path()}/sessions", "sessions", "session_id"),
                "filesystem": ("/v1/filesystems", "filesystems", "filesystem_id"),
            }[name]
            page = client.request("GET", path, params={"limit": 1})
            items = page.json().get(key, []) if page.is_success else []
            return items[0].get(id_field) if items else None
        return None

    # -- teardown --------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the background runs and delete the VMs now (the ledger is the safety net)."""
        vm = self._made.get("vm")
        if self.read_only or vm is None:
            return
        for run_id in self._runs_to_stop:
            path = f"/v1/vms/{quote(vm, safe='')}/runs/{quote(run_id, safe='')}"
            try:
                self.target.client.request("DELETE", path)
            except HarnessError:
                break
        for name in ("spare_vm", "vm"):
            vm_id = self._made.get(name)
            if isinstance(vm_id, str):
                try:
                    self.target.delete_vm(vm_id)
                except HarnessError as exc:
                    self.problems.append(f"delete {name}: {exc}")
