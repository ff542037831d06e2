"""TLS contexts with safe defaults, and a generated self-signed certificate for lab servers."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from pathlib import Path

from core.errors import UserError
from core.paths import data_dir

_lock = threading.Lock()


def self_signed(
    common_name: str = "localhost",
    hostnames: tuple[str, ...] = ("localhost", "127.0.0.1", "::1"),
    folder: Path | None = None,
) -> tuple[Path, Path]:
    """Return (cert.pem, key.pem) for a self-signed certificate, generating it once.

    Kept in the data folder so a lab server presents the same certificate across runs
    (a user can choose to trust it once).
    """
    folder = folder or (data_dir() / "tls")
    cert_path, key_path = folder / "lab-cert.pem", folder / "lab-key.pem"
    with _lock:
        if cert_path.exists() and key_path.exists():
            return cert_path, key_path
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Wirebench lab")])
        alt: list[x509.GeneralName] = []
        for host in hostnames:
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                alt.append(x509.DNSName(host))
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=825))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        folder.mkdir(parents=True, exist_ok=True)
        key_path.write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        key_path.chmod(0o600)
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return cert_path, key_path


def client_context(verify: bool = True, ca_file: str | Path | None = None) -> ssl.SSLContext:
    """A client context: verification ON unless the user explicitly turned it off."""
    ctx = ssl.create_default_context()
    if ca_file:
        try:
            ctx.load_verify_locations(cafile=str(ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise UserError(f"CA file {ca_file} could not be loaded ({exc}): "
                            "choose a PEM file with the CA certificate.", "CA file") from exc
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def server_context(cert_file: str | Path | None = None,
                   key_file: str | Path | None = None) -> ssl.SSLContext:
    """A server context with the given cert/key, or the generated self-signed pair."""
    if not cert_file:
        cert_file, key_file = self_signed()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        ctx.load_cert_chain(str(cert_file), str(key_file) if key_file else None)
    except (OSError, ssl.SSLError) as exc:
        raise UserError(f"Certificate {cert_file} could not be loaded ({exc}): "
                        "choose a PEM certificate and its private key.", "Certificate") from exc
    return ctx


def describe_tls(sock: ssl.SSLSocket | ssl.SSLObject) -> dict[str, str]:
    """Negotiated version, cipher and a peer certificate summary, for display."""
    info: dict[str, str] = {"version": sock.version() or "?"}
    cipher = sock.cipher()
    if cipher:
        info["cipher"] = f"{cipher[0]} ({cipher[2]} bits)"
    cert = sock.getpeercert()
    if cert:
        subject = dict(x[0] for x in cert.get("subject", ()))
        issuer = dict(x[0] for x in cert.get("issuer", ()))
        info["subject"] = subject.get("commonName", "?")
        info["issuer"] = issuer.get("commonName", issuer.get("organizationName", "?"))
        info["valid until"] = cert.get("notAfter", "?")
    else:
        der = sock.getpeercert(binary_form=True)
        if der:
            from cryptography import x509

            c = x509.load_der_x509_certificate(der)
            info["subject"] = c.subject.rfc4514_string()
            info["issuer"] = c.issuer.rfc4514_string()
            info["valid until"] = c.not_valid_after_utc.isoformat()
            info["verified"] = "no (verification off)"
    return info
