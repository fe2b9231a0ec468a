"""Event search for the console and the API: query + time range + tenancy -> one SELECT.

The query is compiled to SQL (``siem.query.compile_sql``); the database filters, sorts
and pages. Tenancy: a user outside the operator OPD sees only events whose enriched
addresses (source, destination, host, observer) belong to their OPD.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, String, cast, or_, select
from sqlalchemy.orm import Session

from siem.models import SiemEvent, SiemSavedSearch
from siem.normalise import to_nested
from siem.query import QueryError, compile_sql, parse_query, parse_time
from simpul.errors import ConflictError, NotFoundError, ValidationError

_OPD_FIELDS = ("source.asset.opd", "destination.asset.opd", "host.asset.opd",
               "observer.asset.opd")
TIME_RANGES = ("15m", "1h", "24h", "7d", "30d")


def opd_condition(code: str) -> Any:
    """Events that belong to OPD *code* by enrichment."""
    return or_(*(cast(SiemEvent.doc[f].as_string(), String) == code for f in _OPD_FIELDS))


def events_query(q: str = "", *, since: str | datetime | None = None,
                 until: str | datetime | None = None, opd: str | None = None,
                 scope_opd: str | None = None, after_id: int | None = None
                 ) -> Select[tuple[SiemEvent]]:
    """The SELECT for a console search, newest first.

    Raises:
        QueryError: the query or a time is invalid (the message says why).
    """
    stmt = select(SiemEvent).where(compile_sql(parse_query(q)))
    start = parse_time(since, name="since") if isinstance(since, str) else since
    end = parse_time(until, name="until") if isinstance(until, str) else until
    if start is not None:
        stmt = stmt.where(SiemEvent.timestamp >= start)
    if end is not None:
        stmt = stmt.where(SiemEvent.timestamp < end)
    if start is not None and end is not None and start >= end:
        raise QueryError("since must be before until")
    if opd:
        stmt = stmt.where(opd_condition(opd))
    if scope_opd is not None:
        stmt = stmt.where(opd_condition(scope_opd))
    if after_id is not None:
        stmt = stmt.where(SiemEvent.id > after_id)
    return stmt.order_by(SiemEvent.timestamp.desc(), SiemEvent.id.desc())


def event_json(row: SiemEvent, *, full: bool = False) -> dict[str, Any]:
    """An event as the API shows it (``full``: the nested document and the raw line)."""
    def iso(value: datetime | None) -> str | None:
        if value is None:
            return None
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()

    out: dict[str, Any] = {
        "id": str(row.id), "event_id": row.event_id, "timestamp": iso(row.timestamp),
        "created": iso(row.created), "host": row.host_name, "host_ip": row.host_ip,
        "source_ip": row.source_ip, "destination_ip": row.destination_ip,
        "user": row.user_name, "action": row.action, "outcome": row.outcome,
        "category": row.category, "severity": row.severity, "dataset": row.dataset,
        "message": row.message, "url": f"/api/siem/events/{row.event_id}/",
    }
    if full:
        out["event"] = to_nested(row.doc or {})
        out["fields"] = row.doc or {}
        out["raw"] = row.raw
        out["raw_encoding"] = row.raw_encoding
    return out


def require_event(session: Session, event_id: str, *, scope_opd: str | None = None
                  ) -> SiemEvent:
    """One event by its ``event.id`` (404 also for another OPD's event)."""
    stmt = select(SiemEvent).where(SiemEvent.event_id == event_id[:32])
    if scope_opd is not None:
        stmt = stmt.where(opd_condition(scope_opd))
    row = session.scalars(stmt).first()
    if row is None:
        raise NotFoundError(f"event {event_id[:40]} not found")
    return row


# ------------------------------------------------------------- saved searches

def list_saved(session: Session, owner: str) -> list[SiemSavedSearch]:
    """The user's saved searches by name."""
    return list(session.scalars(select(SiemSavedSearch).where(SiemSavedSearch.owner == owner)
                                .order_by(SiemSavedSearch.name)))


def save_search(session: Session, owner: str, name: str, query: str,
                time_range: str = "24h") -> SiemSavedSearch:
    """Save (or replace) a named search after checking that the query parses.

    Raises:
        ValidationError: empty name, bad query or time range.
    """
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError("name must be 1 to 100 characters", errors={"name": ["required"]})
    try:
        parse_query(query)
    except QueryError as exc:
        raise ValidationError(str(exc), errors={"query": [str(exc)]}) from None
    if time_range not in TIME_RANGES:
        raise ValidationError(f"time range must be one of {', '.join(TIME_RANGES)}",
                              errors={"time_range": ["unknown"]})
    row = session.scalars(select(SiemSavedSearch).where(
        SiemSavedSearch.owner == owner, SiemSavedSearch.name == name)).first()
    if row is None:
        row = SiemSavedSearch(owner=owner, name=name, query=query, time_range=time_range)
        session.add(row)
    else:
        row.query, row.time_range = query, time_range
    try:
        session.flush()
    except Exception as exc:  # a concurrent save of the same name
        raise ConflictError(f"a search named {name!r} already exists") from exc
    return row


def delete_search(session: Session, owner: str, search_id: int) -> None:
    """Delete one of the user's saved searches."""
    row = session.get(SiemSavedSearch, search_id)
    if row is None or row.owner != owner:
        raise NotFoundError(f"saved search {search_id} not found")
    session.delete(row)


