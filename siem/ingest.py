"""``simpul siem ingest FILE``: one-shot import of an existing log file.

The file itself is the durable source, so the import bypasses the spool: lines are
parsed and inserted in batches, and every line's ``event.id`` comes from the file's
device, inode, byte offset and content. Importing the same file twice (or a file the
tailer already followed, or its rotated copy) stores each line once.
"""

from __future__ import annotations

import gzip
import os
import time
from dataclasses import dataclass
from pathlib import Path

from siem.enrich import EnrichmentRegistry
from siem.errors import SiemError
from siem.normalise import NormaliseOptions
from siem.spool import FLAG_TRUNCATED, Record
from siem.stats import SourceStats
from siem.writer import build_rows, store_rows
from simpul.db import Database


@dataclass
class IngestReport:
    """What an import did."""

    path: str
    lines: int = 0
    stored: int = 0
    duplicates: int = 0
    parsed: int = 0
    unparsed: int = 0
    truncated: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        """One line for the CLI."""
        rate = self.lines / self.seconds if self.seconds else 0
        return (f"{self.path}: {self.lines} lines, {self.stored} stored, {self.duplicates} "
                f"already present, {self.parsed} parsed, {self.unparsed} unparsed, "
                f"{self.truncated} truncated ({self.seconds:.1f}s, {rate:.0f} lines/s)")


def ingest_file(db: Database, path: str | Path, *, options: NormaliseOptions,
                registry: EnrichmentRegistry, stats: SourceStats | None = None,
                max_message: int = 65536, batch: int = 2000) -> IngestReport:
    """Import every line of *path* (plain or ``.gz``) and report the counts.

    Raises:
        SiemError: the file cannot be read.
    """
    path = Path(path).expanduser().absolute()
    try:
        st = os.stat(path)
        opener = gzip.open if path.suffix == ".gz" else open
        fh = opener(path, "rb")
    except OSError as exc:
        raise SiemError(f"cannot read {path}: {exc.strerror or exc}") from None
    report = IngestReport(str(path))
    started = time.monotonic()
    local = SourceStats()
    pending: list[Record] = []
    offset = 0
    now = time.time()
    with fh:
        for line in fh:
            start, offset = offset, offset + len(line)
            data = line.rstrip(b"\r\n\x00") or line.rstrip(b"\r\n")
            if not data:
                continue
            flags = 0
            if len(data) > max_message:
                data, flags = data[:max_message], FLAG_TRUNCATED
                report.truncated += 1
            pending.append(Record(data, now, "ingest", "", 0,
                                  f"file:{st.st_dev}:{st.st_ino}:{start}|{path}", flags))
            report.lines += 1
            if len(pending) >= batch:
                _flush(db, pending, options, registry, local, report)
                pending = []
                now = time.time()
        _flush(db, pending, options, registry, local, report)
    report.seconds = time.monotonic() - started
    for entry in local.snapshot().values():
        report.parsed += int(entry["parsed"])  # type: ignore[call-overload]
        report.unparsed += int(entry["unparsed"])  # type: ignore[call-overload]
    if stats is not None:
        key = f"file:{path}"
        stats.received(key, "file", report.lines, offset, report.truncated)
        stats.processed(key, "file", report.parsed, report.unparsed)
    return report


def _flush(db: Database, records: list[Record], options: NormaliseOptions,
           registry: EnrichmentRegistry, stats: SourceStats, report: IngestReport) -> None:
    if not records:
        return
    rows = build_rows(records, options, registry, stats)
    new = store_rows(db, rows)
    report.stored += new
    report.duplicates += len(rows) - new
