"""The resolver in a VM's namespace: forbidden names get NXDOMAIN, allowed ones an answer
whose addresses the allow list learns (a fake upstream stands in for the host's)."""

from __future__ import annotations

import asyncio
import ipaddress
import typing
from typing import Any

import pytest

from conformance.reference.sandbox import dnsfilter
from conformance.reference.sandbox.dnsfilter import DnsFilter, a_records, name_matches, question


def query(name: str, txid: bytes = b"\xab\xcd") -> bytes:
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split("."))
    return txid + b"\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + labels + b"\x00\x00\x01\x00\x01"


def answer(request: bytes, address: str) -> bytes:
    """A response to ``request`` with one A record (its name compressed to the question)."""
    header = request[:2] + b"\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00"
    record = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04"
    return header + request[12:] + record + ipaddress.IPv4Address(address).packed


def test_wildcards_match_names_under_them_not_the_name_itself() -> None:
    entries = ("*.example.com", "exact.org")
    assert name_matches("a.b.example.com", entries) and name_matches("exact.org", entries)
    assert not name_matches("example.com", entries)
    assert not name_matches("badexample.com", entries)
    assert not name_matches("sub.exact.org", entries)


def test_questions_and_answers_are_parsed() -> None:
    asked = query("Api.Example.COM")
    assert question(asked) == ("api.example.com", len(asked))
    assert question(asked[:15]) is None  # truncated
    assert a_records(answer(asked, "203.0.113.9")) == ["203.0.113.9"]


class Client(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.replies: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.replies.put_nowait(data)


class FakeUpstream(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.asked: list[str] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # the selector loop's datagram transport does not subclass DatagramTransport
        self.transport = typing.cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        parsed = question(data)
        assert parsed is not None and self.transport is not None
        self.asked.append(parsed[0])
        self.transport.sendto(answer(data, "203.0.113.9"), addr)


async def _exchange(kind: str, names: tuple[str, ...], asked: str) -> tuple[bytes, list[str], Any]:
    loop = asyncio.get_running_loop()
    up_transport, upstream = await loop.create_datagram_endpoint(
        FakeUpstream, local_addr=("127.0.0.1", 0)
    )
    learned: list[list[str]] = []
    resolver = DnsFilter(kind, names, "/nonexistent")
    resolver.upstream = "127.0.0.1"

    async def learn(addresses: list[str]) -> None:
        learned.append(addresses)

    resolver._learn = learn  # type: ignore[method-assign]
    port = up_transport.get_extra_info("sockname")[1]
    dnsfilter_port = dnsfilter.UPSTREAM_PORT
    dnsfilter.UPSTREAM_PORT = port
    server, _ = await loop.create_datagram_endpoint(lambda: resolver, local_addr=("127.0.0.1", 0))
    client_transport, client = await loop.create_datagram_endpoint(
        Client, remote_addr=server.get_extra_info("sockname")
    )
    try:
        client_transport.sendto(query(asked))
        reply = await asyncio.wait_for(client.replies.get(), 5)
    finally:
        dnsfilter.UPSTREAM_PORT = dnsfilter_port
        for transport in (client_transport, server, up_transport):
            transport.close()
    return reply, upstream.asked, learned


@pytest.mark.parametrize(
    ("kind", "names", "asked"),
    [
        ("allow", ("*.allowed.test",), "evil.test"),
        ("block", ("*.blocked.test",), "x.blocked.test"),
        ("block", ("blocked.test",), "blocked.test"),
    ],
)
def test_a_forbidden_name_is_answered_nxdomain_without_asking_upstream(
    kind: str, names: tuple[str, ...], asked: str
) -> None:
    reply, upstream_asked, learned = asyncio.run(_exchange(kind, names, asked))
    assert reply[:2] == b"\xab\xcd" and reply[3] & 0x0F == 3, reply.hex()  # NXDOMAIN
    assert upstream_asked == [] and learned == []


def test_an_allowed_name_is_forwarded_and_its_addresses_are_learned() -> None:
    reply, upstream_asked, learned = asyncio.run(_exchange("allow", ("*.ok.test",), "a.ok.test"))
    assert a_records(reply) == ["203.0.113.9"]
    assert upstream_asked == ["a.ok.test"] and learned == [["203.0.113.9"]]


def test_under_a_block_list_other_names_resolve_and_nothing_is_learned() -> None:
    reply, upstream_asked, learned = asyncio.run(_exchange("block", ("*.bad.test",), "good.test"))
    assert a_records(reply) == ["203.0.113.9"] and upstream_asked == ["good.test"]
    assert learned == []
