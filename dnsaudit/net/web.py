"""The run's one HTTP(S) client: resolves through the run's DnsClient, refuses private targets.

Every fetch resolves the host with the shared resolver (so a DNS answer is asked once and
is the same one the checks judged), then connects to that address itself, presenting the
host name as SNI and Host header. That is how the address guard works: an address that
public DNS hands back but that is loopback, private, link-local, multicast or otherwise not
global (``net.addresses``: NAT64, 6to4 and other IPv4-embedding forms judged by the IPv4
address they carry) is not connected to unless the user allowed it (``--allow-private``), and the
caller can report the answer itself as a finding.

Bodies are capped, redirects are never followed here (callers decide, as Outlook and
MTA-STS senders do), and every connect and read has a timeout.
"""

from __future__ import annotations

import asyncio
import enum
import errno
import functools
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dnsaudit.model import ErrorReason
from dnsaudit.net.addresses import allowed_addresses
from dnsaudit.net.dns import DnsClient
from dnsaudit.net.protocols import Resolver

if TYPE_CHECKING:
    import httpx

MAX_BODY = 64 * 1024
PER_HOST = 4  # connections at once to one address: an audit must not look like a flood


class WebFailure(str, enum.Enum):
    """Why a GET produced no HTTP answer: what callers decide from (``error`` is the text for people).

    A body over ``MAX_BODY`` is not a failure: the answer came, with ``truncated`` set.
    """

    NO_ADDRESS = "no-address"  # the name has no A or AAAA record
    DNS = "dns"  # the address lookup failed (timeout, SERVFAIL, ...): could not test
    NON_PUBLIC = "non-public"  # only non-public addresses, not connected to (--allow-private)
    TIMEOUT = "timeout"
    REFUSED = "refused"  # the connection was refused
    NETWORK = "network"  # any other connection or HTTP protocol failure
    CERTIFICATE_UNTRUSTED = "certificate-untrusted"  # no chain to a trusted root (self-signed, unknown CA)
    CERTIFICATE_NAME = "certificate-name"  # the certificate does not name the host
    CERTIFICATE_EXPIRED = "certificate-expired"  # outside its validity dates (expired, or not yet valid)
    TLS = "tls"  # the TLS handshake failed for another reason (protocol, cipher, alert)

    @property
    def certificate(self) -> bool:
        """A certificate a client could be asked to accept (Outlook shows these as a warning)."""
        return self in (WebFailure.CERTIFICATE_UNTRUSTED, WebFailure.CERTIFICATE_NAME,
                        WebFailure.CERTIFICATE_EXPIRED)


# OpenSSL's X509_V_ERR_* codes (x509_vfy.h) that ssl.SSLCertVerificationError.verify_code carries.
_X509_NOT_YET_VALID, _X509_EXPIRED, _X509_HOSTNAME_MISMATCH, _X509_IP_MISMATCH = 9, 10, 62, 64


@dataclass(frozen=True)
class Resolved:
    """A host's addresses, or why there are none (``reason`` set: the lookup failed, could not test)."""

    addresses: tuple[str, ...]
    why: str = ""
    reason: ErrorReason | None = None

    @property
    def failure(self) -> WebFailure | None:
        if self.addresses:
            return None
        return WebFailure.NO_ADDRESS if self.reason is None else WebFailure.DNS


async def resolve_addresses(dns: Resolver, host: str) -> Resolved:
    """The host's A and AAAA addresses through the run's shared resolver."""
    a, aaaa = await dns.addresses(host)
    found = (*a.texts, *aaaa.texts)
    if found:
        return Resolved(found)
    failed = next((x for x in (a, aaaa) if x.outcome.is_failure), None)
    if failed is not None:
        return Resolved((), f"the DNS lookup of {host} {failed.outcome.phrase}",
                        failed.outcome.error_reason)
    return Resolved((), f"{host} has no address")


@dataclass(frozen=True)
class WebResponse:
    """What one GET produced. ``error`` (for people) and ``failure`` (for decisions) are set when no HTTP
    answer came.

    ``reason`` says the failure may pass (timeout, refused, DNS failure): "could not
    test". A failure without a reason is a property of the server that a real client
    would hit too (an untrusted or misnamed certificate, a name without address).
    """

    url: str
    address: str = ""
    status: int = 0
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    truncated: bool = False
    error: str = ""
    reason: ErrorReason | None = None
    blocked: tuple[str, ...] = ()  # non-public addresses that were not connected to
    failure: WebFailure | None = None  # set with ``error``: what kind of failure it was

    def header(self, name: str) -> str:
        name = name.lower()
        return next((v for k, v in self.headers if k == name), "")

    @property
    def ok(self) -> bool:
        return not self.error


class WebClient:
    """Shared HTTPS/HTTP client for one run (bounded per host): a connection pool that verifies
    certificates, and one that accepts any (Outlook's first autodiscover step)."""

    def __init__(
        self,
        dns: DnsClient,
        *,
        https_port: int = 443,
        http_port: int = 80,
        timeout: float = 10.0,
        allow_private: bool = False,
        ca_file: str | None = None,
        max_connections: int = 100,
    ) -> None:
        self.dns = dns
        self.ports = {"https": https_port, "http": http_port}
        self.allow_private = allow_private
        self._ca_file = ca_file
        self._timeout = timeout
        self._max_connections = max_connections
        self._closed = False
        # The connection pools are made on the first request: their TLS context reads the
        # system store (~35 ms, and importing httpx ~0.1 s, in each worker process), which a
        # run whose domains have no endpoint to probe never needs. With --ca-file they are made
        # now, so that a CA file that cannot be read fails the run at its start, as itself,
        # not each probe later as if the server had failed.
        self._pools: tuple[httpx.AsyncClient, httpx.AsyncClient] | None = None
        if ca_file:
            self._pool(True)
        self._cache: dict[tuple[str, str, str, bool], asyncio.Future[WebResponse]] = {}
        self._per_host: dict[str, asyncio.Semaphore] = {}

    def _pool(self, verify: bool) -> httpx.AsyncClient:
        """The pool for verified requests, or the one for requests that accept any certificate."""
        if self._closed:  # as httpx says of a closed client: no pool is made after aclose() to leak
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        if self._pools is None:
            import httpx  # here, not at the top: the check modules import this one, `dnsaudit checks` lists them

            context = ssl.create_default_context()  # the system store; honours SSL_CERT_FILE
            if self._ca_file:
                context.load_verify_locations(cafile=self._ca_file)  # in addition, not instead
            limits = httpx.Limits(max_connections=self._max_connections, max_keepalive_connections=20)
            timeout = httpx.Timeout(self._timeout)
            verified = httpx.AsyncClient(verify=context, follow_redirects=False, timeout=timeout, limits=limits,
                                         trust_env=False)
            # Outlook ignores certificate errors on the root domain (its step 1): a second pool
            # without verification serves those requests only.
            lenient = httpx.AsyncClient(verify=False, follow_redirects=False, timeout=timeout, limits=limits,
                                        trust_env=False)
            self._pools = (verified, lenient)
        return self._pools[0] if verify else self._pools[1]

    async def aclose(self) -> None:
        self._closed = True
        if self._pools is not None:
            for pool in self._pools:
                await pool.aclose()

    async def get(self, host: str, path: str, scheme: str = "https", verify: bool = True) -> WebResponse:
        """GET ``scheme://host/path`` once per run (later askers share the first answer).

        ``verify=False`` accepts any certificate, as Outlook does for the root domain.
        """
        key = (scheme, host.lower().rstrip("."), path, verify)
        task = self._cache.get(key)
        if task is None:
            task = asyncio.ensure_future(self._get(*key))
            self._cache[key] = task
        return await asyncio.shield(task)

    async def _get(self, scheme: str, host: str, path: str, verify: bool) -> WebResponse:
        url = f"{scheme}://{host}{path}"
        resolved = await resolve_addresses(self.dns, host)
        addresses = resolved.addresses
        if not addresses:
            return WebResponse(url, error=resolved.why, reason=resolved.reason, failure=resolved.failure)
        allowed = allowed_addresses(addresses, self.allow_private)
        blocked = tuple(a for a in addresses if a not in allowed)
        if not allowed:
            return WebResponse(url, error=f"{host} resolves only to non-public addresses "
                               f"({', '.join(blocked)}); not connected (use --allow-private to probe them)",
                               blocked=blocked, failure=WebFailure.NON_PUBLIC)
        last = WebResponse(url, error="no address answered", reason=ErrorReason.NETWORK, failure=WebFailure.NETWORK)
        for address in allowed:
            async with self._per_host.setdefault(address, asyncio.Semaphore(PER_HOST)):
                last = await self._fetch(url, scheme, host, path, address, blocked, verify)
            if last.ok:
                break
        return last

    async def _fetch(self, url: str, scheme: str, host: str, path: str, address: str, blocked: tuple[str, ...],
                     verify: bool) -> WebResponse:
        literal = f"[{address}]" if ":" in address else address
        target = f"{scheme}://{literal}:{self.ports[scheme]}{path}"
        extensions = {"sni_hostname": host} if scheme == "https" else {}
        import httpx

        answer = functools.partial(WebResponse, url, address, blocked=blocked)
        try:
            client = self._pool(verify)
            request = client.build_request("GET", target, headers={"Host": host, "User-Agent": "dnsaudit"},
                                           extensions=extensions)
            response = await client.send(request, stream=True)
            try:
                body, truncated = await _read_capped(response)
            finally:
                await response.aclose()
        except httpx.TimeoutException:
            return answer(error=f"{url}: timed out", reason=ErrorReason.TIMEOUT,
                               failure=WebFailure.TIMEOUT)
        except httpx.ConnectError as exc:
            failure = _failure(exc)
            tls = failure is WebFailure.TLS or failure.certificate  # the server's fault, as a real client sees it
            return answer(error=f"{url}: {_describe(exc, failure)}",
                               reason=None if tls else ErrorReason.NETWORK, failure=failure)
        except httpx.HTTPError as exc:
            failure = _failure(exc)
            return answer(error=f"{url}: {_describe(exc, failure)}", reason=ErrorReason.NETWORK,
                               failure=failure)
        headers = tuple((k.lower(), v) for k, v in response.headers.items())
        return answer(status=response.status_code, headers=headers, body=body, truncated=truncated)


async def _read_capped(response: httpx.Response) -> tuple[bytes, bool]:
    body = bytearray()
    async for chunk in response.aiter_raw():
        body.extend(chunk)
        if len(body) > MAX_BODY:
            return bytes(body[:MAX_BODY]), True
    return bytes(body), False


def _ssl_error(exc: BaseException | None) -> ssl.SSLError | None:
    """The TLS error somewhere in an exception's chain (httpx wraps httpcore wraps ssl)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, ssl.SSLError):
            return exc
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def _refused(exc: BaseException | None) -> bool:
    """Whether the connection was refused somewhere in an exception's chain (ECONNREFUSED)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, ConnectionRefusedError) or (isinstance(exc, OSError) and exc.errno == errno.ECONNREFUSED):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _failure(exc: Exception) -> WebFailure:
    """The kind of an httpx error, from the exceptions it wraps (never from their wording)."""
    cause = _ssl_error(exc)
    if isinstance(cause, ssl.SSLCertVerificationError):
        if cause.verify_code in (_X509_HOSTNAME_MISMATCH, _X509_IP_MISMATCH):
            return WebFailure.CERTIFICATE_NAME
        if cause.verify_code in (_X509_EXPIRED, _X509_NOT_YET_VALID):
            return WebFailure.CERTIFICATE_EXPIRED
        return WebFailure.CERTIFICATE_UNTRUSTED
    if cause is not None:
        return WebFailure.TLS
    return WebFailure.REFUSED if _refused(exc) else WebFailure.NETWORK


def _describe(exc: Exception, failure: WebFailure) -> str:
    cause = _ssl_error(exc)
    if isinstance(cause, ssl.SSLCertVerificationError):
        return f"certificate not trusted or not valid for the name ({cause.verify_message})"
    if cause is not None:
        return f"TLS handshake failed ({cause.reason or cause})"
    return "connection refused" if failure is WebFailure.REFUSED else str(exc) or type(exc).__name__
