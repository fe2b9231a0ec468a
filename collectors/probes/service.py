"""Probe service functions: manage probes, run them, store and summarise their results.

The CLI, the API, the UI, the background scheduler and the tests all call these.
Tenancy: Diskominfo staff see every probe; an OPD user only their OPD's (another OPD's
probe is "not found", never "forbidden", so ids do not leak).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, delete, func, select
from sqlalchemy.orm import Session

from collectors.probes.checks import CheckResult, ProbeSpec, run_check
from collectors.probes.models import PROBE_KINDS, Probe, ProbeResult
from inventory.service import audit, snapshot
from simpul.aio import run_sync
from simpul.audit import Actor
from simpul.db import Database
from simpul.errors import NotFoundError, PermissionDeniedError, ValidationError
from simpul.models import User, utcnow
from simpul.tenancy import require_opd

WRITABLE = frozenset({"name", "service", "opd", "kind", "target", "port", "expect",
                      "interval_s", "timeout_s", "device", "site", "enabled", "description"})
EDITOR_ROLES = ("admin", "noc", "infrastructure")
DEFAULT_CONCURRENCY = 100


def can_edit(user: User | None) -> bool:
    """Probes are changed by Diskominfo's NOC, Infrastruktur and admins only."""
    return user is None or (user.is_operator_staff and user.role in EDITOR_ROLES)


def _require_editor(user: User | None) -> None:
    if not can_edit(user):
        raise PermissionDeniedError("only NOC, Infrastruktur or an admin may change probes")


def probes_query(user: User | None = None, *, opd_id: int | None = None,
                 service: str | None = None) -> Select[tuple[Probe]]:
    """Return the probes *user* may see (None: everything), optionally filtered."""
    stmt = select(Probe).order_by(Probe.service, Probe.name)
    if user is not None and not user.is_operator_staff:
        stmt = stmt.where(Probe.opd_id == user.opd_id)
    if opd_id is not None:
        stmt = stmt.where(Probe.opd_id == opd_id)
    if service:
        stmt = stmt.where(Probe.service == service)
    return stmt


def list_probes(session: Session, user: User | None = None, **filters: Any) -> Sequence[Probe]:
    """Return visible probes, by service then name."""
    return session.scalars(probes_query(user, **filters)).unique().all()


def get_probe(session: Session, ref: int | str, user: User | None = None) -> Probe | None:
    """Return the probe with this id or name if *user* may see it, else None."""
    if isinstance(ref, int) or str(ref).isdigit():
        probe = session.get(Probe, int(ref))
    else:
        probe = session.scalar(select(Probe).where(Probe.name == str(ref)))
    if probe is None or (user is not None and not user.is_operator_staff
                         and probe.opd_id != user.opd_id):
        return None
    return probe


def require_probe(session: Session, ref: int | str, user: User | None = None) -> Probe:
    """Return the probe or raise NotFoundError."""
    probe = get_probe(session, ref, user)
    if probe is None:
        raise NotFoundError(f"probe {ref} does not exist", errors={"probe": ["not found"]})
    return probe


def _validate(session: Session, values: dict[str, Any], probe_id: int | None) -> None:
    errors: dict[str, list[str]] = {}

    def bad(name: str, why: str) -> None:
        errors.setdefault(name, []).append(why)

    name = str(values.get("name") or "").strip()
    if not name:
        bad("name", "required")
    elif session.scalar(select(Probe.id).where(Probe.name == name, Probe.id != (probe_id or 0))):
        bad("name", "already exists")
    if values.get("kind") not in PROBE_KINDS:
        bad("kind", f"one of {', '.join(PROBE_KINDS)}")
    if not str(values.get("service") or "").strip():
        bad("service", "required")
    target = str(values.get("target") or "").strip()
    if not target:
        bad("target", "required")
    kind, port = values.get("kind"), values.get("port")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int)
                             or not 0 < port < 65536):
        bad("port", "a port number 1-65535")
    if kind == "tcp" and port is None:
        bad("port", "required for tcp")
    if kind == "http" and not target.startswith(("http://", "https://")):
        bad("target", "an http:// or https:// URL")
    expect = values.get("expect")
    if not isinstance(expect, dict):
        bad("expect", "a JSON object")
    elif kind == "dns" and not expect.get("name"):
        bad("expect", "dns probes need expect.name")
    interval = values.get("interval_s")
    if isinstance(interval, bool) or not isinstance(interval, int) or interval < 5:
        bad("interval_s", "whole seconds, at least 5")
    timeout = values.get("timeout_s")
    if (isinstance(timeout, bool) or not isinstance(timeout, int | float)
            or not 0 < timeout <= 60):
        bad("timeout_s", "seconds, above 0 and at most 60")
    if errors:
        first = next(iter(errors))
        raise ValidationError(f"probe {first}: {errors[first][0]}", errors=errors)


def _resolve_opd(session: Session, values: dict[str, Any]) -> None:
    opd = values.pop("opd", None)
    if opd not in (None, ""):
        values["opd_id"] = require_opd(session, str(opd)).id
    elif "opd" in values or "opd_id" not in values:
        values["opd_id"] = None


def create_probe(session: Session, actor: Actor, *, user: User | None = None,
                 **fields: Any) -> Probe:
    """Create a probe from *fields* (see WRITABLE); ``opd`` is an OPD code.

    Raises:
        ValidationError: a field is missing or wrong (keyed by field).
        PermissionDeniedError: *user* is not NOC, Infrastruktur or admin.
    """
    _require_editor(user)
    unknown = sorted(set(fields) - WRITABLE)
    if unknown:
        raise ValidationError(f"unknown field(s): {', '.join(unknown)}")
    values: dict[str, Any] = {"expect": {}, "interval_s": 60, "timeout_s": 5.0, "device": "",
                              "site": "", "enabled": True, "description": "", "port": None,
                              **fields}
    _resolve_opd(session, values)
    values["name"] = str(values.get("name") or "").strip()
    _validate(session, values, None)
    probe = Probe(**values)
    session.add(probe)
    session.flush()
    audit(session, actor, "create", probe)
    return probe


def update_probe(session: Session, actor: Actor, probe: Probe, changes: dict[str, Any], *,
                 user: User | None = None) -> Probe:
    """Change a probe; all fields checked together, nothing changed on error."""
    _require_editor(user)
    unknown = sorted(set(changes) - WRITABLE)
    if unknown:
        raise ValidationError(f"unknown field(s): {', '.join(unknown)}")
    before = snapshot(probe)
    values = {k: v for k, v in before.items() if k != "id"}
    values.update(changes)
    if "opd" in changes:
        _resolve_opd(session, values)
    _validate(session, values, probe.id)
    for key, value in values.items():
        setattr(probe, key, value)
    audit(session, actor, "update", probe, before=before)
    return probe


def delete_probe(session: Session, actor: Actor, probe: Probe, *, user: User | None = None
                 ) -> None:
    """Delete a probe and its results."""
    _require_editor(user)
    audit(session, actor, "delete", probe, before=snapshot(probe), deleted=True)
    session.execute(delete(ProbeResult).where(ProbeResult.probe_id == probe.id))
    session.delete(probe)


def spec_of(probe: Probe) -> ProbeSpec:
    """The database row as the check wants it."""
    return ProbeSpec(probe.kind, probe.target, probe.port, dict(probe.expect or {}),
                     float(probe.timeout_s))


async def run_specs(specs: dict[int, ProbeSpec], concurrency: int = DEFAULT_CONCURRENCY
                    ) -> dict[int, CheckResult]:
    """Run checks concurrently (at most *concurrency* at once); one result per key."""
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(key: int, spec: ProbeSpec) -> tuple[int, CheckResult]:
        async with gate:
            return key, await run_check(spec)

    pairs = await asyncio.gather(*(one(k, s) for k, s in specs.items()))
    return dict(pairs)


def store_results(session: Session, results: dict[int, CheckResult], at: datetime) -> None:
    """Insert one result row per probe id."""
    session.add_all([ProbeResult(probe_id=pid, at=at, ok=r.ok, rtt_ms=r.rtt_ms,
                                 detail=r.detail[:500], cert_expires_at=r.cert_expires_at)
                     for pid, r in results.items()])


def run_probes(db: Database, refs: Sequence[int | str] = (), *,
               concurrency: int = DEFAULT_CONCURRENCY, now: datetime | None = None
               ) -> list[tuple[Probe, CheckResult]]:
    """Run the given probes (default: every enabled one) once and store the results.

    Blocking; called from the CLI, tests and the scheduler's worker thread.
    """
    with db.session(write=False) as session:
        probes = ([require_probe(session, ref) for ref in refs] if refs
                  else list(session.scalars(select(Probe).where(Probe.enabled.is_(True)))))
        for probe in probes:
            session.expunge(probe)
    results = run_sync(run_specs({p.id: spec_of(p) for p in probes}, concurrency))
    with db.session() as session:
        store_results(session, results, now or utcnow())
    return [(p, results[p.id]) for p in probes]


def latest_results(session: Session, probe_ids: Sequence[int]) -> dict[int, ProbeResult]:
    """Return the newest result of each probe (probes never run are absent)."""
    if not probe_ids:
        return {}
    newest = (select(ProbeResult.probe_id, func.max(ProbeResult.id).label("mid"))
              .where(ProbeResult.probe_id.in_(list(probe_ids)))
              .group_by(ProbeResult.probe_id).subquery())
    rows = session.scalars(select(ProbeResult).join(newest, ProbeResult.id == newest.c.mid))
    return {r.probe_id: r for r in rows}


def list_results(session: Session, probe: Probe, *, since: datetime | None = None,
                 until: datetime | None = None, limit: int = 500) -> Sequence[ProbeResult]:
    """Return *probe*'s results, newest first."""
    stmt = select(ProbeResult).where(ProbeResult.probe_id == probe.id)
    if since is not None:
        stmt = stmt.where(ProbeResult.at >= since)
    if until is not None:
        stmt = stmt.where(ProbeResult.at < until)
    return session.scalars(stmt.order_by(ProbeResult.at.desc(), ProbeResult.id.desc())
                           .limit(limit)).all()


def recent_failures(session: Session, probe_id: int, count: int) -> tuple[int, ProbeResult | None]:
    """How many of the last *count* results failed in a row (from the newest), and the newest."""
    rows = session.scalars(select(ProbeResult).where(ProbeResult.probe_id == probe_id)
                           .order_by(ProbeResult.at.desc(), ProbeResult.id.desc())
                           .limit(max(1, count))).all()
    streak = 0
    for row in rows:
        if row.ok:
            break
        streak += 1
    return streak, (rows[0] if rows else None)


@dataclass(frozen=True)
class Availability:
    """Checks, successes and response times of one probe over a period."""

    probe_id: int
    checks: int
    up: int
    avg_rtt_ms: float | None
    max_rtt_ms: float | None

    @property
    def pct(self) -> float | None:
        """Availability in percent, None without any check."""
        return round(100.0 * self.up / self.checks, 3) if self.checks else None


def availability(session: Session, probe_ids: Sequence[int], since: datetime,
                 until: datetime) -> dict[int, Availability]:
    """Return availability and response time of each probe in [since, until)."""
    if not probe_ids:
        return {}
    ok_rtt = case((ProbeResult.ok.is_(True), ProbeResult.rtt_ms), else_=None)
    rows = session.execute(
        select(ProbeResult.probe_id, func.count(),
               func.sum(case((ProbeResult.ok.is_(True), 1), else_=0)),
               func.avg(ok_rtt), func.max(ok_rtt))
        .where(ProbeResult.probe_id.in_(list(probe_ids)), ProbeResult.at >= since,
               ProbeResult.at < until)
        .group_by(ProbeResult.probe_id)).all()
    found = {pid: Availability(pid, int(n), int(up or 0),
                               round(float(avg), 3) if avg is not None else None,
                               round(float(mx), 3) if mx is not None else None)
             for pid, n, up, avg, mx in rows}
    return {pid: found.get(pid, Availability(pid, 0, 0, None, None)) for pid in probe_ids}


def prune_results(session: Session, older_than: timedelta, now: datetime | None = None) -> int:
    """Delete results older than *older_than*; return how many."""
    cutoff = (now or utcnow()) - older_than
    result = session.execute(delete(ProbeResult).where(ProbeResult.at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
