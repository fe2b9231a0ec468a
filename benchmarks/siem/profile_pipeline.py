"""Profile the SIEM's per-event path in one process, without sockets.

The benchmark's stream (``bench_siem.make_stream``) goes through the same steps as in
``simpul siem run``: framing, spool append, spool read, parse, normalise, enrich,
SQLite batch insert and commit, the 50 rules and incident filing. Prints CPU seconds
per stage and events per CPU-second; ``--profile FILE`` writes a cProfile dump.

    .venv/bin/python -m benchmarks.siem.profile_pipeline [--events 30000] [--profile out.prof]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import re
import shutil
import tempfile
import time
from pathlib import Path

from benchmarks.siem.bench_siem import make_stream, write_extra_rules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--detect", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--profile", default="", help="write a cProfile dump here")
    parser.add_argument("--top", type=int, default=0, help="print the top N functions")
    parser.add_argument("--tune-gc", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--dump", default="",
                        help="write the alerts and incidents (sorted JSON) here, to compare "
                             "the detections of two versions")
    args = parser.parse_args()

    from dataclasses import replace

    from siem.detect.runner import DetectionRunner
    from siem.enrich import build_registry
    from siem.framing import Framer
    from siem.normalise import NormaliseOptions
    from siem.settings import load_siem_settings
    from siem.spool import Record, Spool
    from siem.stats import SourceStats
    from siem.writer import EventWriter
    from simpul import migrate
    from simpul.context import AppContext
    from simpul.db import Database
    from simpul.settings import load_settings

    tmp = Path(tempfile.mkdtemp(prefix="siem-prof-"))
    rules = tmp / "rules"
    write_extra_rules(rules)
    assets = tmp / "assets.json"
    assets.write_text(json.dumps({
        "10.10.1.0/24": {"device": "fw", "role": "firewall", "site": "DC",
                         "opd": "DISKOMINFO", "criticality": "critical"},
        "10.1.0.0/16": {"opd": "DINKES", "criticality": "medium"}}))
    settings = load_settings(env={}, data_dir=str(tmp / "data"),
                             database_url=f"sqlite:///{tmp / 'siem.db'}")
    db = Database.from_settings(settings)
    migrate.upgrade(db)
    app = AppContext(settings=settings, db=db)
    siem = replace(load_siem_settings(app.settings, env={}), spool_dir=tmp / "spool",
                   rules_dirs=(str(rules),), asset_map=str(assets), retention_days=0,
                   retention_max_events=0)
    stats = SourceStats()
    registry = build_registry(siem.asset_map)
    spool = Spool(siem.spool_dir, segment_bytes=siem.spool_segment_bytes,
                  fsync_ms=siem.fsync_ms).open()
    expected = None
    if siem.inventory_enrich:  # as SiemService does
        from siem.inventory_link import InventoryAssets

        inventory = InventoryAssets(db)
        registry.register(inventory)
        expected = inventory.expected_hosts
    detection = (DetectionRunner.build(db, siem, expected_hosts=expected) if args.detect
                 else None)
    writer = EventWriter(db, spool, siem, stats, registry,
                         NormaliseOptions(epoch=spool.epoch), detection)
    if detection is not None:
        detection.start()
    if args.tune_gc:
        from siem.service import tune_gc

        tune_gc()  # as SiemService.start does
    payload = make_stream(args.events)
    prof = cProfile.Profile() if args.profile or args.top else None
    t0 = time.process_time()
    if prof:
        prof.enable()
    # Receiver side: framing and spool append, in 64 KiB reads like the TCP reader.
    framer = Framer(siem.max_message)
    for off in range(0, len(payload), 65536):
        frames = framer.feed(payload[off:off + 65536])
        now = time.time()
        spool.append([Record(d, now, "tcp", "127.0.0.1", 40000, "", f) for d, f in frames])
    t1 = time.process_time()
    # Writer side.
    while spool.backlog_bytes:
        batch = spool.read(siem.batch_records, timeout=0)
        writer._write(batch)
    t2 = time.process_time()
    if prof:
        prof.disable()
    spool.close()
    with db.session() as session:
        from sqlalchemy import func, select

        from siem.models import SiemAlert, SiemEvent, SiemIncident

        counts = {m.__tablename__: session.scalar(select(func.count()).select_from(m))
                  for m in (SiemEvent, SiemAlert, SiemIncident)}
    cpu = t2 - t0
    print(json.dumps({"events": args.events, "detect": args.detect, **counts,
                      "receive_cpu_s": round(t1 - t0, 3), "writer_cpu_s": round(t2 - t1, 3),
                      "events_per_cpu_s": round(args.events / cpu)}))
    if args.dump:
        Path(args.dump).write_text(json.dumps(dump_detections(db), indent=1) + "\n")
    if prof:
        if args.profile:
            prof.dump_stats(args.profile)
        if args.top:
            pstats.Stats(prof).sort_stats("tottime").print_stats(args.top)
    db.dispose()
    shutil.rmtree(tmp, ignore_errors=True)


def dump_detections(db: object) -> dict[str, list[list[object]]]:
    """Alerts and incidents without ids or event ids (which differ from run to run)."""
    from sqlalchemy import select

    from siem.models import SiemAlert, SiemIncident

    with db.session(write=False) as session:  # type: ignore[attr-defined]
        incidents = {i.id: i for i in session.scalars(select(SiemIncident))}
        alerts = sorted([a.rule_id, a.entity, a.severity, a.technique,
                         re.sub(r"\d\d:\d\d:\d\d", "hh:mm:ss", a.summary),
                         len(a.event_ids), incidents[a.incident_id].entity]
                        for a in session.scalars(select(SiemAlert)))
        incs = sorted([i.entity, i.title, i.severity, i.severity_rank, i.status, i.kind,
                       i.damage_class, i.opd, sorted(i.techniques), sorted(i.rules),
                       i.alert_count]
                      for i in incidents.values())
    return {"alerts": alerts, "incidents": incs}


if __name__ == "__main__":
    main()
