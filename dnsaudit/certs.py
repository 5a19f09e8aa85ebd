"""Certificates as facts: what a certificate names, who issued it, when it is valid.

Names are judged by RFC 9525: only subjectAltName dNSName entries count (a certificate
that names the host only in its subject CN does not match, and is reported as such); a
wildcard is allowed only as the whole left-most label and matches exactly one label;
names compare as lower-case A-labels. The reference identity is always the name the
client asked for, never a CNAME target.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # cryptography is imported when a certificate is read: the check modules import
    from cryptography import x509  # this one, and `dnsaudit checks` only lists them
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

EXPIRY_WARNING_DAYS = 30


@dataclass(frozen=True)
class CertFacts:
    subject_cn: str
    dns_names: tuple[str, ...]  # SAN dNSName, lower case, as written (A-labels)
    ip_names: tuple[str, ...]  # SAN iPAddress
    issuer: str
    not_before: dt.datetime
    not_after: dt.datetime
    sha256: str
    self_signed: bool
    spki_sha256: str = ""  # of the SubjectPublicKeyInfo: what a TLSA "3 1 1" record holds (RFC 6698 §2.1)

    @property
    def names_text(self) -> str:
        names = [*self.dns_names, *self.ip_names]
        shown = ", ".join(names) if names else "(no subjectAltName)"
        return f"{shown}; CN={self.subject_cn or '-'}"

    def summary(self) -> str:
        """One line for reports: names, issuer and validity."""
        return (f"names {self.names_text}; issuer {self.issuer}; valid {self.not_before:%Y-%m-%d} to "
                f"{self.not_after:%Y-%m-%d}")


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


def parse_certificate(der: bytes) -> CertFacts:
    from cryptography import x509

    return facts(x509.load_der_x509_certificate(der))


def parse_pem(data: bytes) -> CertFacts:
    from cryptography import x509

    return facts(x509.load_pem_x509_certificate(data))


def facts(cert: x509.Certificate) -> CertFacts:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns_names = tuple(n.lower() for n in san.get_values_for_type(x509.DNSName))
        ip_names = tuple(str(a) for a in san.get_values_for_type(x509.IPAddress))
    except x509.ExtensionNotFound:
        dns_names, ip_names = (), ()
    issuer = _attribute(cert.issuer, NameOID.COMMON_NAME) or _attribute(cert.issuer, NameOID.ORGANIZATION_NAME) \
        or cert.issuer.rfc4514_string()
    return CertFacts(
        subject_cn=_attribute(cert.subject, NameOID.COMMON_NAME),
        dns_names=dns_names,
        ip_names=ip_names,
        issuer=issuer,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        sha256=hashlib.sha256(cert.public_bytes(_der())).hexdigest(),
        self_signed=cert.issuer == cert.subject,
        spki_sha256=hashlib.sha256(cert.public_key().public_bytes(_der(), _spki())).hexdigest(),
    )


def _der() -> Encoding:
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.DER


def _spki() -> PublicFormat:
    from cryptography.hazmat.primitives.serialization import PublicFormat

    return PublicFormat.SubjectPublicKeyInfo


def name_matches(reference: str, presented: str) -> bool:
    """RFC 9525 §6.3: does one SAN dNSName match the reference host name?"""
    reference = reference.rstrip(".").lower()
    presented = presented.rstrip(".").lower()
    if "*" not in presented:
        return reference == presented
    labels = presented.split(".")
    if labels[0] != "*" or "*" in ".".join(labels[1:]) or len(labels) < 3:
        return False  # wildcard only as the whole left-most label, never directly under a TLD
    ref_labels = reference.split(".")
    return len(ref_labels) == len(labels) and ref_labels[1:] == labels[1:] and bool(ref_labels[0])


def names_host(cert: CertFacts, reference: str) -> bool:
    """The certificate names the host (SAN only), or the IP address for an IP reference."""
    try:
        address = ipaddress.ip_address(reference)
    except ValueError:
        return any(name_matches(reference, n) for n in cert.dns_names)
    return str(address) in cert.ip_names


def cn_only_match(cert: CertFacts, reference: str) -> bool:
    """The host appears only in the subject CN: old clients accept it, RFC 9525 clients do not."""
    return not cert.dns_names and bool(cert.subject_cn) and name_matches(reference, cert.subject_cn)


def days_left(cert: CertFacts, now: dt.datetime | None = None) -> int:
    now = now or dt.datetime.now(dt.UTC)
    return (cert.not_after - now).days
