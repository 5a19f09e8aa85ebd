"""A pool of long-lived UDP sockets per nameserver, answers matched to queries by ID.

dnspython's ``udp_with_fallback`` opens and closes a socket for every query; at tens of
thousands of questions per run that was half of the run's CPU. Here each nameserver gets a
few connected sockets, opened once, each with its own random source port; a query takes a
random socket and a random unused 16-bit ID, and the reply must come from the nameserver
(the socket is connected) and match the question (``Message.is_response``). Truncated
replies are asked again over TCP. Several sockets keep source-port entropy in the ID
space an off-path spoofer has to guess.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import socket

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message

SOCKETS_PER_SERVER = 8
RECEIVE_BUFFER = 4 * 1024 * 1024


class _Socket(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: dict[int, asyncio.Future[bytes]] = {}
        self.error: Exception | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        sock = transport.get_extra_info("socket")
        with contextlib.suppress(OSError):  # a burst of answers while the loop is busy must not be dropped
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)

    def datagram_received(self, data: bytes, addr) -> None:
        if len(data) >= 2:
            waiter = self.pending.get(int.from_bytes(data[:2], "big"))
            if waiter is not None and not waiter.done():
                waiter.set_result(data)

    def error_received(self, exc: Exception) -> None:  # ICMP port unreachable and the like
        for waiter in self.pending.values():
            if not waiter.done():
                waiter.set_exception(exc)

    def connection_lost(self, exc) -> None:
        self.transport = None


class UdpPool:
    """Send a query to one nameserver and wait for its matching reply."""

    def __init__(self, address: str, port: int) -> None:
        self.address, self.port = address, port
        self._sockets: list[_Socket] = []
        self._opening: asyncio.Lock | None = None
        self._random = random.Random(secrets.randbits(64))

    async def _socket(self) -> _Socket:
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if not self._sockets:
                loop = asyncio.get_running_loop()
                for _ in range(SOCKETS_PER_SERVER):
                    _transport, protocol = await loop.create_datagram_endpoint(
                        _Socket, remote_addr=(self.address, self.port))
                    self._sockets.append(protocol)
        alive = [s for s in self._sockets if s.transport is not None]
        if not alive:
            self._sockets.clear()
            return await self._socket()
        return self._random.choice(alive)

    async def ask(self, query: dns.message.Message, timeout: float) -> dns.message.Message:
        sock = await self._socket()
        query_id = self._random.getrandbits(16)
        while query_id in sock.pending:
            query_id = self._random.getrandbits(16)
        query.id = query_id
        waiter = asyncio.get_running_loop().create_future()
        sock.pending[query_id] = waiter
        try:
            sock.transport.sendto(query.to_wire())
            async with asyncio.timeout(timeout):
                while True:
                    data = await waiter
                    try:
                        response = dns.message.from_wire(data)
                    except dns.exception.DNSException:
                        response = None
                    if response is not None and query.is_response(response):
                        break
                    waiter = asyncio.get_running_loop().create_future()  # not ours: keep listening
                    sock.pending[query_id] = waiter
        except TimeoutError:
            raise dns.exception.Timeout from None
        finally:
            sock.pending.pop(query_id, None)
        if response.flags & dns.flags.TC:
            return await dns.asyncquery.tcp(query, self.address, timeout=timeout, port=self.port)
        return response

    def close(self) -> None:
        for sock in self._sockets:
            if sock.transport is not None:
                sock.transport.close()
        self._sockets.clear()
