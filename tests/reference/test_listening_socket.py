"""The backend's accepted connections have Nagle off (no 40 ms keep-alive stalls)."""

from __future__ import annotations

import asyncio
import socket

from conformance.reference.server import listening_socket


async def nodelay_of_accepted_connection() -> int:
    seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn: socket.socket = writer.get_extra_info("socket")
        seen.set_result(conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(accepted, sock=listening_socket("127.0.0.1", 0))
    port = server.sockets[0].getsockname()[1]
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        return await asyncio.wait_for(seen, timeout=10)
    finally:
        writer.close()
        server.close()
        await server.wait_closed()


def test_accepted_connections_have_tcp_nodelay() -> None:
    assert asyncio.run(nodelay_of_accepted_connection()) != 0, (
        "TCP_NODELAY is off on accepted connections: keep-alive responses will wait "
        "for the client's delayed ACK"
    )
