"""The resolver inside a VM's namespace that enforces host names of an allow / block list.

For a VM with an ``allow`` or ``block`` list, the namespace's ruleset redirects every
UDP query to port 53 to ``127.0.0.1:53`` of the namespace, where the server listens
(a socket it made there). A query for a name the policy forbids — not matching an allow
entry, or matching a block entry; ``*.example.com`` matches every name under
``example.com``, not ``example.com`` itself — is answered NXDOMAIN. Others are
forwarded to the host's resolver; under an allow list the IPv4 addresses of the answer
are added to the namespace's allowed set before the answer is handed back, so the
connection that follows goes through. TCP to port 53 is rejected by the ruleset.

Not enforced: an address reached without asking the resolver (a literal IP) of a
*wildcard* block entry (names listed exactly are also pinned when the namespace is made,
see ``egress.py``), and addresses a name shares with other names.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import typing
from pathlib import Path

__all__ = ["DnsFilter", "a_records", "name_matches", "question", "refusal", "upstream_resolver"]

log = logging.getLogger("arker.reference")

UPSTREAM_TIMEOUT_S = 2.0
UPSTREAM_PORT = 53
MAX_IN_FLIGHT = 16  # per VM; queries beyond are dropped (the client retries)
MAX_LEARNED = 4096  # addresses an allow list may learn through the resolver


def question(packet: bytes) -> tuple[str, int] | None:
    """The query's name (lower case, no final dot) and where its question ends; None if
    it is not one plain question."""
    if len(packet) < 12 or int.from_bytes(packet[4:6], "big") != 1:
        return None
    labels: list[bytes] = []
    i = 12
    while i < len(packet) and packet[i] != 0:
        size = packet[i]
        if size & 0xC0 or i + 1 + size > len(packet) or len(labels) >= 127:
            return None
        labels.append(packet[i + 1 : i + 1 + size])
        i += 1 + size
    if i + 5 > len(packet):
        return None
    name = b".".join(labels).decode("ascii", errors="replace").lower()
    return name, i + 5


def _skip_name(packet: bytes, i: int) -> int:
    while i < len(packet):
        size = packet[i]
        if size == 0:
            return i + 1
        if size & 0xC0 == 0xC0:
            return i + 2
        i += 1 + size
    raise ValueError("truncated name")


def a_records(packet: bytes) -> list[str]:
    """IPv4 addresses in the answer section of a DNS response (malformed: what was read)."""
    found: list[str] = []
    with contextlib.suppress(ValueError, IndexError):
        questions = int.from_bytes(packet[4:6], "big")
        answers = int.from_bytes(packet[6:8], "big")
        i = 12
        for _ in range(questions):
            i = _skip_name(packet, i) + 4
        for _ in range(answers):
            i = _skip_name(packet, i)
            rtype, rclass = packet[i : i + 2], packet[i + 2 : i + 4]
            length = int.from_bytes(packet[i + 8 : i + 10], "big")
            data = packet[i + 10 : i + 10 + length]
            if rtype == b"\x00\x01" and rclass == b"\x00\x01" and len(data) == 4:
                found.append(str(ipaddress.IPv4Address(data)))
            i += 10 + length
    return found


def refusal(query: bytes, end: int) -> bytes:
    """An NXDOMAIN answer to ``query`` (whose question ends at ``end``)."""
    flags = int.from_bytes(query[2:4], "big")
    flags = 0x8000 | (flags & 0x7900) | 0x0080 | 3  # QR, opcode + RD kept, RA, NXDOMAIN
    return query[:2] + flags.to_bytes(2, "big") + b"\x00\x01" + b"\x00" * 6 + query[12:end]


def name_matches(name: str, entries: tuple[str, ...]) -> bool:
    """Whether ``name`` is one of ``entries`` or under a wildcard entry (``*.example.com``)."""
    for entry in entries:
        if entry.startswith("*.") and name.endswith(entry[1:]):
            return True
        if name == entry:
            return True
    return False


def upstream_resolver(resolv_conf: Path = Path("/etc/resolv.conf")) -> str | None:
    """The host's first IPv4 nameserver (queries are forwarded from the host's network)."""
    with contextlib.suppress(OSError):
        for line in resolv_conf.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "nameserver":
                with contextlib.suppress(ValueError):
                    if ipaddress.ip_address(parts[1]).version == 4:
                        return parts[1]
    return None


class _Answer(asyncio.DatagramProtocol):
    def __init__(self, future: asyncio.Future[bytes]) -> None:
        self.future = future

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        if not self.future.done():
            self.future.set_result(data)


class DnsFilter(asyncio.DatagramProtocol):
    """Answers the namespace's DNS queries per the policy (see the module notes)."""

    def __init__(self, kind: str, names: tuple[str, ...], ns_path: str) -> None:
        self.kind = kind
        self.names = names
        self.ns_path = ns_path
        self.upstream = upstream_resolver()
        self.learned: set[str] = set()
        self.transport: asyncio.DatagramTransport | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # the selector loop's datagram transport does not subclass DatagramTransport
        self.transport = typing.cast(asyncio.DatagramTransport, transport)

    def permits(self, name: str) -> bool:
        """Whether the policy lets ``name`` be resolved."""
        listed = name_matches(name, self.names)
        return listed if self.kind == "allow" else not listed

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        if len(self.tasks) >= MAX_IN_FLIGHT:
            return
        task = asyncio.get_running_loop().create_task(self._answer(data, addr))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _answer(self, query: bytes, addr: tuple[str | int, ...]) -> None:
        asked = question(query)
        if asked is None or self.transport is None:
            return
        name, end = asked
        if not self.permits(name):
            self.transport.sendto(refusal(query, end), addr)
            return
        answer = await self._forward(query)
        if answer is None:
            return
        if self.kind == "allow":
            await self._learn(a_records(answer))
        if not self.transport.is_closing():
            self.transport.sendto(answer, addr)

    async def _forward(self, query: bytes) -> bytes | None:
        if self.upstream is None:
            return None
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bytes] = loop.create_future()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Answer(future), remote_addr=(self.upstream, UPSTREAM_PORT)
        )
        try:
            transport.sendto(query)
            return await asyncio.wait_for(future, UPSTREAM_TIMEOUT_S)
        except TimeoutError:
            return None
        finally:
            transport.close()

    async def _learn(self, addresses: list[str]) -> None:
        new = [a for a in addresses if a not in self.learned]
        if not new or len(self.learned) + len(new) > MAX_LEARNED:
            return
        proc = await asyncio.create_subprocess_exec(
            "nsenter",
            f"--net={self.ns_path}",
            "nft",
            "add",
            "element",
            "ip",
            "arker",
            "listed",
            "{ " + ", ".join(new) + " }",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        if await proc.wait() == 0:
            self.learned.update(new)
        else:
            log.warning("could not allow %s in namespace %s", new, self.ns_path)

    def close(self) -> None:
        """Stop answering."""
        if self.transport is not None:
            self.transport.close()
        for task in list(self.tasks):
            task.cancel()
