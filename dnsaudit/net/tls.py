"""TLS handshakes that report what was presented, trusted or not.

A browser stops at an untrusted certificate; an audit must still show what it names, who
issued it and when it expires. So the prober first handshakes with full chain validation
(the system store, ``SSL_CERT_FILE`` and ``--ca-file``; host names are judged separately
by RFC 9525 in dnsaudit.certs), and only when validation fails does it handshake again
without validation to read the certificate. Results are cached per (address, port, server
name, STARTTLS): each endpoint is examined once per run however many checks ask.

SMTP endpoints are probed with STARTTLS (banner, EHLO, STARTTLS, handshake, QUIT), with
a cap on every line and a timeout on every step.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from dataclasses import dataclass

from dnsaudit.certs import CertFacts, parse_certificate
from dnsaudit.model import ErrorReason

MAX_LINE = 1024
PER_ADDRESS = 4  # handshakes at once to one address
MAX_LINES = 64
EHLO_NAME = "dnsaudit.invalid"


@dataclass(frozen=True)
class TlsOutcome:
    """What one endpoint presented. ``error`` set means no certificate was obtained."""

    server_name: str
    address: str
    port: int
    cert: CertFacts | None = None
    trusted: bool = False
    trust_error: str = ""
    error: str = ""
    reason: ErrorReason | None = None  # set when the failure may pass (timeout, refused): could not test
    starttls: bool | None = None  # SMTP only: was STARTTLS offered
    banner: str = ""

    @property
    def endpoint(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.server_name} ({host}:{self.port})"


class _NotOffered(Exception):
    pass


class TlsProber:
    def __init__(self, *, timeout: float = 10.0, ca_file: str | None = None) -> None:
        self.timeout = timeout
        self._ca_file = ca_file
        if ca_file:  # read now: a CA file that cannot be read fails the run at its start, as itself
            _ = self.verifying
        self._cache: dict[tuple[str, int, str, bool], asyncio.Future[TlsOutcome]] = {}
        self._per_address: dict[str, asyncio.Semaphore] = {}

    # Made on the first handshake (with --ca-file, the verifying one at once): each reads the
    # system store (~35 ms a context, in each worker process), which a run whose domains have
    # no endpoint to probe never needs.
    @functools.cached_property
    def verifying(self) -> ssl.SSLContext:
        """Full chain validation: the system store, ``SSL_CERT_FILE`` and ``--ca-file``."""
        context = ssl.create_default_context()
        context.check_hostname = False  # names are judged by RFC 9525 ourselves
        if self._ca_file:
            context.load_verify_locations(cafile=self._ca_file)
        return context

    @functools.cached_property
    def reading(self) -> ssl.SSLContext:
        """No validation: to read what an endpoint presents once validation has failed."""
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context

    async def probe(self, address: str, port: int, server_name: str, starttls: bool = False) -> TlsOutcome:
        key = (address, port, server_name.lower(), starttls)
        task = self._cache.get(key)
        if task is None:
            task = asyncio.ensure_future(self._limited(address, port, server_name, starttls))
            self._cache[key] = task
        return await asyncio.shield(task)

    async def _limited(self, address: str, port: int, server_name: str, starttls: bool) -> TlsOutcome:
        async with self._per_address.setdefault(address, asyncio.Semaphore(PER_ADDRESS)):
            return await self._probe(address, port, server_name, starttls)

    async def _probe(self, address: str, port: int, server_name: str, starttls: bool) -> TlsOutcome:
        outcome = functools.partial(TlsOutcome, server_name, address, port)
        banner = ""
        try:
            try:
                der, banner = await asyncio.wait_for(
                    self._handshake(address, port, server_name, starttls, self.verifying), self.timeout)
                return outcome(cert=parse_certificate(der), trusted=True, banner=banner,
                                  starttls=True if starttls else None)
            except ssl.SSLCertVerificationError as exc:
                trust_error = exc.verify_message or str(exc)
            der, banner = await asyncio.wait_for(
                self._handshake(address, port, server_name, starttls, self.reading), self.timeout)
            return outcome(cert=parse_certificate(der), trusted=False, trust_error=trust_error,
                              banner=banner, starttls=True if starttls else None)
        except _NotOffered as exc:
            return outcome(error="STARTTLS is not offered", starttls=False, banner=str(exc))
        except TimeoutError:
            return outcome(error=f"no answer within {self.timeout:g}s", reason=ErrorReason.TIMEOUT)
        except ssl.SSLError as exc:
            return outcome(error=f"TLS handshake failed ({exc.reason or exc})", banner=banner)
        except ConnectionRefusedError:
            return outcome(error="connection refused", reason=ErrorReason.NETWORK)
        except (OSError, EOFError, ValueError) as exc:
            return outcome(error=f"connection failed ({exc})", reason=ErrorReason.NETWORK)

    async def _handshake(self, address: str, port: int, server_name: str, starttls: bool,
                         context: ssl.SSLContext) -> tuple[bytes, str]:
        if not starttls:
            reader, writer = await asyncio.open_connection(address, port, ssl=context, server_hostname=server_name)
            try:
                return writer.get_extra_info("ssl_object").getpeercert(binary_form=True), ""
            finally:
                writer.close()
        reader, writer = await asyncio.open_connection(address, port)
        try:
            banner = await _smtp_reply(reader, "220")
            writer.write(f"EHLO {EHLO_NAME}\r\n".encode())
            capabilities = await _smtp_reply(reader, "250")
            if not any(line[4:].strip().upper().startswith("STARTTLS") for line in capabilities.splitlines()):
                writer.write(b"QUIT\r\n")
                raise _NotOffered(banner)
            writer.write(b"STARTTLS\r\n")
            await _smtp_reply(reader, "220")
            await writer.start_tls(context, server_hostname=server_name)
            der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
            writer.write(b"QUIT\r\n")
            return der, banner
        finally:
            writer.close()


async def _smtp_reply(reader: asyncio.StreamReader, expected: str) -> str:
    """Read one (multi-line) SMTP reply; raise ValueError unless its code is ``expected``."""
    lines = []
    for _ in range(MAX_LINES):
        raw = await reader.readline()
        if not raw:
            raise EOFError("the server closed the connection")
        line = raw[:MAX_LINE].decode("ascii", errors="replace").rstrip("\r\n")
        lines.append(line)
        if len(line) < 4 or line[3] != "-":
            break
    text = "\n".join(lines)
    if not text.startswith(expected):
        raise ValueError(f"unexpected SMTP reply {text[:80]!r}")
    return text
