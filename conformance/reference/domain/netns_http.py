"""An httpx transport whose TCP connections are made inside a VM's network namespace.

The tunnel proxy forwards to ``127.0.0.1:<port>`` *of the VM*, which the host's loopback
is not. httpcore lets a connection pool take a network backend: this one gets its socket
from ``Networks.socket_in`` (created by a thread that entered the namespace), connects it
from the event loop and hands it to anyio as a stream.
"""

from __future__ import annotations

import asyncio
import socket
import typing

import anyio
import anyio.abc
import httpcore
import httpx

from .netns import Networks

__all__ = ["namespace_transport"]


class _Stream(httpcore.AsyncNetworkStream):
    def __init__(self, stream: anyio.abc.SocketStream) -> None:
        self._stream = stream

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        with anyio.fail_after(timeout):
            try:
                return await self._stream.receive(max_bytes)
            except (anyio.EndOfStream, anyio.ClosedResourceError):
                return b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if buffer:
            with anyio.fail_after(timeout):
                await self._stream.send(buffer)

    async def aclose(self) -> None:
        await self._stream.aclose()

    def get_extra_info(self, info: str) -> typing.Any:
        return None


class _NamespaceBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, networks: Networks, vm_id: str) -> None:
        self._networks = networks
        self._vm_id = vm_id

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = self._networks.socket_in(self._vm_id, family)
        if sock is None:
            raise httpcore.ConnectError(f"vm {self._vm_id} has no network namespace yet")
        try:
            sock.setblocking(False)
            connect = asyncio.get_running_loop().sock_connect(sock, (host, port))
            await asyncio.wait_for(connect, timeout)
            stream = await anyio.abc.SocketStream.from_socket(sock)
        except (OSError, TimeoutError) as exc:
            sock.close()
            raise httpcore.ConnectError(str(exc)) from exc
        return _Stream(stream)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not forwarded into a VM")

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)


def namespace_transport(networks: Networks, vm_id: str) -> httpx.AsyncHTTPTransport:
    """An ``AsyncHTTPTransport`` connecting inside ``vm_id``'s namespace.

    httpx has no public way to give its transport a network backend, so the transport's
    pool is replaced by one built with ours (the pool is what ``handle_async_request``
    uses; everything else of the transport is unchanged).

    Example: ``httpx.AsyncClient(transport=namespace_transport(networks, vm_id))``.
    """
    transport = httpx.AsyncHTTPTransport()
    transport._pool = httpcore.AsyncConnectionPool(
        network_backend=_NamespaceBackend(networks, vm_id)
    )
    return transport
