"""The SLA report's month arithmetic and its CSV/HTML output (no database needed)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest

from collectors.probes.sla import (
    SlaReport,
    SlaRow,
    month_bounds,
    parse_month,
    report_csv,
    report_html,
    sla_target,
)
from simpul.errors import ValidationError


def test_month_bounds_in_the_site_time_zone() -> None:
    start, end = month_bounds(date(2026, 12, 1), "Asia/Jakarta")
    assert start == datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
    assert end == datetime(2026, 12, 31, 17, 0, tzinfo=UTC)
    assert month_bounds(date(2026, 2, 1), "UTC")[1] == datetime(2026, 3, 1, tzinfo=UTC)


def test_parse_month_and_target() -> None:
    assert parse_month("2026-11") == date(2026, 11, 1)
    with pytest.raises(ValidationError, match="is not YYYY-MM"):
        parse_month("November")
    assert sla_target({}) == 99.5
    assert sla_target({"SIMPUL_SLA_TARGET": "99.9"}) == 99.9
    with pytest.raises(ValidationError):
        sla_target({"SIMPUL_SLA_TARGET": "high"})


def _report() -> SlaReport:
    rows = [SlaRow("DINKES", "web", "=HYPERLINK(\"http://x\")", "http", "http://portal/", 100,
                   99, 99.0, 12.5, 40.0, 1.0, False),
            SlaRow("", "mail", "<b>mail</b>", "smtp", "10.10.20.11", 0, 0, None, None, None,
                   0.0, None)]
    return SlaReport(date(2026, 11, 1), "Asia/Jakarta", 99.5, rows,
                     datetime(2026, 12, 1, 1, 0, tzinfo=UTC))


def test_csv_neutralises_formulas_and_keeps_numbers() -> None:
    rows = list(csv.reader(io.StringIO(report_csv(_report()))))
    assert rows[0][:3] == ["opd", "service", "probe"]
    assert rows[1] == ["DINKES", "web", "'=HYPERLINK(\"http://x\")", "http", "http://portal/",
                       "100", "99", "99.0", "12.5", "40.0", "1.0", "no"]
    assert rows[2][7:] == ["", "", "", "0.0", ""]


def test_html_is_escaped_and_marks_met_or_missed() -> None:
    html = report_html(_report())
    assert "&lt;b&gt;mail&lt;/b&gt;" in html and "<b>mail</b>" not in html
    assert "Service availability November 2026" in html
    assert '<tr class="missed">' in html and "no data" in html
