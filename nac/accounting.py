"""RADIUS accounting: which MAC is on which NAS port, in which VLAN, since when.

A Start opens a session (keyed by NAS and Acct-Session-Id, so a retransmitted Start is
harmless), Interim-Update refreshes counters, Stop closes it; Accounting-On/Off from a
NAS (it rebooted) closes every session still open on it. The VLAN is the one the
request names, else the one the last accepting decision for that MAC on that NAS gave.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from nac.models import NacDecision, NacSession
from simpul.models.base import utcnow


@dataclass(frozen=True)
class AcctRecord:
    """The fields of one Accounting-Request simpul keeps."""

    status: str
    session_id: str
    mac: str
    username: str
    nas_ip: str
    nas_port: str
    input_octets: int = 0
    output_octets: int = 0
    session_time: int = 0
    terminate_cause: str = ""
    vid: int | None = None  # from the request, or the decision just made for this MAC


def _last_vid(session: Session, mac: str, nas_ip: str) -> int | None:
    return session.scalar(
        select(NacDecision.vid).where(NacDecision.mac == mac, NacDecision.nas_ip == nas_ip,
                                      NacDecision.result != "reject")
        .order_by(NacDecision.id.desc()).limit(1))


def record_accounting(session: Session, rec: AcctRecord) -> NacSession | None:
    """Apply one accounting record; return the session it touched (None for On/Off)."""
    now = utcnow()
    status = rec.status.strip().lower()
    if status in ("accounting-on", "accounting-off"):
        session.execute(update(NacSession).where(NacSession.nas_ip == rec.nas_ip,
                                                 NacSession.stopped_at.is_(None))
                        .values(stopped_at=now, terminate_cause="NAS-Reboot"))
        return None
    if not rec.session_id or status not in ("start", "interim-update", "alive", "stop"):
        return None
    row = session.scalar(select(NacSession).where(NacSession.nas_ip == rec.nas_ip,
                                                  NacSession.acct_session_id == rec.session_id))
    if row is None:
        row = NacSession(acct_session_id=rec.session_id[:64], mac=rec.mac,
                         username=rec.username[:253], nas_ip=rec.nas_ip, nas_port=rec.nas_port,
                         vid=rec.vid if rec.vid is not None or not rec.mac
                         else _last_vid(session, rec.mac, rec.nas_ip),
                         started_at=now, updated_at=now, input_octets=0, output_octets=0)
        if rec.session_time and status != "start":  # first seen mid-session: back-date
            row.started_at = now - timedelta(seconds=rec.session_time)
        session.add(row)
    row.updated_at = now
    if row.vid is None and rec.vid is not None:
        row.vid = rec.vid
    row.input_octets = max(row.input_octets or 0, rec.input_octets)
    row.output_octets = max(row.output_octets or 0, rec.output_octets)
    if status == "stop":
        row.stopped_at = now
        row.terminate_cause = rec.terminate_cause[:64]
    return row


def list_sessions(session: Session, *, mac: str | None = None, nas_ip: str | None = None,
                  nas_port: str | None = None, open_only: bool = False, limit: int = 200
                  ) -> Sequence[NacSession]:
    """Sessions newest first, per device (*mac*) or per port (*nas_ip*, *nas_port*)."""
    stmt = select(NacSession).order_by(NacSession.started_at.desc(), NacSession.id.desc())
    if mac:
        stmt = stmt.where(NacSession.mac == mac)
    if nas_ip:
        stmt = stmt.where(NacSession.nas_ip == nas_ip)
    if nas_port:
        stmt = stmt.where(NacSession.nas_port == nas_port)
    if open_only:
        stmt = stmt.where(NacSession.stopped_at.is_(None))
    return session.scalars(stmt.limit(limit)).all()


def current_session(session: Session, mac: str) -> NacSession | None:
    """Where *mac* is connected now (its newest open session), or None."""
    found = list_sessions(session, mac=mac, open_only=True, limit=1)
    return found[0] if found else None


def recent_decisions(session: Session, *, result: str | None = None, mac: str | None = None,
                     limit: int = 100) -> Sequence[NacDecision]:
    """The newest decisions (e.g. ``result="reject"`` for the recent-rejects view)."""
    stmt = select(NacDecision).order_by(NacDecision.id.desc()).limit(limit)
    if result:
        stmt = stmt.where(NacDecision.result == result)
    if mac:
        stmt = stmt.where(NacDecision.mac == mac)
    return session.scalars(stmt).all()
