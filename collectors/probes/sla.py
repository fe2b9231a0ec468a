"""The monthly SLA report: availability and response time per OPD and service (CSV, HTML).

Availability is the share of successful checks in the calendar month (in the site's
time zone, ``SIMPUL_TIMEZONE``); downtime is estimated as failed checks times the
probe's interval. The target (``SIMPUL_SLA_TARGET``, default 99.5 %) marks each row met
or missed.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment, select_autoescape
from sqlalchemy.orm import Session

from collectors.probes.service import availability, list_probes
from simpul.errors import ValidationError
from simpul.models import User
from simpul.tenancy import require_opd

DEFAULT_TARGET = 99.5


def sla_target(env: dict[str, str] | None = None) -> float:
    """The availability target in percent (``SIMPUL_SLA_TARGET``)."""
    raw = (os.environ if env is None else env).get("SIMPUL_SLA_TARGET", "").strip()
    try:
        return float(raw) if raw else DEFAULT_TARGET
    except ValueError:
        raise ValidationError(f"SIMPUL_SLA_TARGET {raw!r} is not a number") from None


def parse_month(text: str) -> date:
    """``2026-11`` -> the first of that month."""
    try:
        year, month = (int(p) for p in text.strip().split("-", 1))
        return date(year, month, 1)
    except ValueError:
        raise ValidationError(f"month {text!r} is not YYYY-MM",
                              errors={"month": ["YYYY-MM"]}) from None


def month_bounds(month: date, tz: str) -> tuple[datetime, datetime]:
    """Start and end (exclusive) of *month* in *tz*, as UTC."""
    zone = ZoneInfo(tz)
    start = datetime(month.year, month.month, 1, tzinfo=zone)
    nxt = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=zone)
    return start.astimezone(UTC), nxt.astimezone(UTC)


@dataclass(frozen=True)
class SlaRow:
    """One probe's month."""

    opd: str
    service: str
    probe: str
    kind: str
    target: str
    checks: int
    up: int
    availability_pct: float | None
    avg_rtt_ms: float | None
    max_rtt_ms: float | None
    downtime_min: float
    met: bool | None


@dataclass(frozen=True)
class SlaReport:
    """Every row of one month, with the target they are held to."""

    month: date
    timezone: str
    target_pct: float
    rows: list[SlaRow]
    generated_at: datetime


def sla_report(session: Session, month: date, *, tz: str = "Asia/Jakarta",
               opd: str | None = None, user: User | None = None,
               target_pct: float | None = None) -> SlaReport:
    """Build the report for *month*, limited to *opd* (a code) and what *user* may see."""
    target = sla_target() if target_pct is None else target_pct
    opd_id = require_opd(session, opd).id if opd else None
    probes = list_probes(session, user, opd_id=opd_id)
    since, until = month_bounds(month, tz)
    stats = availability(session, [p.id for p in probes], since, until)
    rows = []
    for p in probes:
        a = stats[p.id]
        rows.append(SlaRow(
            opd=p.opd.code if p.opd else "", service=p.service, probe=p.name, kind=p.kind,
            target=p.target, checks=a.checks, up=a.up, availability_pct=a.pct,
            avg_rtt_ms=a.avg_rtt_ms, max_rtt_ms=a.max_rtt_ms,
            downtime_min=round((a.checks - a.up) * p.interval_s / 60, 1),
            met=None if a.pct is None else a.pct >= target))
    rows.sort(key=lambda r: (r.opd, r.service, r.probe))
    return SlaReport(month, tz, target, rows, datetime.now(UTC))


CSV_COLUMNS = ("opd", "service", "probe", "kind", "target", "checks", "up",
               "availability_pct", "avg_rtt_ms", "max_rtt_ms", "downtime_min", "met")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _number(text) else text


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def report_csv(report: SlaReport) -> str:
    """The report as CSV, one row per probe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in report.rows:
        writer.writerow([_cell(getattr(row, c)) for c in CSV_COLUMNS])
    return out.getvalue()


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>SLA {{ r.month.strftime('%Y-%m') }}</title>
<style>
body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}
td,th{border:1px solid #999;padding:.3em .6em;text-align:left}
td.n{text-align:right}.missed{background:#fdd}.met{background:#dfd}
</style></head><body>
<h1>Service availability {{ r.month.strftime('%B %Y') }}</h1>
<p>Target {{ '%.2f' % r.target_pct }} %; time zone {{ r.timezone }};
generated {{ r.generated_at.strftime('%Y-%m-%d %H:%M') }} UTC.</p>
<table><thead><tr><th>OPD</th><th>Service</th><th>Probe</th><th>Kind</th><th>Target</th>
<th>Checks</th><th>Availability %</th><th>Avg ms</th><th>Max ms</th><th>Downtime min</th>
<th>SLA</th></tr></thead><tbody>
{% for row in r.rows %}
<tr class="{{ 'met' if row.met else ('missed' if row.met is false else '') }}">
<td>{{ row.opd or "-" }}</td><td>{{ row.service }}</td><td>{{ row.probe }}</td>
<td>{{ row.kind }}</td>
<td>{{ row.target }}</td><td class="n">{{ row.checks }}</td>
<td class="n">{{ '%.3f' % row.availability_pct if row.availability_pct is not none else '-' }}</td>
<td class="n">{{ '%.1f' % row.avg_rtt_ms if row.avg_rtt_ms is not none else '-' }}</td>
<td class="n">{{ '%.1f' % row.max_rtt_ms if row.max_rtt_ms is not none else '-' }}</td>
<td class="n">{{ row.downtime_min }}</td>
<td>{{ 'met' if row.met else ('missed' if row.met is false else 'no data') }}</td></tr>
{% else %}<tr><td colspan="11">No probes.</td></tr>{% endfor %}
</tbody></table></body></html>
"""
_env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))


def report_html(report: SlaReport) -> str:
    """The report as one self-contained HTML page (for printing or mailing)."""
    return _env.from_string(_HTML).render(r=report)
