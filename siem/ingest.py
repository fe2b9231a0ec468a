"""``simpul siem ingest FILE``: one-shot import of an existing log file.

The file itself is the durable source, so the import bypasses the spool; otherwise the
lines take the receivers' path (``siem.writer.process_batch``): parse, normalise,
enrich, store in batches, then the detection rules and incidents, so a replayed log
raises the incidents its lines would have raised over syslog. Every line's ``event.id``
comes from the file's device, inode, byte offset and content: importing the same file
twice (or a file the tailer already followed, or its rotated copy) stores each line
once, and lines already stored are not shown to the rules again.
"""

from __future__ import annotations

import gzip
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from siem.enrich import EnrichmentRegistry
from siem.errors import SiemError
from siem.normalise import NormaliseOptions
from siem.spool import FLAG_TRUNCATED, Record
from siem.stats import SourceStats
from siem.writer import process_batch
from simpul.db import Database

if TYPE_CHECKING:
    from siem.detect.runner import DetectionRunner
    from simpul.context import AppContext


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


def ingest_files(app: AppContext, paths: list[str | Path], *, detect: bool | None = None,
                 on_report: Callable[[IngestReport], None] | None = None
                 ) -> list[IngestReport]:
    """Import *paths* with the service's settings, enrichment and rules; one report each.

    *detect* None follows ``SIMPUL_SIEM_DETECT``; *on_report* sees each report as soon
    as its file is done. Source counters are flushed at the end.

    Raises:
        SiemError: a file cannot be read (files before it are imported).
    """
    from siem import store
    from siem.enrich import build_registry
    from siem.service import build_detection, resolve_tz
    from siem.settings import load_siem_settings

    siem = load_siem_settings(app.settings)
    registry = build_registry(siem.asset_map)
    options = NormaliseOptions(epoch="", tz=resolve_tz(siem.default_tz))
    detection = None
    if siem.detect if detect is None else detect:
        detection = build_detection(app, siem, registry, live=False)
        detection.start()
    stats = SourceStats()
    reports: list[IngestReport] = []
    try:
        for path in paths:
            report = ingest_file(app.db, path, options=options, registry=registry,
                                 stats=stats, max_message=siem.max_message,
                                 batch=siem.batch_records, detection=detection)
            reports.append(report)
            if on_report is not None:
                on_report(report)
    finally:
        if detection is not None:
            detection.stop()  # hit counts
        with app.db.session() as session:
            store.flush_source_counters(session, stats.take_deltas())
    return reports


def ingest_file(db: Database, path: str | Path, *, options: NormaliseOptions,
                registry: EnrichmentRegistry, stats: SourceStats | None = None,
                max_message: int = 65536, batch: int = 2000,
                detection: DetectionRunner | None = None) -> IngestReport:
    """Import every line of *path* (plain or ``.gz``) and report the counts.

    With *detection* (started by the caller), the rules run on each stored batch.

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
                _flush(db, pending, options, registry, local, report, detection)
                pending = []
                now = time.time()
        _flush(db, pending, options, registry, local, report, detection)
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
           registry: EnrichmentRegistry, stats: SourceStats, report: IngestReport,
           detection: DetectionRunner | None) -> None:
    if not records:
        return
    new = process_batch(db, records, options, registry, stats, detection, only_new=True)
    report.stored += new
    report.duplicates += len(records) - new
