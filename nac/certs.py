"""The EAP server certificate: a self-signed CA and a server certificate in the data dir.

Generated once (keys mode 0600) and never put in the repository or the database.
Supplicants should pin the CA (``ca.pem``) — an installation replaces these files with
certificates from its own PKI by putting them at the same paths.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from simpul.models.base import utcnow

VALID_DAYS = 825


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "simpul NAC"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def ensure_certificates(certdir: Path, server_name: str = "radius.simpul.local") -> Path:
    """Create ``ca.pem``, ``server.pem`` and ``server.key`` in *certdir* unless present."""
    certdir.mkdir(parents=True, exist_ok=True)
    if all((certdir / f).is_file() for f in ("ca.pem", "server.pem", "server.key")):
        return certdir
    now = utcnow()
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("simpul NAC CA")
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - timedelta(minutes=5))
          .not_valid_after(now + timedelta(days=VALID_DAYS))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(server_name)).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=VALID_DAYS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(server_name)]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    _write_key(certdir / "server.key", key)
    (certdir / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (certdir / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return certdir
