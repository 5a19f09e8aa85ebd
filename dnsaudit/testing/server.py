"""Test helpers for dnsaudit and for plugin authors: a real DNS server serving zone files.

``ZoneServer`` listens on UDP and TCP on 127.0.0.1 (an ephemeral port by default) and
answers like a recursive resolver whose view of the world is the zones it was given:
CNAME chains are followed across zones, wildcards (RFC 4592) and empty non-terminals are
honoured, NXDOMAIN and NODATA are told apart. Names under no zone are REFUSED. Faults can
be injected per name suffix (``timeout``, ``servfail``, ``refused``, ``nxdomain``: a resolver
that denies what exists, and ``no-edns``: FORMERR to queries with EDNS, as very old servers
do) so tests can show that one broken domain does not affect another. Signed zones
(``dns.dnssec.sign_zone``) are served with their RRSIGs to queries with the DO bit, and a DS
at a zone's apex comes from its parent zone when that is served too;
``serve_signatures=False`` plays a resolver that strips DNSSEC records.

The server runs in a process of its own, so a test's own work never holds up its answers. In
the test's process it shared the interpreter lock with the audit under test, and a run busy in
Python now and then saw a flood of timeouts that were the server's, not dnsaudit's (a report
test run of 84 domains: 66 "could not assess"). Changes made after ``start()``
(``add_zone_text``, ``set_fault``, ``add_raw_record``, ``delay``, ``serve_signatures``) go to
the running server; ``queries`` and ``count()`` ask it.

    with ZoneServer.from_directory("tests/zones") as server:
        client = DnsClient([Nameserver("127.0.0.1", server.port)])
"""

from __future__ import annotations

import contextlib
import heapq
import os
import pickle
import select
import signal
import socket
import socketserver
import struct
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.zone

from dnsaudit.zones import ZoneSet, origin_for, zone_from_text

FAULTS = ("timeout", "servfail", "refused", "no-edns", "nxdomain")


def load_zone(path: Path, origin: str | None = None) -> dns.zone.Zone:
    """Load a master-format zone file; the origin defaults to the file name less ``.zone``."""
    text = path.read_text(encoding="utf-8")
    return zone_from_text(text, origin or origin_for(path, text), filename=str(path))


class ZoneServer:
    """Serve zones over UDP and TCP on loopback until stopped (also a context manager)."""

    def __init__(self, zones: Iterable[dns.zone.Zone] = (), *, host: str = "127.0.0.1", delay: float = 0.0,
                 serve_signatures: bool = True) -> None:
        self.zone_set = ZoneSet()
        for zone in zones:
            self.zone_set.add(zone, str(zone.origin))
        self.faults: dict[tuple[dns.name.Name, int | None], str] = {}  # (suffix, type or any) -> kind
        self.raw_records: dict[tuple[dns.name.Name, int], list[bytes]] = {}  # see add_raw_record
        self.host = host
        # Signed zones (dns.dnssec.sign_zone): RRSIGs go with the answer when the query sets the
        # DO bit. False plays a resolver that strips DNSSEC records.
        self._serve_signatures = serve_signatures
        self._delay = delay
        self.port = 0
        self._queries: list[tuple[str, str, str]] = []  # (transport, name, type), where it answers
        self._lock = threading.Lock()
        self._servers: list[socketserver.BaseServer] = []
        self._udp: _UDPLoop | None = None
        self._control: _Channel | None = None  # to the server's process, once started
        self._process: subprocess.Popen[bytes] | None = None

    @classmethod
    def from_directory(cls, directory: str | Path, *, host: str = "127.0.0.1", delay: float = 0.0) -> ZoneServer:
        zones = [load_zone(p) for p in sorted(Path(directory).glob("*.zone"))]
        return cls(zones, host=host, delay=delay)

    def add_zone_text(self, origin: str, text: str) -> None:
        """Add a zone, or replace it (tests edit zones between runs)."""
        zone = zone_from_text(text, origin)
        assert zone.origin is not None
        self.zone_set.zones[zone.origin] = zone
        self._tell("add_zone_text", origin, text)

    def set_fault(self, suffix: str, kind: str | None, rdtype: str | None = None) -> None:
        """Make every name at or under ``suffix`` time out, SERVFAIL or be refused; with
        ``rdtype``, only that one name's questions of that type (one broken record, the rest
        of the zone fine)."""
        key = (dns.name.from_text(suffix), dns.rdatatype.from_text(rdtype) if rdtype else None)
        if kind is None:
            self.faults.pop(key, None)
        elif kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; use one of {FAULTS}")
        else:
            self.faults[key] = kind
        self._tell("set_fault", suffix, kind, rdtype)

    def add_raw_record(self, name: str, rdtype: str, rdata: bytes, ttl: int = 300) -> None:
        """Append a record to the answers for ``name``/``rdtype`` in wire form, rdata as given:
        for what the wild holds and dnspython will not build (a TXT record of rdlength 0). The
        answer is then sent without EDNS, so that its answer section ends the message."""
        key = (dns.name.from_text(name), dns.rdatatype.from_text(rdtype))
        self.raw_records.setdefault(key, []).append(struct.pack("!HHIH", key[1], 1, ttl, len(rdata)) + rdata)
        self._tell("add_raw_record", name, rdtype, rdata, ttl)

    @property
    def delay(self) -> float:
        """Seconds each answer waits before it is sent (a slow resolver)."""
        return self._delay

    @delay.setter
    def delay(self, seconds: float) -> None:
        self._delay = seconds
        self._tell("set", "_delay", seconds)

    @property
    def serve_signatures(self) -> bool:
        return self._serve_signatures

    @serve_signatures.setter
    def serve_signatures(self, serve: bool) -> None:
        self._serve_signatures = serve
        self._tell("set", "_serve_signatures", serve)

    @property
    def queries(self) -> list[tuple[str, str, str]]:
        """Every question that reached the server so far, in order: (transport, name, type)."""
        if self._control is not None:
            asked: list[tuple[str, str, str]] = self._ask("queries")
            return asked
        with self._lock:
            return list(self._queries)

    def count(self, name: str, rdtype: str) -> int:
        """How many times a question reached this server (any transport)."""
        wanted = (name.lower().rstrip(".") + ".", rdtype.upper())
        return sum(1 for _t, n, t in self.queries if (n, t) == wanted)

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> ZoneServer:
        """Bind UDP and TCP on one port and answer in a process of its own. Returns self,
        with ``port`` set."""
        self._process = _server_process()
        assert self._process.stdin is not None and self._process.stdout is not None
        self._control = _Channel(self._process.stdout, self._process.stdin)
        try:
            self._control.send(self)
            kind, value = self._control.receive(timeout=60)
        except (EOFError, OSError, pickle.PickleError, TimeoutError) as exc:
            self._process.kill()
            self._process.wait()
            self._control = self._process = None
            raise OSError(f"the test DNS server did not start: {exc!r}") from None
        if kind == "error":
            self._process.wait(5)
            self._control = self._process = None
            raise OSError(f"the test DNS server could not start: {value}")
        self.port = value
        return self

    def __getstate__(self) -> dict[str, Any]:
        """What a server process needs: the zones, faults and settings (not the test's side)."""
        state = dict(self.__dict__)
        for local in ("_lock", "_servers", "_udp", "_control", "_process"):
            state.pop(local)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._servers, self._udp, self._control, self._process = [], None, None, None

    def _bind(self) -> None:
        for _attempt in range(20):
            udp = _UDPLoop(self, self.host, self.port)
            try:
                tcp = _TCPServer((self.host, udp.port), _TCPHandler)
            except OSError:  # the TCP side of that port is taken: try another port
                udp.close()
                continue
            tcp.dns = self
            self.port, self._udp, self._servers = udp.port, udp, [tcp]
            return
        raise OSError("could not bind UDP and TCP on the same loopback port")

    def _serve(self) -> None:
        assert self._udp is not None
        self._udp.start()
        for server in self._servers:
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def _serve_until_stopped(self, control: Any) -> None:
        """The server process's main thread: serve, and carry out what the test asks over
        ``control`` until the test closes it (or goes away)."""
        try:
            self._bind()
            self._serve()
        except OSError as exc:
            control.send(("error", str(exc)))
            return
        control.send(("port", self.port))
        while True:
            try:
                request = control.receive()
            except (EOFError, OSError):  # the test stopped the server, or is gone
                return
            name, args = request[0], request[1:]
            if name == "queries":
                with self._lock:
                    control.send(list(self._queries))
            elif name == "received_buffer":
                control.send(self.received_buffer())
            elif name == "set":
                setattr(self, args[0], args[1])
                control.send(None)
            else:  # add_zone_text, set_fault: already checked in the test's process
                getattr(self, name)(*args)
                control.send(None)

    def _tell(self, *request: object) -> None:
        """Apply a change in the server's process too (a no-op before start, and in that process)."""
        if self._control is not None:
            self._ask(*request)

    def _ask(self, *request: object) -> Any:
        assert self._control is not None
        self._control.send(request)
        return self._control.receive()

    def received_buffer(self) -> int:
        """The UDP receive buffer the kernel gave the server, in bytes (it doubles what is asked
        for, for its own bookkeeping; see RECEIVE_BUFFER)."""
        if self._control is not None:
            asked: int = self._ask("received_buffer")
            return asked
        assert self._udp is not None
        size: int = self._udp.socket.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        return size

    def stop(self) -> None:
        """Stop the server's process (closing its pipe ends it); ``queries`` still tells what
        reached it, and a server started again goes on from there."""
        if self._control is None or self._process is None:
            return
        with contextlib.suppress(EOFError, OSError):  # what it was asked stays readable
            self._queries = self._ask("queries")
        self._control.close()
        try:
            self._process.wait(5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._control = self._process = None

    def __enter__(self) -> ZoneServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- answering -------------------------------------------------------------------

    def answer(self, wire: bytes, transport: str) -> bytes | None:
        """The wire-format reply to a query, or None to stay silent (a timeout)."""
        try:
            query = dns.message.from_wire(wire)
        except Exception:  # noqa: BLE001 - garbage on the wire: a real server stays silent too
            return None
        if not query.question:
            return None
        question = query.question[0]
        with self._lock:
            self._queries.append(
                (transport, question.name.to_text().lower(), dns.rdatatype.to_text(question.rdtype))
            )
        response = dns.message.make_response(query)
        response.flags |= dns.flags.RA
        fault = self._fault_for(question.name, question.rdtype)
        if fault == "timeout":
            return None
        if fault == "no-edns" and query.edns >= 0:  # an old server: EDNS is a format error to it
            plain = dns.message.make_response(query)
            plain.use_edns(False)
            plain.set_rcode(dns.rcode.FORMERR)
            return plain.to_wire()
        if fault in ("servfail", "refused", "nxdomain"):
            response.set_rcode({"servfail": dns.rcode.SERVFAIL, "refused": dns.rcode.REFUSED,
                                "nxdomain": dns.rcode.NXDOMAIN}[fault])
            return response.to_wire()
        self._resolve(question.name, question.rdtype, response,
                      dnssec=self._serve_signatures and bool(query.ednsflags & dns.flags.DO))
        raw = self.raw_records.get((question.name, question.rdtype))
        if raw:
            response.use_edns(False)  # the answer section then ends the message
            wire_out = bytearray(response.to_wire(want_shuffle=False))
            count = struct.unpack_from("!H", wire_out, 6)[0] + len(raw)
            struct.pack_into("!H", wire_out, 6, count)
            return bytes(wire_out) + b"".join(b"\xc0\x0c" + record for record in raw)  # owner: the question
        try:
            # Records in zone-file order, not shuffled: tests of order-sensitive rules (the first
            # ten PTR names, RFC 7208 §5.5) must be deterministic.
            return response.to_wire(max_size=65535 if transport == "tcp" else _udp_size(query), want_shuffle=False)
        except dns.exception.TooBig:  # tell the client to retry over TCP
            truncated = dns.message.make_response(query)
            truncated.flags |= dns.flags.RA | dns.flags.TC
            return truncated.to_wire()

    def _fault_for(self, name: dns.name.Name, rdtype: int) -> str | None:
        for (suffix, only), kind in self.faults.items():
            if (name.is_subdomain(suffix) if only is None else (name == suffix and only == rdtype)):
                return kind
        return None

    def _resolve(self, qname: dns.name.Name, rdtype: int, response: dns.message.Message,
                 dnssec: bool = False) -> None:
        if not self.zone_set.covers(qname):
            response.set_rcode(dns.rcode.REFUSED)
            return
        answer = self.zone_set.lookup(qname, rdtype)
        response.answer.extend(answer.answer)
        if dnssec:
            for rrset in answer.answer:
                signatures = self.zone_set.signatures(rrset)
                if signatures is not None:
                    response.answer.append(signatures)
        if answer.soa is not None:
            response.authority.append(answer.soa)
        # a chain that leaves the served zones ends there, as if the rest did not exist
        rcode = "NXDOMAIN" if answer.exit is not None else answer.rcode
        response.set_rcode(dns.rcode.from_text(rcode))


class _Channel:
    """Pickled messages over a pair of pipes: how the test talks to its server's process."""

    def __init__(self, incoming: Any, outgoing: Any) -> None:
        self.incoming, self.outgoing = incoming, outgoing

    def send(self, message: object) -> None:
        pickle.dump(message, self.outgoing, protocol=pickle.HIGHEST_PROTOCOL)
        self.outgoing.flush()

    def receive(self, timeout: float | None = None) -> Any:
        if timeout is not None and os.name == "posix":
            ready, _, _ = select.select([self.incoming], [], [], timeout)
            if not ready:
                raise TimeoutError(f"no answer within {timeout:g} s")
        return pickle.load(self.incoming)

    def close(self) -> None:
        for stream in (self.outgoing, self.incoming):
            with contextlib.suppress(OSError):
                stream.close()


def _server_process() -> subprocess.Popen[bytes]:
    """A process ready to serve: the spare started last time, and a new spare for next time
    (an interpreter takes 0.2 s to start, and some tests start a server each)."""
    process = _SPARE.pop() if _SPARE and _SPARE[-1].poll() is None else _start_interpreter()
    _SPARE[:] = [_start_interpreter()]
    return process


def _start_interpreter() -> subprocess.Popen[bytes]:
    # A fresh interpreter, not a fork of the test's process: a forked copy would hold the test's
    # sockets open (a peer would not see them close) and re-run a script's top level.
    package_root = str(Path(__file__).resolve().parents[2])
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [package_root, os.environ.get("PYTHONPATH", "")])))
    command = [sys.executable, "-c", f"from {__name__} import _serve_from_pipes; _serve_from_pipes()"]
    return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=environment, close_fds=True)


_SPARE: list[subprocess.Popen[bytes]] = []


def _serve_from_pipes() -> None:
    """The server's process, as ``ZoneServer.start`` runs it: the server comes pickled on
    stdin, the messages go back on what was stdout (stdout itself then goes to stderr, so that
    nothing printed can break them). A spare that is never used ends with the test's process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the test run's to handle
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    control = _Channel(sys.stdin.buffer, replies)
    try:
        server: ZoneServer = control.receive()
    except EOFError:
        return
    server._serve_until_stopped(control)


def _udp_size(query: dns.message.Message) -> int:
    return max(512, query.payload) if query.edns >= 0 else 512


# The server's receive buffer: a run sends up to ~1,000 queries at once (pacing.outstanding_queries)
# and this server reads them one at a time in Python. With the kernel's default
# (net.core.rmem_default, 208 KB: ~280 small datagrams at their in-kernel size) the burst
# overflowed it and answers went missing (/proc/net/snmp Udp RcvbufErrors), which tests then
# saw as timeouts. A real resolver keeps its own large buffer (Unbound so-rcvbuf).
RECEIVE_BUFFER = 8 * 1024 * 1024


class _UDPLoop:
    """Answer UDP queries in one thread, in the order they come; with a delay, a second
    thread sends each answer when it is due (a thread per query, as socketserver's threading
    server makes, cost a thread start per datagram and thousands of sleeping threads in the
    tests that play a slow resolver)."""

    def __init__(self, dns: ZoneServer, host: str, port: int) -> None:
        self.dns = dns
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.socket.bind((host, port))
        except OSError:
            self.socket.close()
            raise
        self.port: int = self.socket.getsockname()[1]
        # SO_RCVBUFFORCE (socket(7); Python's socket module does not name it: 33 on Linux) goes
        # past net.core.rmem_max but needs CAP_NET_ADMIN; SO_RCVBUF is capped at rmem_max (212,992
        # on a stock kernel, 4 MB on this project's machines). received_buffer() tells what it got.
        force = getattr(socket, "SO_RCVBUFFORCE", 33 if sys.platform.startswith("linux") else None)
        for option in (force, socket.SO_RCVBUF):
            if option is None:
                continue
            try:
                self.socket.setsockopt(socket.SOL_SOCKET, option, RECEIVE_BUFFER)
                break
            except OSError:
                continue
        self.socket.setblocking(False)
        self._closed = threading.Event()
        self._due: list[tuple[float, int, bytes, Any]] = []  # (when, order, reply, address)
        self._wake = threading.Condition()
        self._order = 0

    def start(self) -> None:
        threading.Thread(target=self._receive, daemon=True, name="dns-udp").start()
        threading.Thread(target=self._send_when_due, daemon=True, name="dns-udp-delay").start()

    def _receive(self) -> None:
        while not self._closed.is_set():
            try:
                ready, _, _ = select.select([self.socket], [], [], 0.05)
            except (OSError, ValueError):  # closed under us
                return
            while ready:
                try:
                    data, address = self.socket.recvfrom(65535)
                except BlockingIOError:
                    break
                except OSError:
                    return
                try:
                    reply = self.dns.answer(data, "udp")
                except Exception:  # noqa: BLE001 - a bug in the server: say so, answer the next
                    traceback.print_exc()
                    continue
                if reply is None:
                    continue
                delay = self.dns.delay
                if delay:
                    with self._wake:
                        self._order += 1
                        heapq.heappush(self._due, (time.monotonic() + delay, self._order, reply, address))
                        self._wake.notify()
                else:
                    self._send(reply, address)

    def _send_when_due(self) -> None:
        with self._wake:
            while not self._closed.is_set():
                if not self._due:
                    self._wake.wait(0.05)
                    continue
                wait = self._due[0][0] - time.monotonic()
                if wait > 0:
                    self._wake.wait(min(wait, 0.05))
                    continue
                _when, _order, reply, address = heapq.heappop(self._due)
                self._send(reply, address)

    def _send(self, reply: bytes, address: Any) -> None:
        with contextlib.suppress(OSError):  # the client's socket is gone, or the buffer is full: a lost answer
            self.socket.sendto(reply, address)

    def close(self) -> None:
        self._closed.set()
        with self._wake:
            self._wake.notify_all()
        self.socket.close()


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = False
    dns: ZoneServer


class _TCPHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        conn: socket.socket = self.request
        assert isinstance(self.server, _TCPServer)
        conn.settimeout(5)
        try:
            while True:
                header = _recv_exactly(conn, 2)
                if header is None:
                    return
                wire = _recv_exactly(conn, struct.unpack("!H", header)[0])
                if wire is None:
                    return
                dns_server = self.server.dns
                reply = dns_server.answer(wire, "tcp")
                if reply is None:
                    time.sleep(0.5)
                    return
                if dns_server.delay:
                    time.sleep(dns_server.delay)
                conn.sendall(struct.pack("!H", len(reply)) + reply)
        except OSError:
            return


def _recv_exactly(conn: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data
