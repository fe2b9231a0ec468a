"""Reports: how many work orders, and how long they took, per type, OPD and month.

Resolution time runs from intake to closure of WOs that ended ``closed`` (rejections
are counted, not timed). The 95th percentile uses the nearest-rank method, so it is
always a time some WO actually took.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from simpul.models import Opd, User
from webui.helpdesk.models import WorkOrder, aware
from webui.helpdesk.services import is_staff


@dataclass(frozen=True)
class ReportRow:
    """One (type, OPD, month) cell of the report."""

    type: str
    opd: str
    month: str  # YYYY-MM of intake
    filed: int
    closed: int
    rejected: int
    open: int
    mean_hours: float | None
    p95_hours: float | None


@dataclass
class _Cell:
    filed: int = 0
    closed: int = 0
    rejected: int = 0
    open: int = 0
    hours: list[float] = field(default_factory=list)


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Return the nearest-rank *pct* percentile of *values* (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(pct / 100 * len(ordered)) - 1, 0)]


def resolution_report(session: Session, user: User, *, since: datetime | None = None,
                      until: datetime | None = None) -> list[ReportRow]:
    """Return the report rows for the WOs *user* may see, filed in [since, until)."""
    stmt = (select(WorkOrder.type, Opd.code, WorkOrder.state, WorkOrder.created_at,
                   WorkOrder.closed_at).join(Opd, Opd.id == WorkOrder.opd_id))
    if not is_staff(user):
        stmt = stmt.where(WorkOrder.opd_id == user.opd_id)
    if since is not None:
        stmt = stmt.where(WorkOrder.created_at >= since)
    if until is not None:
        stmt = stmt.where(WorkOrder.created_at < until)
    cells: dict[tuple[str, str, str], _Cell] = defaultdict(_Cell)
    for type_, opd, state, created, closed in session.execute(stmt):
        created = aware(created)
        cell = cells[(type_, opd, created.strftime("%Y-%m"))]
        cell.filed += 1
        if state == "closed":
            cell.closed += 1
            cell.hours.append((aware(closed) - created).total_seconds() / 3600)
        elif state == "rejected":
            cell.rejected += 1
        else:
            cell.open += 1
    rows = []
    for (type_, opd, month), c in sorted(cells.items()):
        p95 = percentile(c.hours, 95)
        rows.append(ReportRow(type_, opd, month, c.filed, c.closed, c.rejected, c.open,
                              round(sum(c.hours) / len(c.hours), 2) if c.hours else None,
                              None if p95 is None else round(p95, 2)))
    return rows


FIELDS = ("type", "opd", "month", "filed", "closed", "rejected", "open", "mean_hours",
          "p95_hours")


def to_csv(rows: Sequence[ReportRow]) -> str:
    """Return the report as CSV with a header line (empty cells for no data)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    for row in rows:
        writer.writerow(["" if (v := getattr(row, f)) is None else v for f in FIELDS])
    return out.getvalue()
