"""The work-order list with 50,000 work orders: median page time, SQLite and PostgreSQL.

Target (issue 5): a page in under 200 ms median; GLPI's users report seconds at this
size. Side by side in the same run, the same page computed the way list screens in PHP
helpdesks commonly do it — an exact COUNT(*) for the pager, OFFSET paging, and one
lookup per row for the OPD and SLA — so the ratio shows what the query shape buys.
A real GLPI/osTicket could not be installed here (not in Debian 12); Request Tracker 5
is, but filling it with 50,000 tickets through its API takes far longer than this run.

Run: ``.venv/bin/python benchmarks/helpdesk/bench_worklist.py [--count N]`` (root, or
a user who may run initdb, for PostgreSQL). Writes benchmarks/results/helpdesk.json/.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from simpul import migrate  # noqa: E402
from simpul.audit import Actor  # noqa: E402
from simpul.context import AppContext  # noqa: E402
from simpul.db import Database  # noqa: E402
from simpul.models import Opd  # noqa: E402
from simpul.settings import load_settings  # noqa: E402
from simpul.tenancy import create_opd  # noqa: E402
from simpul.tokens import create_token  # noqa: E402
from simpul.users import create_user  # noqa: E402
from tests.pgcluster import PgCluster  # noqa: E402
from webui import create_app  # noqa: E402
from webui.helpdesk.machines import WORKFLOWS  # noqa: E402
from webui.helpdesk.models import WorkOrder  # noqa: E402
from webui.helpdesk.sla import sla_status  # noqa: E402

OPDS = [f"OPD{i:02d}" for i in range(40)]


def prepare(url: str, data_dir: Path, count: int) -> tuple[AppContext, dict[str, dict[str, str]]]:
    """Migrate, create Diskominfo, 40 OPDs, a Help Desk and a requester, and *count* WOs."""
    settings = load_settings(env={}, data_dir=str(data_dir), database_url=url,
                             secret_key="bench-secret-key")
    db = Database.from_settings(settings)
    migrate.upgrade(db)
    ctx = AppContext(settings=settings, db=db)
    actor = Actor.system("bench")
    with db.session() as s:
        create_opd(s, actor, "DISKOMINFO", "Diskominfo", is_operator=True)
        for code in OPDS:
            create_opd(s, actor, code, f"Dinas {code}")
        create_user(s, actor, "helpdesk", role="helpdesk", opd_code="DISKOMINFO")
        create_user(s, actor, "rina", role="requester", opd_code=OPDS[0])
    with db.session() as s:
        opd_ids = list(s.scalars(select(Opd.id).where(Opd.is_operator.is_(False))))
    types, start, rows = list(WORKFLOWS), datetime(2025, 1, 1, tzinfo=UTC), []
    for i in range(count):
        wf = WORKFLOWS[types[i % len(types)]]
        state = list(wf.states)[i % len(wf.states)]
        created = start + timedelta(minutes=10 * i)
        rows.append({"type": wf.type, "state": state, "priority": "normal",
                     "title": f"Permintaan {i}", "description": "",
                     "opd_id": opd_ids[i % len(opd_ids)], "requester_name": "",
                     "channel": "web", "requester_class": "umum", "vvip_title": "",
                     "letter_ref": "", "holder_role": wf.states[state].holder, "details": {},
                     "sla_due_at": created + timedelta(hours=72), "sla_paused_seconds": 0,
                     "sla_pause_reason": "", "escalation_level": 0, "version": 1,
                     "created_at": created, "updated_at": created})
    with db.session() as s:
        for chunk in range(0, count, 5000):
            s.execute(insert(WorkOrder), rows[chunk:chunk + 5000])
    headers = {}
    with db.session() as s:
        for name in ("helpdesk", "rina"):
            headers[name] = {"Authorization": f"Token {create_token(s, actor, name).key}"}
    return ctx, headers


def median_ms(call: Callable[[], object], runs: int = 15) -> float:
    """Median milliseconds of *runs* calls after one warm-up."""
    call()
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def naive_page(ctx: AppContext, offset: int = 25_000, size: int = 50) -> int:
    """Exact count for the pager, OFFSET paging, one query per row for OPD and SLA."""
    now = datetime.now(UTC)
    with ctx.db.session(write=False) as s:
        total = s.scalar(select(func.count()).select_from(WorkOrder))
        ids = s.scalars(select(WorkOrder.id).order_by(WorkOrder.id.desc())
                        .offset(offset).limit(size)).all()
        for wo_id in ids:
            wo = s.get(WorkOrder, wo_id)
            assert wo is not None
            s.scalar(select(Opd.code).where(Opd.id == wo.opd_id))
            sla_status(wo, now)
    return int(total or 0)


def measure(ctx: AppContext, headers: dict[str, dict[str, str]]) -> dict[str, float]:
    """Median ms per page: simpul's page and API as two users, and the naive list."""
    client = create_app({"TESTING": True}, context=ctx).test_client(use_cookies=False)
    results: dict[str, float] = {}
    for who in ("helpdesk", "rina"):
        for path in ("/helpdesk/", "/helpdesk/?offset=25000", "/api/helpdesk/work-orders/",
                     "/api/helpdesk/work-orders/?overdue=true&type=pengaduan"):
            def get(path: str = path, who: str = who) -> None:
                response = client.get(path, headers=headers[who])
                assert response.status_code == 200, (path, response.status_code)
            results[f"simpul {who} {path}"] = median_ms(get)
    results["naive list, page at 25,000"] = median_ms(lambda: naive_page(ctx))
    return results


def main() -> None:
    """Run both databases, print a table, write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50_000)
    args = parser.parse_args()
    report: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        backends = {"sqlite": f"sqlite:///{tmp}/bench.db"}
        cluster = PgCluster.start()
        try:
            backends["postgresql"] = cluster.create_database("bench")
            for name, url in backends.items():
                began = time.perf_counter()
                ctx, headers = prepare(url, Path(tmp) / name, args.count)
                print(f"{name}: {args.count} work orders loaded in "
                      f"{time.perf_counter() - began:.1f} s", flush=True)
                report[name] = measure(ctx, headers)
                ctx.db.dispose()
        finally:
            cluster.stop()
    lines = [f"# Helpdesk work-order list, {args.count:,} work orders (median ms per page)",
             "", "| page | SQLite | PostgreSQL |", "|---|---:|---:|"]
    for key in report["sqlite"]:
        lines.append(f"| {key} | {report['sqlite'][key]:.1f} | "
                     f"{report['postgresql'][key]:.1f} |")
    for name, res in report.items():
        own = max(v for k, v in res.items() if k.startswith("simpul"))
        ratio = res["naive list, page at 25,000"] / res["simpul helpdesk /helpdesk/?offset=25000"]
        lines.append(f"\n{name}: slowest simpul page {own:.1f} ms (target 200 ms); "
                     f"naive list / simpul's deep page = {ratio:.1f}x")
    text = "\n".join(lines) + "\n"
    print(text)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "helpdesk.json").write_text(json.dumps({"count": args.count, "median_ms": report},
                                                  indent=2) + "\n")
    (out / "helpdesk.md").write_text(text)


if __name__ == "__main__":
    main()
