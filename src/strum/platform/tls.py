"""TLS for a platform that listens beyond loopback: a certificate given, or one made for it.

Off loopback the platform serves HTTPS only. ``load`` takes a certificate and key the
operator has (a CA-issued one, say); ``generate`` makes a self-signed one for the names the
platform is reached by (DNS names and IP addresses, as subject alternative names) and
keeps reusing it while it is valid for those names. Its SHA-256 fingerprint is printed,
and a client pins it by trusting exactly that certificate (boto3's ``verify=<cert.pem>``,
the AWS CLI's ``--ca-bundle``): the generated certificate is its own authority, so nothing
else verifies against it.

The key is written with mode 0600 and never logged. ``cryptography`` makes the
certificate; it is imported only when one is generated.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from strum.platform.home import write_atomically

__all__ = ["TlsError", "TlsFiles", "generate", "load"]

# Browsers and Apple's TLS stack refuse server certificates valid for more than 825 days.
VALIDITY_DAYS = 825
# A generated certificate this close to expiry is made again at start.
RENEW_BEFORE_DAYS = 30


class TlsError(Exception):
    """A certificate or key that cannot be used; the message names the file and the fix."""


@dataclass(frozen=True)
class TlsFiles:
    """A certificate and its private key, as files."""

    certificate: Path
    key: Path

    def fingerprint(self) -> str:
        """SHA-256 of the certificate (DER), colon-separated, as ``openssl x509`` prints it."""
        der = ssl.PEM_cert_to_DER_cert(self.certificate.read_text(encoding="ascii"))
        digest = hashlib.sha256(der).hexdigest().upper()
        return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))

    def server_context(self) -> ssl.SSLContext:
        """A server-side context: TLS 1.2 or newer, this certificate and key."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_cert_chain(self.certificate, self.key)
        except (OSError, ssl.SSLError) as exc:
            raise TlsError(
                f"cannot use {self.certificate} with {self.key}: {exc}; give a PEM certificate "
                "and the PEM private key that belongs to it"
            ) from None
        return context


def load(certificate: str | os.PathLike[str], key: str | os.PathLike[str]) -> TlsFiles:
    """An operator's certificate and key, checked to load together."""
    files = TlsFiles(Path(certificate), Path(key))
    for path in (files.certificate, files.key):
        if not path.is_file():
            raise TlsError(f"{path} does not exist or is not a file")
    files.server_context()
    return files


def generate(names: Sequence[str], directory: Path) -> TlsFiles:
    """A self-signed certificate for ``names`` in ``directory``, made or reused."""
    if not names:
        raise TlsError("give at least one name the platform is reached by (--tls-name)")
    files = TlsFiles(directory / "platform.crt", directory / "platform.key")
    if _reusable(files, names):
        return files
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    private_key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0][:64])])
    now = datetime.datetime.now(datetime.timezone.utc)
    alternatives: list[x509.GeneralName] = []
    for name in names:
        try:
            alternatives.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alternatives.append(x509.DNSName(name))
    public_key = private_key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALIDITY_DAYS))
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        # Its own authority, so that trusting this one file pins it.
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False
        )
        .sign(private_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    key_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_atomically(files.key, key_pem, 0o600)
    write_atomically(files.certificate, certificate.public_bytes(serialization.Encoding.PEM), 0o644)
    return files


def _reusable(files: TlsFiles, names: Sequence[str]) -> bool:
    if not (files.certificate.is_file() and files.key.is_file()):
        return False
    from cryptography import x509

    try:
        certificate = x509.load_pem_x509_certificate(files.certificate.read_bytes())
        alternatives = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except (ValueError, x509.ExtensionNotFound):
        return False
    have = {str(value) for value in alternatives.value.get_values_for_type(x509.DNSName)}
    have |= {str(value) for value in alternatives.value.get_values_for_type(x509.IPAddress)}
    wanted = {str(ipaddress.ip_address(n)) if _is_ip(n) else n for n in names}
    remaining = certificate.not_valid_after_utc - datetime.datetime.now(datetime.timezone.utc)
    return have == wanted and remaining > datetime.timedelta(days=RENEW_BEFORE_DAYS)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
