"""Run inside a fresh network namespace (``unshare -n``) by test_address_guard.py; not a test itself.

Puts each address form given on the command line on the namespace's loopback interface,
so that it really reaches a local HTTP listener (as a NAT64 gateway or 6to4 relay would
deliver it), serves DNS names resolving to them, and fetches each name through the run's
WebClient without and then with ``allow_private``. Prints what happened as JSON.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import subprocess
import sys
import threading

from dnsaudit.net.dns import DnsClient, Nameserver
from dnsaudit.net.web import WebClient
from dnsaudit.testing import ZoneServer

FORMS = sys.argv[1:]


def listen() -> tuple[socket.socket, list[str]]:
    server = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    server.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)  # dual stack: ::ffff:127.0.0.1 too
    server.bind(("::", 0))
    server.listen(16)
    contacted: list[str] = []

    def serve() -> None:
        while True:
            try:
                conn, _peer = server.accept()
            except OSError:
                return
            contacted.append(conn.getsockname()[0])
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return server, contacted


async def fetch_all(dns_port: int, http_port: int, allow_private: bool) -> list[dict]:
    dns = DnsClient([Nameserver("127.0.0.1", dns_port)], timeout=2, retries=0)
    web = WebClient(dns, http_port=http_port, allow_private=allow_private, timeout=3)
    try:
        out = []
        for i, _form in enumerate(FORMS):
            response = await web.get(f"h{i}.guard.test", "/", scheme="http")
            out.append({"status": response.status, "error": response.error, "blocked": list(response.blocked)})
        return out
    finally:
        await web.aclose()
        await dns.aclose()


def main() -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    for form in FORMS:
        if ipaddress.IPv6Address(form).ipv4_mapped is None:  # a mapped address is reached by dual stack
            subprocess.run(["ip", "-6", "addr", "add", f"{form}/128", "dev", "lo", "nodad"], check=True)
    listener, contacted = listen()
    port = listener.getsockname()[1]
    records = "\n".join(f"h{i} AAAA {form}" for i, form in enumerate(FORMS))
    zone = f"@ SOA ns hostmaster 1 3600 600 86400 300\n@ NS ns\nns A 127.0.0.1\n{records}\n"
    report = {}
    with ZoneServer() as server:
        server.add_zone_text("guard.test.", zone)
        for allow in (False, True):
            before = len(contacted)
            results = asyncio.run(fetch_all(server.port, port, allow))
            report["allowed" if allow else "guarded"] = {"results": results, "contacted": contacted[before:]}
    listener.close()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
