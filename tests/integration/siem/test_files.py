"""Tailing across rotation, and ``simpul siem ingest`` / ``simpul siem stats`` end to end."""

from __future__ import annotations

import gzip
import os
import time
from collections.abc import Callable
from pathlib import Path

from siem import store
from siem.service import SiemService
from simpul.cli import main
from simpul.context import AppContext
from tests.integration.siem.conftest import wait_for_events

AUTH_LOG = [
    b"Nov 23 10:15:01 bastion sshd[2211]: Invalid user admin from 198.51.100.7 port 52144",
    b"Nov 23 10:15:03 bastion sshd[2211]: Failed password for invalid user admin from "
    b"198.51.100.7 port 52144 ssh2",
    b"Nov 23 10:15:09 bastion sshd[2230]: Accepted publickey for alice from 192.0.2.10 port "
    b"50122 ssh2: ED25519 SHA256:Jv8QmCyFXB6rmH4Ah1Yx3UZ8d5xqZrC3eQy2m1W9r0k",
    b"Nov 23 10:16:00 bastion CRON[3001]: (root) CMD (command -v debian-sa1 > /dev/null)",
]


def test_tail_follows_rotation(start_service: Callable[..., SiemService],
                               lite_app: AppContext, tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_bytes(b"old history line, not imported by the tailer\n")
    service = start_service(tail_files=(str(log),))
    time.sleep(0.7)
    with log.open("ab") as fh:
        fh.write(AUTH_LOG[0] + b"\n" + AUTH_LOG[1] + b"\n")
    assert wait_for_events(lite_app.db, 2) == 2
    os.rename(log, tmp_path / "auth.log.1")  # logrotate: rename, then a new file
    with (tmp_path / "auth.log.1").open("ab") as fh:
        fh.write(AUTH_LOG[2] + b"\n")  # written to the old inode after the rename
    log.write_bytes(AUTH_LOG[3] + b"\n")
    assert wait_for_events(lite_app.db, 4) == 4
    with lite_app.db.session(write=False) as session:
        events = store.list_events(session).events
    assert sorted(e.action or "-" for e in events) == ["-", "ssh_invalid_user", "ssh_login",
                                                       "ssh_login"]
    assert all(e.doc["log.file.path"].startswith(str(tmp_path)) for e in events)
    assert service.stats.snapshot()[f"file:{log}"]["received"] >= 2


def test_ingest_cli_is_idempotent_and_stats_show_it(lite_app: AppContext, tmp_path: Path,
                                                    capsys: object, monkeypatch: object) -> None:
    path = tmp_path / "auth.log.2.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(b"\n".join(AUTH_LOG) + b"\n" + b"\xff\x00 binary junk\n")
    env = {"SIMPUL_DATA_DIR": str(lite_app.settings.data_dir),
           "SIMPUL_DATABASE_URL": lite_app.settings.database_url}
    for key, value in env.items():
        monkeypatch.setenv(key, value)  # type: ignore[attr-defined]
    main(["siem", "ingest", str(path)])
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "5 lines, 5 stored, 0 already present, 3 parsed, 2 unparsed" in out
    main(["siem", "ingest", str(path)])
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "5 lines, 0 stored, 5 already present" in out
    main(["siem", "stats"])
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "events stored: 5" in out
    assert f"file:{path}" in out


def _incident_keys(app: AppContext) -> set[tuple[str, str]]:
    from sqlalchemy import select

    from siem.models import SiemAlert

    with app.db.session(write=False) as session:
        return {(a.rule_id, a.entity) for a in session.scalars(select(SiemAlert))}


def test_ingested_file_raises_the_incident_the_receiver_raises(
        start_service: Callable[..., SiemService], lite_app: AppContext, tmp_path: Path,
        monkeypatch: object) -> None:
    """The same brute-force lines, once over TCP and once from a file: same incidents."""
    import socket
    from datetime import UTC, datetime

    from simpul import migrate
    from simpul.db import Database
    from simpul.settings import load_settings

    stamp = datetime.now(UTC).strftime("%b %d %H:%M:%S").replace(" 0", "  ")
    lines = [f"<38>{stamp} bastion sshd[2211]: Failed password for root from 203.0.113.77 "
             f"port {40000 + i} ssh2" for i in range(6)]
    service = start_service(inventory_enrich=False)
    with socket.create_connection(("127.0.0.1", service.ports["tcp"])) as sock:
        sock.sendall("".join(f"{line}\n" for line in lines).encode())
    assert wait_for_events(lite_app.db, 6) == 6
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not _incident_keys(lite_app):
        time.sleep(0.2)
    received = _incident_keys(lite_app)
    assert ("corr:ssh-brute-force", "source.ip=203.0.113.77") in received

    path = tmp_path / "auth.log"
    path.write_text("".join(f"{line}\n" for line in lines))
    other = load_settings(env={}, data_dir=str(tmp_path / "replay"),
                          database_url=f"sqlite:///{tmp_path / 'replay.db'}")
    replay = AppContext(settings=other, db=Database.from_settings(other))
    try:
        migrate.upgrade(replay.db)
        for key, value in {"SIMPUL_DATA_DIR": str(tmp_path / "replay"),
                           "SIMPUL_DATABASE_URL": other.database_url,
                           "SIMPUL_SIEM_INVENTORY_ENRICH": "off"}.items():
            monkeypatch.setenv(key, value)  # type: ignore[attr-defined]
        main(["siem", "ingest", str(path)])
        assert _incident_keys(replay) == received
        main(["siem", "ingest", str(path)])  # already stored: no second round of alerts
        with replay.db.session(write=False) as session:
            from sqlalchemy import func, select

            from siem.models import SiemAlert
            assert session.scalar(select(func.count()).select_from(SiemAlert)) == len(received)
    finally:
        replay.db.dispose()
