"""Bulk registration from CSV, with a per-row report.

Each row is registered through ``nac.register.create_device`` inside its own SAVEPOINT,
so a bad row is reported (line number, MAC, reason) without disturbing the others.
By default the import is all-or-nothing: if any row fails, nothing is kept and the
report lists every problem, so the file can be fixed and sent again as a whole. With
``all_or_nothing=False`` (CLI ``--partial``) the valid rows are kept and the invalid
ones reported. Either way, nothing already in the register is changed.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from nac.errors import NacValidationError
from nac.register import create_device
from simpul.audit import Actor
from simpul.errors import SimpulError
from simpul.models import User

COLUMNS = ("mac", "owner", "opd", "device_type", "purpose", "role", "expires_at",
           "auth_method", "description")
MAX_ROWS = 20000


@dataclass(frozen=True)
class RowError:
    """Why one CSV line was refused."""

    line: int
    mac: str
    reason: str


@dataclass
class ImportReport:
    """What an import did: MACs registered, rows refused, and whether anything was kept."""

    all_or_nothing: bool
    created: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def kept(self) -> bool:
        """True when the created rows stay in the register."""
        return bool(self.created) and not (self.all_or_nothing and self.errors)

    def lines(self) -> list[str]:
        """A human-readable report, one line per refused row plus a summary."""
        out = [f"line {e.line}: {e.mac or '-'}: {e.reason}" for e in self.errors]
        if self.errors and self.all_or_nothing:
            out.append(f"nothing imported: {len(self.errors)} row(s) refused "
                       "(all-or-nothing; fix them, or use --partial to keep the valid rows)")
        else:
            out.append(f"{len(self.created)} device(s) registered, "
                       f"{len(self.errors)} row(s) refused")
        return out


def import_devices(session: Session, actor: Actor, text: str, *, user: User | None = None,
                   all_or_nothing: bool = True) -> ImportReport:
    """Register the devices in CSV *text* (header row naming ``COLUMNS``; ``mac`` required).

    Raises:
        NacValidationError: the file itself is unusable (no header, no ``mac`` column,
            unknown columns, too many rows) — no row is looked at.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "mac" not in header:
        raise NacValidationError("the CSV needs a header row with at least a 'mac' column "
                                 f"(columns: {', '.join(COLUMNS)})")
    unknown = sorted(set(header) - set(COLUMNS))
    if unknown:
        raise NacValidationError(f"unknown CSV column(s): {', '.join(unknown)} "
                                 f"(known: {', '.join(COLUMNS)})")
    reader.fieldnames = header
    report = ImportReport(all_or_nothing=all_or_nothing)
    outer = session.begin_nested()
    for number, row in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            outer.rollback()
            raise NacValidationError(f"the CSV has more than {MAX_ROWS} rows; split it")
        values = {k: (v or "").strip() for k, v in row.items() if k is not None}
        if not any(values.values()):
            continue  # blank line
        if None in row:
            report.errors.append(RowError(number, values.get("mac", ""),
                                          "more fields than the header has"))
            continue
        savepoint = session.begin_nested()
        try:
            device = create_device(
                session, actor, values.get("mac", ""), opd=values.get("opd") or None,
                owner=values.get("owner", ""), device_type=values.get("device_type") or "pc",
                purpose=values.get("purpose", ""), role=values.get("role") or None,
                expires_at=values.get("expires_at") or None,
                auth_method=values.get("auth_method") or "mab",
                description=values.get("description", ""), user=user)
            session.flush()
        except SimpulError as exc:
            savepoint.rollback()
            report.errors.append(RowError(number, values.get("mac", ""), exc.message))
            continue
        savepoint.commit()
        report.created.append(device.mac)
    if report.errors and all_or_nothing:
        outer.rollback()
    else:
        outer.commit()
    return report
