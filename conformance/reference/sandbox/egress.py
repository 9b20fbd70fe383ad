"""What leaves a VM's network namespace: slirp4netns for the way out, nftables for the policy.

A VM whose network policy is ``blocked`` keeps a namespace with loopback only. Any
other gets ``slirp4netns`` (a user-mode TCP/IP stack: the VM sees ``tap0`` at
10.0.2.100/24, and every connection it makes is re-made by slirp4netns as an ordinary
socket of the host) with ``--disable-host-loopback`` (10.0.2.2 does not lead to the
host's 127.0.0.1), its own sandbox and seccomp filter. Its ``--exit-fd`` is a pipe
only the server holds, so it exits when the VM's namespace is closed — or the server
dies, whatever way. An nftables ruleset inside the namespace (the VM's runs have no
``CAP_NET_ADMIN`` to change it) then:

- drops traffic to the host's own addresses (services the host binds on them);
- ``allow``: accepts the listed CIDRs and the addresses of listed names, rejects the rest;
- ``block``: rejects the listed CIDRs and the addresses of listed names.

Host names are enforced twice. When the namespace is set up (the VM's first run) the
server resolves the names listed exactly and pins their IPv4 addresses. And with a
list, every DNS query of the VM goes to a resolver the server runs inside the namespace
(``dnsfilter.py``): it answers NXDOMAIN for a name the list forbids (wildcards
included) and, under an allow list, adds the addresses it hands out to the allowed set.
Not enforced: a literal address under a *wildcard* block entry, later DNS changes of a
pinned name, and addresses a name shares with others. Egress is IPv4 only.

The API itself stays reachable where egress is allowed, as on a hosted deployment: when
the server listens on a loopback address, a relay in the namespace at the same
``host:port`` forwards to it (nothing else of the host's loopback is reachable).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import os
import select
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .dnsfilter import DnsFilter

__all__ = ["Egress", "EgressPlan", "plan_egress", "ruleset", "start_egress"]

log = logging.getLogger("arker.reference")

READY_TIMEOUT_S = 5.0
RESOLVE_TIMEOUT_S = 2.0
SLIRP_HOST = "10.0.2.2"
SocketFactory = Callable[[int, int], socket.socket]  # (family, type) -> socket in the VM


@dataclass(frozen=True)
class EgressPlan:
    """The VM's policy reduced to what the namespace enforces.

    ``kind`` is ``blocked``, ``open``, ``allow`` or ``block``; ``networks`` the listed
    CIDRs, ``names`` the listed host names (wildcards included, see the module notes).
    """

    kind: str
    networks: tuple[str, ...] = ()
    names: tuple[str, ...] = ()

    def permits(self, address: str, pinned: tuple[str, ...] = ()) -> bool:
        """Whether traffic to ``address`` may leave (``pinned``: the names' addresses)."""
        if self.kind == "blocked":
            return False
        if self.kind == "open":
            return True
        ip = ipaddress.ip_address(address)
        listed = any(ip in ipaddress.ip_network(n, strict=False) for n in self.networks)
        listed = listed or address in pinned
        return listed if self.kind == "allow" else not listed


def plan_egress(policy: dict[str, Any] | None) -> EgressPlan:
    """The plan for a stored ``NetworkPolicy`` (None: no policy, open egress).

    Example: ``plan_egress({"type": "block", "block": ["10.0.0.0/8"]}).kind == "block"``.
    """
    kind = (policy or {}).get("type", "open")
    if kind not in ("allow", "block"):
        return EgressPlan("blocked" if kind == "blocked" else "open")
    networks, names = [], []
    for entry in (policy or {}).get(kind) or []:
        try:
            networks.append(str(ipaddress.ip_network(entry, strict=False)))
        except ValueError:
            names.append(str(entry).rstrip(".").lower())
    return EgressPlan(kind, tuple(networks), tuple(names))


def _resolve(names: tuple[str, ...]) -> tuple[str, ...]:
    """IPv4 addresses of ``names`` (wildcards skipped), bounded by ``RESOLVE_TIMEOUT_S``."""
    found: set[str] = set()

    def one(name: str) -> None:
        with contextlib.suppress(OSError, UnicodeError):
            for info in socket.getaddrinfo(name, None, socket.AF_INET, socket.SOCK_STREAM):
                found.add(str(info[4][0]))

    threads = []
    for name in names:
        if name.startswith("*."):
            log.info("egress entry %r: a wildcard is enforced by the resolver only", name)
            continue
        thread = threading.Thread(target=one, args=(name,), name="egress-resolve", daemon=True)
        thread.start()
        threads.append(thread)
    end = time.monotonic() + RESOLVE_TIMEOUT_S
    for thread in threads:
        thread.join(max(0.0, end - time.monotonic()))
    return tuple(sorted(found))


def host_addresses() -> tuple[str, ...]:
    """The host's own IPv4 addresses (``ip -j addr``), the slirp4netns host alias included."""
    found = {SLIRP_HOST}
    with contextlib.suppress(OSError, subprocess.SubprocessError, ValueError):
        out = subprocess.run(
            ["ip", "-j", "-4", "addr", "show"], capture_output=True, check=True, timeout=10
        ).stdout
        for link in json.loads(out):
            for addr in link.get("addr_info", []):
                local = addr.get("local")
                if addr.get("family") == "inet" and local and not local.startswith("127."):
                    found.add(str(local))
    return tuple(sorted(found))


def _elements(items: tuple[str, ...]) -> str:
    return f" elements = {{ {', '.join(items)} }};" if items else ""


def ruleset(
    plan: EgressPlan, pinned: tuple[str, ...], host: tuple[str, ...], api: tuple[str, int] | None
) -> str:
    """The nftables ruleset for ``plan`` (output hook of the VM's namespace).

    ``api``: the API's non-loopback ``(address, port)`` the VM may still reach.
    """
    listed = (
        tuple(
            n for n in plan.networks if isinstance(ipaddress.ip_network(n), ipaddress.IPv4Network)
        )
        + pinned
    )
    listing = plan.kind in ("allow", "block")
    lines = [
        "table ip arker {",
        f"  set host {{ type ipv4_addr; flags interval;{_elements(host)} }}",
        f"  set listed {{ type ipv4_addr; flags interval; auto-merge;{_elements(listed)} }}",
    ]
    if listing:  # every UDP query to the resolver in the namespace (dnsfilter.py)
        lines += ["  chain dns {", "    type nat hook output priority -100; policy accept;"]
        lines += ["    ip daddr != 127.0.0.0/8 udp dport 53 redirect to :53", "  }"]
    lines += ["  chain out {", "    type filter hook output priority 0; policy accept;"]
    # 127/8 never leaves the namespace; a redirected DNS query still shows its old oif
    lines += ['    oif "lo" accept', "    ip daddr 127.0.0.0/8 accept"]
    if api is not None:
        lines.append(f"    ip daddr {api[0]} tcp dport {api[1]} accept")
    lines.append("    ip daddr @host reject with icmp type admin-prohibited")
    if listing:
        lines.append("    tcp dport 53 reject with icmp type admin-prohibited")
    if plan.kind == "allow":
        lines += ["    ip daddr @listed accept", "    reject with icmp type admin-prohibited"]
    elif plan.kind == "block":
        lines.append("    ip daddr @listed reject with icmp type admin-prohibited")
    lines += ["  }", "}", "table ip6 arker6 {", "  chain out {"]
    lines += ["    type filter hook output priority 0; policy accept;", '    oif "lo" accept']
    lines += ["    reject", "  }", "}"]
    return "\n".join(lines) + "\n"


def _api_endpoint(base_url: str | None) -> tuple[str, int] | None:
    """The API's ``(address, port)`` when ``base_url`` names an IP literal, else None."""
    parts = urlsplit(base_url or "")
    if parts.hostname is None or parts.port is None:
        return None
    try:
        return str(ipaddress.ip_address(parts.hostname)), parts.port
    except ValueError:
        return None


@dataclass
class Egress:
    """slirp4netns attached to a VM's namespace, and the relay to the API."""

    plan: EgressPlan
    pinned: tuple[str, ...]
    proc: subprocess.Popen[bytes]
    exit_w: int
    make_socket: SocketFactory
    ns_path: str
    relay: asyncio.AbstractServer | None = None
    resolver: DnsFilter | None = None

    async def serve(self, base_url: str | None) -> None:
        """Start what the server answers inside the namespace: the resolver, the relay."""
        if self.plan.kind in ("allow", "block"):
            sock = self.make_socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                sock.bind(("127.0.0.1", 53))
                sock.setblocking(False)
            except OSError:
                sock.close()
                raise
            resolver = DnsFilter(self.plan.kind, self.plan.names, self.ns_path)
            await asyncio.get_running_loop().create_datagram_endpoint(lambda: resolver, sock=sock)
            self.resolver = resolver
        await self._start_relay(base_url)

    async def _start_relay(self, base_url: str | None) -> None:
        """Forward the API's loopback ``host:port`` inside the namespace to the API."""
        api = _api_endpoint(base_url)
        if api is None or not ipaddress.ip_address(api[0]).is_loopback:
            return  # a non-loopback API is let through by the ruleset instead
        if not self.plan.permits(api[0], self.pinned):
            return
        family = socket.AF_INET6 if ":" in api[0] else socket.AF_INET
        listener = self.make_socket(family, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(api)
            listener.listen(64)
            listener.setblocking(False)
        except OSError:
            listener.close()
            raise
        self.relay = await asyncio.start_server(
            lambda r, w: _relay(r, w, api), sock=listener, limit=1 << 16
        )

    def close(self) -> None:
        """Stop the relay and slirp4netns (closing its exit pipe), and reap it."""
        if self.relay is not None:
            self.relay.close()
        if self.resolver is not None:
            self.resolver.close()
        with contextlib.suppress(OSError):
            os.close(self.exit_w)
        proc = self.proc
        threading.Thread(target=_reap, args=(proc,), name="slirp-reap", daemon=True).start()


def _reap(proc: subprocess.Popen[bytes]) -> None:
    try:
        proc.wait(timeout=READY_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy until end of stream, then pass the half-close on (the other way goes on)."""
    with contextlib.suppress(OSError, RuntimeError):
        while chunk := await reader.read(1 << 16):
            writer.write(chunk)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()


async def _relay(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, api: tuple[str, int]
) -> None:
    try:
        up_reader, up_writer = await asyncio.open_connection(*api)
    except OSError:
        writer.close()
        return
    try:
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
    finally:
        for each in (writer, up_writer):
            each.close()


def _slirp(ns_path: str) -> tuple[subprocess.Popen[bytes], int]:
    """Start slirp4netns on ``ns_path``; return it and its exit pipe's write end, once ready."""
    ready_r, ready_w = os.pipe()
    exit_r, exit_w = os.pipe()
    argv = ["slirp4netns", "--configure", "--mtu=65520", "--disable-host-loopback"]
    argv += ["--enable-sandbox", "--enable-seccomp", "--netns-type=path"]
    argv += ["--ready-fd", str(ready_w), "--exit-fd", str(exit_r), ns_path, "tap0"]
    try:
        proc = subprocess.Popen(
            argv,
            pass_fds=(ready_w, exit_r),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except OSError:
        for fd in (ready_r, ready_w, exit_r, exit_w):
            os.close(fd)
        raise
    os.close(ready_w)
    os.close(exit_r)
    try:
        readable, _, _ = select.select([ready_r], [], [], READY_TIMEOUT_S)
        if not readable or os.read(ready_r, 1) != b"1":
            raise RuntimeError(f"slirp4netns was not ready within {READY_TIMEOUT_S:g} s")
    except BaseException:
        os.close(exit_w)
        proc.kill()
        proc.wait()
        raise
    finally:
        os.close(ready_r)
    return proc, exit_w


def _apply(ns_path: str, rules: str) -> None:
    subprocess.run(
        ["nsenter", f"--net={ns_path}", "nft", "-f", "-"],
        input=rules.encode(),
        capture_output=True,
        check=True,
        timeout=10,
    )


def egress_tools_missing() -> list[str]:
    """The tools egress needs that are not installed (slirp4netns, nft)."""
    return [tool for tool in ("slirp4netns", "nft") if shutil.which(tool) is None]


def start_egress(
    plan: EgressPlan, ns_path: str, make_socket: SocketFactory, base_url: str | None = None
) -> Egress | None:
    """Connect the namespace at ``ns_path`` outside per ``plan`` (None when ``blocked``).

    The ruleset is in place before slirp4netns starts, so nothing leaves unfiltered.
    Raises when a tool is missing or fails: the caller leaves the VM without egress.
    """
    if plan.kind == "blocked":
        return None
    missing = egress_tools_missing()
    if missing:
        raise RuntimeError(f"egress needs {', '.join(missing)} (Debian: slirp4netns, nftables)")
    pinned = _resolve(plan.names)
    api = _api_endpoint(base_url)
    if api is not None and (ipaddress.ip_address(api[0]).is_loopback or ":" in api[0]):
        api = None  # loopback: reached through the relay instead (and egress is IPv4 only)
    _apply(ns_path, ruleset(plan, pinned, host_addresses(), api))
    proc, exit_w = _slirp(ns_path)
    return Egress(plan, pinned, proc, exit_w, make_socket, ns_path)
