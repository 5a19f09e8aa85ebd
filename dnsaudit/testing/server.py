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

    with ZoneServer.from_directory("tests/zones") as server:
        client = DnsClient([Nameserver("127.0.0.1", server.port)])
"""

from __future__ import annotations

import socket
import socketserver
import struct
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path

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
        self.host = host
        self.delay = delay
        # Signed zones (dns.dnssec.sign_zone): RRSIGs go with the answer when the query sets the
        # DO bit. False plays a resolver that strips DNSSEC records.
        self.serve_signatures = serve_signatures
        self.port = 0
        self.queries: list[tuple[str, str, str]] = []  # (transport, name, type)
        self._lock = threading.Lock()
        self._servers: list[socketserver.BaseServer] = []

    @classmethod
    def from_directory(cls, directory: str | Path, *, host: str = "127.0.0.1", delay: float = 0.0) -> ZoneServer:
        zones = [load_zone(p) for p in sorted(Path(directory).glob("*.zone"))]
        return cls(zones, host=host, delay=delay)

    def add_zone_text(self, origin: str, text: str) -> None:
        """Add a zone, or replace it (tests edit zones between runs)."""
        zone = zone_from_text(text, origin)
        assert zone.origin is not None
        self.zone_set.zones[zone.origin] = zone

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

    def count(self, name: str, rdtype: str) -> int:
        """How many times a question reached this server (any transport)."""
        wanted = (name.lower().rstrip(".") + ".", rdtype.upper())
        with self._lock:
            return sum(1 for _t, n, t in self.queries if (n, t) == wanted)

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> ZoneServer:
        for _attempt in range(20):
            udp = _UDPServer((self.host, self.port), _UDPHandler)
            udp.dns = self
            try:
                tcp = _TCPServer((self.host, udp.server_address[1]), _TCPHandler)
            except OSError:  # the TCP side of that port is taken: try another port
                udp.server_close()
                continue
            tcp.dns = self
            self.port = udp.server_address[1]
            self._servers = [udp, tcp]
            for server in self._servers:
                threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
            return self
        raise OSError("could not bind UDP and TCP on the same loopback port")

    def received_buffer(self) -> int:
        """The UDP receive buffer the kernel gave the server, in bytes (it doubles what is asked
        for, for its own bookkeeping; see RECEIVE_BUFFER)."""
        udp = next(server for server in self._servers if isinstance(server, _UDPServer))
        size: int = udp.socket.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        return size

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._servers = []

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
            self.queries.append(
                (transport, question.name.to_text().lower(), dns.rdatatype.to_text(question.rdtype))
            )
        if self.delay:
            time.sleep(self.delay)
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
                      dnssec=self.serve_signatures and bool(query.ednsflags & dns.flags.DO))
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


def _udp_size(query: dns.message.Message) -> int:
    return max(512, query.payload) if query.edns >= 0 else 512


# The server's receive buffer: a run sends up to ~1,000 queries at once (pacing.outstanding_queries)
# and this server reads them one at a time in Python, in the test's own process. With the
# kernel's default (net.core.rmem_default, 208 KB: ~280 small datagrams at their in-kernel size)
# the burst overflowed it and answers went missing (/proc/net/snmp Udp RcvbufErrors), which
# tests then saw as timeouts. A real resolver keeps its own large buffer (Unbound so-rcvbuf).
RECEIVE_BUFFER = 8 * 1024 * 1024


class _UDPServer(socketserver.ThreadingUDPServer):
    daemon_threads = True
    allow_reuse_address = False
    dns: ZoneServer

    def server_bind(self) -> None:
        super().server_bind()
        # SO_RCVBUFFORCE (socket(7); Python's socket module does not name it: 33 on Linux) goes
        # past net.core.rmem_max but needs CAP_NET_ADMIN; SO_RCVBUF is capped at rmem_max (212,992
        # on a stock kernel, 4 MB on this project's machines). received_buffer() tells what it got.
        force = getattr(socket, "SO_RCVBUFFORCE", 33 if sys.platform.startswith("linux") else None)
        for option in (force, socket.SO_RCVBUF):
            if option is None:
                continue
            try:
                self.socket.setsockopt(socket.SOL_SOCKET, option, RECEIVE_BUFFER)
                return
            except OSError:
                continue


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = False
    dns: ZoneServer


class _UDPHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, sock = self.request
        assert isinstance(self.server, _UDPServer)
        reply = self.server.dns.answer(data, "udp")
        if reply is not None:
            sock.sendto(reply, self.client_address)


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
                reply = self.server.dns.answer(wire, "tcp")
                if reply is None:
                    time.sleep(0.5)
                    return
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
