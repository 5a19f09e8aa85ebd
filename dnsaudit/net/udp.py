"""A pool of long-lived UDP sockets per nameserver, answers matched to queries by ID.

dnspython's ``udp_with_fallback`` opens and closes a socket for every query; at tens of
thousands of questions per run that was half of the run's CPU. Here each nameserver gets a
few connected sockets, opened once, each with its own random source port; a query takes a
random socket and a random unused 16-bit ID, and the reply must come from the nameserver
(the socket is connected), echo the question, be readable and be no larger than the size the
query advertised; anything else is ignored while the wait goes on. Truncated
replies are asked again over TCP. Several sockets keep source-port entropy in the ID
space an off-path spoofer has to guess. Queries and replies are bytes (``dnsaudit.net.wire``).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import socket
from collections.abc import Callable
from typing import Any, cast

import dns.exception

from dnsaudit.net.wire import MalformedReply, Question, parse_reply

SOCKETS_PER_SERVER = 8
RECEIVE_BUFFER = 4 * 1024 * 1024
EDNS_PAYLOAD = 1232  # the DNS flag day 2020 size, which avoids IP fragmentation
PLAIN_PAYLOAD = 512  # the UDP limit without EDNS (RFC 1035 section 4.2.1)


class _Waiting:
    """One query's wait: the future the next datagram for its ID completes, and datagrams that
    came while the previous one was still being read (a forgery right before the real reply)."""

    __slots__ = ("future", "backlog")

    def __init__(self, future: asyncio.Future[bytes]) -> None:
        self.future = future
        self.backlog: list[bytes] = []


BACKLOG = 8  # datagrams kept per query while one is being read; more are a flood and dropped


class _Socket(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: dict[int, _Waiting] = {}
        self.error: Exception | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # create_datagram_endpoint hands a datagram transport (sendto), though CPython's selector
        # transport does not subclass asyncio.DatagramTransport: an isinstance check would refuse it.
        self.transport = cast(asyncio.DatagramTransport, transport)
        sock = transport.get_extra_info("socket")
        with contextlib.suppress(OSError):  # a burst of answers while the loop is busy must not be dropped
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)

    def datagram_received(self, data: bytes, addr: object) -> None:
        if len(data) >= 2:
            waiting = self.pending.get(int.from_bytes(data[:2], "big"))
            if waiting is None:
                return
            if not waiting.future.done():
                waiting.future.set_result(data)
            elif len(waiting.backlog) < BACKLOG:
                waiting.backlog.append(data)

    def error_received(self, exc: Exception) -> None:  # ICMP port unreachable and the like
        for waiting in self.pending.values():
            if not waiting.future.done():
                waiting.future.set_exception(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


def _expire(pending: dict[int, _Waiting], query_id: int) -> None:
    waiting = pending.get(query_id)
    if waiting is not None and not waiting.future.done():
        waiting.future.set_exception(TimeoutError())


class UdpPool:
    """Send a query to one nameserver and wait for its matching reply."""

    def __init__(self, address: str, port: int) -> None:
        self.address, self.port = address, port
        self._sockets: list[_Socket] = []
        self._opening: asyncio.Lock | None = None
        self._random = random.Random(secrets.randbits(64))

    async def _socket(self) -> _Socket:
        if self._sockets:  # the usual case: open already
            sock = self._random.choice(self._sockets)
            if sock.transport is not None:
                return sock
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

    async def ask(self, question: Question, timeout: float, edns: bool = True, *,
                  reader: Callable[[bytes, int, Question], Any] = parse_reply, dnssec: bool = False) -> Any:
        """Ask ``question`` (with EDNS unless told not to); raises dns.exception.Timeout,
        MalformedReply or OSError. The reply is what ``reader`` makes of it (``parse_reply``: a
        Reply); ``dnssec`` sets the DO and CD bits (``net.dnssec``, with its own reader)."""
        payload = EDNS_PAYLOAD if edns else None
        sock = await self._socket()
        transport = sock.transport
        if transport is None:  # closed since _socket() chose it
            raise OSError(f"the UDP socket to {self.address} port {self.port} was closed")
        query_id = self._random.getrandbits(16)
        while query_id in sock.pending:
            query_id = self._random.getrandbits(16)
        loop = asyncio.get_running_loop()
        waiting = sock.pending[query_id] = _Waiting(loop.create_future())
        # One timer for the whole wait (cheaper than a timeout context per query): it fails
        # whichever future is current for this ID when the time is up.
        timer = loop.call_later(timeout, _expire, sock.pending, query_id)
        limit = payload or PLAIN_PAYLOAD
        unreadable: MalformedReply | None = None
        try:
            transport.sendto(question.query(query_id, payload, dnssec))
            data = await waiting.future
            while True:
                # Not ours (another question), unreadable or larger than we allowed (a forgery,
                # or a broken middlebox): keep listening until the timeout, as resolvers do, so
                # one bad datagram cannot hide the real reply right behind it.
                reply = None
                try:
                    if len(data) > limit:
                        raise MalformedReply(f"a {len(data)}-byte UDP reply to a query that allowed {limit} bytes")
                    reply = reader(data, query_id, question)
                except MalformedReply as exc:
                    unreadable = exc
                if reply is not None:
                    break
                if waiting.backlog:
                    data = waiting.backlog.pop(0)
                    continue
                if loop.time() >= timer.when():  # the timer fired while this datagram was read
                    raise TimeoutError
                waiting.future = loop.create_future()
                data = await waiting.future
        except TimeoutError:
            if unreadable is not None:
                raise unreadable from None
            raise dns.exception.Timeout from None
        finally:
            timer.cancel()
            sock.pending.pop(query_id, None)
        if reply.truncated:
            try:
                async with asyncio.timeout(timeout):
                    return await self._ask_tcp(question, query_id, payload, reader, dnssec)
            except TimeoutError:
                raise dns.exception.Timeout from None
        return reply

    async def _ask_tcp(self, question: Question, query_id: int, payload: int | None,
                       read: Callable[[bytes, int, Question], Any], dnssec: bool) -> Any:
        """The same question over TCP (RFC 7766), for a truncated UDP reply."""
        reader, writer = await asyncio.open_connection(self.address, self.port)
        try:
            query = question.query(query_id, payload, dnssec)
            writer.write(len(query).to_bytes(2, "big") + query)
            await writer.drain()
            length = int.from_bytes(await reader.readexactly(2), "big")
            reply = read(await reader.readexactly(length), query_id, question)
        except asyncio.IncompleteReadError:
            raise MalformedReply("the TCP connection closed before the reply was complete") from None
        finally:
            writer.close()
        if reply is None or reply.truncated:
            raise MalformedReply("the TCP reply does not answer the question")
        return reply

    def close(self) -> None:
        for sock in self._sockets:
            if sock.transport is not None:
                sock.transport.close()
        self._sockets.clear()
