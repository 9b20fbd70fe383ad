"""One network namespace per VM: every run, session command and tunnel of the VM enters it.

bwrap's ``--unshare-net`` would give each run a namespace of its own, so a server started
by one run could not be reached by the next, nor by a tunnel. Instead the backend creates
one namespace per VM the first time the VM needs it (its first run, or a tunnel probe
after it): a short-lived thread ``unshare(CLONE_NEWNET)``s, brings ``lo`` up and opens
``/proc/thread-self/ns/net``. That file descriptor, held by the server, keeps the
namespace alive — no holder process and no bind mount, so nothing outlives a crash.
Runs start in it from a thread that ``setns()``es first (``spawn.py``), and tunnels open
their sockets in it the same way (a socket stays in the namespace it was created in,
whichever thread uses it afterwards).

What leaves the namespace is ``egress.py``'s business (slirp4netns and an nftables
ruleset, per the VM's network policy). The namespace goes when the VM is deleted and at
shutdown; after a restart it is created again lazily.
"""

from __future__ import annotations

import asyncio
import ctypes
import fcntl
import json
import logging
import os
import shutil
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.routing import Route

from ..sandbox.egress import Egress, EgressPlan, egress_tools_missing, plan_egress, start_egress
from .backend import Backend

__all__ = ["Networks", "install", "namespace_path", "networks_of", "routes", "start", "stop"]

log = logging.getLogger("arker.reference")
T = TypeVar("T")

CLONE_NEWNET = 0x40000000
LINGER_S = 10.0  # a deleted VM's namespace descriptor stays open this long (see drop)
_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1
_libc = ctypes.CDLL(None, use_errno=True)


def in_namespace(fd: int | None, action: Callable[[], T]) -> T:
    """Run ``action`` in a fresh thread that first enters namespace ``fd`` (None: a new one).

    Namespaces belong to threads: only that throw-away thread ever changes namespace,
    so no thread of the server (the event loop, the thread pool) leaves the host's.
    """
    outcome: list[Any] = []

    def body() -> None:
        try:
            rc = _libc.unshare(CLONE_NEWNET) if fd is None else _libc.setns(fd, CLONE_NEWNET)
            if rc != 0:
                err = ctypes.get_errno()
                raise OSError(err, f"entering a network namespace: {os.strerror(err)}")
            outcome.append((True, action()))
        except BaseException as exc:
            outcome.append((False, exc))

    thread = threading.Thread(target=body, name="netns", daemon=True)
    thread.start()
    thread.join()
    ok, value = outcome[0]
    if not ok:
        raise value
    return value  # type: ignore[no-any-return]


def _loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(sock, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | _IFF_UP))


def _new_namespace() -> int:
    """A new network namespace with ``lo`` up; the returned descriptor keeps it alive."""

    def create() -> int:
        fd = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            _loopback_up()
        except OSError:
            os.close(fd)
            raise
        return fd

    return in_namespace(None, create)


@dataclass
class VmNetwork:
    """A VM's namespace (the descriptor holding it) and what connects it outside."""

    vm_id: str
    fd: int
    egress: Egress | None

    @property
    def path(self) -> str:
        """The namespace as a path to open (a run's thread, nsenter, slirp4netns)."""
        return f"/proc/{os.getpid()}/fd/{self.fd}"

    def close(self, linger_s: float = 0.0) -> None:
        """Stop egress now; close the namespace after ``linger_s`` (see ``Networks.drop``)."""
        if self.egress is not None:
            self.egress.close()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if linger_s > 0 and loop is not None:
            loop.call_later(linger_s, os.close, self.fd)
        else:
            os.close(self.fd)


class Networks:
    """The namespaces of one backend's VMs, created on first use."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._nets: dict[str, VmNetwork] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._guard = threading.Lock()

    async def enter(self, vm_id: str) -> str:
        """The path runs of ``vm_id`` start in (``spawn.py``), creating it if needed."""
        net = self._nets.get(vm_id)
        if net is not None:
            return net.path
        lock = self._locks.setdefault(vm_id, asyncio.Lock())
        async with lock:
            net = self._nets.get(vm_id)
            if net is None:
                plan = self._plan(vm_id)
                net = await asyncio.to_thread(self._create, vm_id, plan)
                if net.egress is not None:
                    try:
                        await net.egress.serve(self.backend.base_url)
                    except OSError:
                        log.exception("vm %s: no resolver or API relay in its namespace", vm_id)
                with self._guard:
                    self._nets[vm_id] = net
            return net.path

    def _plan(self, vm_id: str) -> EgressPlan:
        row = self.backend.db.one("SELECT network FROM vms WHERE vm_id = ?", (vm_id,))
        if row is None:
            raise RuntimeError(f"vm {vm_id} was deleted")
        policy = json.loads(row["network"]) if row["network"] else None
        if self.backend.fault("fork-network-ignored"):
            policy = None  # the policy is stored and read back, but runs get open egress
        return plan_egress(policy)

    def _create(self, vm_id: str, plan: EgressPlan) -> VmNetwork:
        fd = _new_namespace()
        net = VmNetwork(vm_id, fd, None)
        try:
            net.egress = start_egress(
                plan,
                net.path,
                lambda family, kind: self.socket_in_fd(fd, family, kind),
                self.backend.base_url,
            )
        except Exception:
            # fail closed: the VM keeps a namespace with loopback only
            log.exception("vm %s: egress could not be set up; it has no network out", vm_id)
        return net

    def socket_in_fd(
        self, fd: int, family: int = socket.AF_INET, kind: int = socket.SOCK_STREAM
    ) -> socket.socket:
        """A socket (TCP unless ``kind`` says otherwise) created in namespace ``fd``."""
        return in_namespace(fd, lambda: socket.socket(family, kind))

    def socket_in(self, vm_id: str, family: int = socket.AF_INET) -> socket.socket | None:
        """A TCP socket in ``vm_id``'s namespace; None while the VM has none yet."""
        with self._guard:  # a copy of the descriptor: ``drop`` may close it meanwhile
            net = self._nets.get(vm_id)
            fd = None if net is None else os.dup(net.fd)
        if fd is None:
            return None
        try:
            return self.socket_in_fd(fd, family)
        finally:
            os.close(fd)

    def drop(self, vm_id: str, linger_s: float = LINGER_S) -> None:
        """Close ``vm_id``'s namespace (its runs are gone: the VM is being deleted).

        Egress stops at once; the descriptor is closed ``linger_s`` later, so a path
        handed out just before (a run's thread opens it a moment later) cannot meanwhile
        name another VM's namespace under a reused descriptor number.
        """
        with self._guard:
            net = self._nets.pop(vm_id, None)
        self._locks.pop(vm_id, None)
        if net is not None:
            net.close(linger_s)

    def close_all(self) -> None:
        """Close every namespace (shutdown: no run is being started any more)."""
        for vm_id in list(self._nets):
            self.drop(vm_id, 0.0)


def networks_of(backend: Backend) -> Networks | None:
    """The backend's namespaces; None when runs share the host's network (``none`` mode)."""
    return backend.networks


async def namespace_path(backend: Backend, vm_id: str) -> str | None:
    """The namespace runs of ``vm_id`` join, or None without per-VM namespaces."""
    networks = networks_of(backend)
    return None if networks is None else await networks.enter(vm_id)


def install(backend: Backend) -> None:
    """Drop a VM's namespace when the VM is deleted."""

    def vm_deleted(vm_id: str) -> None:
        networks = networks_of(backend)
        if networks is not None:
            networks.drop(vm_id)

    backend.hooks.vm_deleted.append(vm_deleted)


async def start(backend: Backend) -> None:
    """Per-VM namespaces in ``bwrap`` mode; loud warnings where egress cannot work."""
    if backend.sandbox != "bwrap":
        log.warning(
            "sandbox %r: runs share the host's network (its 127.0.0.1, other VMs' ports); "
            "network policies are not enforced",
            backend.sandbox,
        )
        return
    # egress.py loads its rules with nsenter; runs do not need it
    missing = egress_tools_missing() + ([] if shutil.which("nsenter") else ["nsenter"])
    if missing:
        log.error(
            "%s missing: VMs get their own network namespace but no egress at all, whatever "
            "their policy (Debian packages slirp4netns, nftables, util-linux)",
            " and ".join(missing),
        )
    backend.networks = Networks(backend)


async def stop(backend: Backend) -> None:
    """Close every namespace (slirp4netns processes exit with them)."""
    networks = networks_of(backend)
    if networks is not None:
        networks.close_all()


def routes() -> list[Route]:
    """No routes of its own."""
    return []
