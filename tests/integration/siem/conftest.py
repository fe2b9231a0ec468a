"""Fixtures for the SIEM: an in-process service on free ports, a self-signed TLS pair."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from siem import store
from siem.service import SiemService
from siem.settings import SiemSettings, load_siem_settings
from siem.stats import SourceStats
from simpul import migrate
from simpul.context import AppContext
from simpul.db import Database
from simpul.settings import load_settings


@pytest.fixture
def lite_app(tmp_path: Path) -> Iterator[AppContext]:
    """A migrated SQLite app context (receiver tests need one backend, not both)."""
    settings = load_settings(env={}, data_dir=str(tmp_path / "data"),
                             database_url=f"sqlite:///{tmp_path / 'siem.db'}")
    db = Database.from_settings(settings)
    migrate.upgrade(db)
    yield AppContext(settings=settings, db=db)
    db.dispose()


@pytest.fixture
def tls_pair(tmp_path: Path) -> tuple[str, str]:
    """A self-signed certificate and key for 127.0.0.1."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "simpul-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def siem_settings_for(app: AppContext, tmp_path: Path, **overrides: object) -> SiemSettings:
    """Listeners on free ports of 127.0.0.1, spool in the temp dir, quick flushes."""
    base = load_siem_settings(app.settings, env={})
    return replace(base, spool_dir=tmp_path / "spool", udp_port=0, tcp_port=0, tls_port=0,
                   stats_flush_s=0.5, **overrides)  # type: ignore[arg-type]


@pytest.fixture
def start_service(lite_app: AppContext, tmp_path: Path
                  ) -> Iterator[Callable[..., SiemService]]:
    """Start a SiemService with overrides; every one started is stopped afterwards."""
    started: list[SiemService] = []

    def start(**overrides: object) -> SiemService:
        service = SiemService(lite_app, siem_settings_for(lite_app, tmp_path, **overrides),
                              stats=SourceStats())
        service.start()
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()


def wait_for_events(db: Database, count: int, timeout: float = 30.0) -> int:
    """Poll until at least *count* events are stored; return the final count."""
    deadline = time.monotonic() + timeout
    found = 0
    while time.monotonic() < deadline:
        with db.session(write=False) as session:
            found = store.count_events(session)
        if found >= count:
            return found
        time.sleep(0.1)
    return found
