"""Inventory (IPAM) numbers of issue 4, on SQLite and PostgreSQL, beside the usual tools.

Run: ``.venv/bin/python -m benchmarks.inventory.bench [--sqlite-only]``. One run:

* **next free IP** in a /16 holding 60,000 addresses (table of 100,000): simpul's
  service (``allocate_next_ip``, committed, and the read ``first_available_ips``), the
  set arithmetic NetBox uses (``netaddr.IPSet`` of prefix minus used; simpul did this
  before) on the same database, and a script over a spreadsheet export (CSV →
  ``ipaddress`` scan; what an office without an IPAM does); the first allocation after
  the bulk load (it walks the packed addresses once and sets the mark) and the SQL
  statements of one allocation from the mark (each a round trip on PostgreSQL);
* **one page of 100 addresses** from the 100,000 through ``GET /api/ipam/ip-addresses/``
  (first page and a deep page), vs reading the CSV export and slicing it;
* **POST available-ips** on an empty /8, and a **full prefix** → 409 with its message;
* the **prefix page** (``/ipam/prefixes/<id>``) of a container with 1,000 child
  prefixes and 200 ranges.

The API and page go through the real Flask app (token authentication, tenancy, JSON)
with its test client, i.e. everything except the socket. NetBox itself cannot be
installed on this host (no Docker engine, no PyPI package; its Django stack and Redis
would be a separate deployment), so its algorithm is measured on our tables instead;
NetBox users' own reports (21 s for 1,000 addresses, > 30 s for available-ips on a /8)
are quoted in issue 4. Results: ``benchmarks/results/inventory.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import csv
import io
import ipaddress
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import netaddr  # noqa: E402
from sqlalchemy import event, insert, select  # noqa: E402

from inventory.addressing import to_hex  # noqa: E402
from inventory.ipam import addresses as ip_service  # noqa: E402
from inventory.ipam import allocation, prefixes  # noqa: E402
from inventory.models import IpAddress, IpRange, Prefix  # noqa: E402
from simpul import migrate  # noqa: E402
from simpul.audit import Actor  # noqa: E402
from simpul.context import AppContext  # noqa: E402
from simpul.db import Database  # noqa: E402
from simpul.settings import load_settings  # noqa: E402
from simpul.tenancy import create_opd  # noqa: E402
from simpul.tokens import create_token  # noqa: E402
from simpul.users import create_user  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
ACTOR = Actor.system("bench")
BASE16 = int(netaddr.IPAddress("10.0.0.0"))
BASE16B = int(netaddr.IPAddress("10.1.0.0"))
BASE12 = int(netaddr.IPAddress("172.16.0.0"))


def timed(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    """Median / p90 / max of *repeat* calls, in milliseconds (wall clock), and the median
    CPU time of this process (less sensitive to other load on a shared host; on
    PostgreSQL it leaves out the server's share)."""
    times, cpu = [], []
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    times.sort()
    return {"median_ms": round(statistics.median(times), 3),
            "cpu_median_ms": round(statistics.median(cpu), 3),
            "p90_ms": round(times[int(0.9 * (len(times) - 1))], 3),
            "max_ms": round(times[-1], 3), "runs": repeat}


def statements_of(db: Database, fn: Callable[[], Any]) -> list[str]:
    """The SQL statements one call of *fn* sends (verb and table; SQLite's BEGIN left
    out, as psycopg's is invisible here; the COMMIT comes on top). On PostgreSQL each is
    a network round trip, which is what the allocation's time is made of."""
    sent: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        verb = statement.split()[0].upper()
        if verb != "BEGIN":
            tables = dict.fromkeys(re.findall(r"\b(?:FROM|INTO|UPDATE|JOIN)\s+(\w+)",
                                              statement))
            lock = " + advisory lock" if "pg_advisory_xact_lock" in statement else ""
            sent.append(f"{verb} {'/'.join(tables)}{lock}")

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    return sent


def _rows(base: int, count: int, length: int) -> Iterator[dict[str, Any]]:
    for i in range(1, count + 1):
        value = base + i
        yield {"address": f"{netaddr.IPAddress(value)}/{length}", "family": 4,
               "ip_hex": to_hex(value), "vrf_key": 0, "unique_key": 0, "status": "active",
               "role": "", "dns_name": f"host{i}.bench", "description": ""}


def load(db: Database) -> dict[str, int]:
    """The data of every measurement; addresses bulk-inserted as an import would."""
    ids: dict[str, int] = {}
    with db.session() as s:
        create_opd(s, ACTOR, "DISKOMINFO", "Diskominfo", is_operator=True)
        create_user(s, ACTOR, "bench", role="admin", opd_code="DISKOMINFO",
                    password="bench-password-123")
        ids["p16"] = prefixes.create_prefix(s, ACTOR, prefix="10.0.0.0/16").id
        ids["p16b"] = prefixes.create_prefix(s, ACTOR, prefix="10.1.0.0/16").id
        ids["p8"] = prefixes.create_prefix(s, ACTOR, prefix="20.0.0.0/8").id
        ids["full"] = prefixes.create_prefix(s, ACTOR, prefix="192.0.2.0/30").id
        ids["container"] = prefixes.create_prefix(s, ACTOR, prefix="172.16.0.0/12",
                                                  status="container").id
    with db.session() as s:
        rows = list(_rows(BASE16, 60_000, 16)) + list(_rows(BASE16B, 40_000, 16))
        for start in range(0, len(rows), 5000):
            s.execute(insert(IpAddress), rows[start:start + 5000])
    with db.session() as s:
        allocation.allocate_next_ip(s, ACTOR, ids["full"], count=2)
        for i in range(1000):  # 1,000 children /26, 200 of them with a range
            net = netaddr.IPNetwork(f"{netaddr.IPAddress(BASE12 + i * 64)}/26")
            prefixes.create_prefix(s, ACTOR, prefix=str(net))
            if i % 5 == 0:
                ip_service.create_ip_range(s, ACTOR, start_address=str(net[10]),
                                           end_address=str(net[40]))
    if db.backend == "postgresql":  # what autovacuum does within a minute of a bulk load
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    return ids


def export_csv(db: Database) -> str:
    """The spreadsheet export an office would keep (address, status, dns name)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["address", "status", "dns_name"])
    with db.session(write=False) as s:
        for address, status, dns in s.execute(select(IpAddress.address, IpAddress.status,
                                                     IpAddress.dns_name)
                                              .order_by(IpAddress.ip_hex)):
            writer.writerow([address, status, dns])
    return out.getvalue()


def csv_next_free(text: str, network: str) -> str:
    """Spreadsheet script: read the export, scan the /16 for the first unused host."""
    used = {row["address"].split("/")[0] for row in csv.DictReader(io.StringIO(text))}
    for host in ipaddress.ip_network(network).hosts():
        if str(host) not in used:
            return str(host)
    raise LookupError("full")


def csv_page(text: str, offset: int, limit: int = 100) -> list[dict[str, str]]:
    """Spreadsheet script: read the export and take one page."""
    rows = list(csv.DictReader(io.StringIO(text)))
    return rows[offset:offset + limit]


def measure(db: Database, app: AppContext, repeat: int) -> dict[str, Any]:
    from webui import create_app

    ids = load(db)
    out: dict[str, Any] = {}
    with db.session() as s:
        token = create_token(s, ACTOR, "bench").key
    headers = {"Authorization": f"Token {token}"}
    client = create_app({"TESTING": True}, context=app).test_client()

    # -- next free IP in the /16 with 60,000 used -----------------------------------
    def read_next() -> None:
        with db.session(write=False) as s:
            got = allocation.first_available_ips(s, s.get(Prefix, ids["p16"]), 1)
            assert got, "no free address"

    def allocate() -> None:
        with db.session() as s:
            allocation.allocate_next_ip(s, ACTOR, ids["p16"])

    started = time.perf_counter()
    allocate()  # mark unknown: the one walk over the bulk-loaded addresses, leaves it
    out["next_free_ip_first_call_ms"] = round((time.perf_counter() - started) * 1000, 2)
    out["next_free_ip_allocate_statements"] = statements_of(db, allocate)  # from the mark
    out["next_free_ip_allocate"] = timed(allocate, repeat)  # committed, one per call
    out["next_free_ip_read"] = timed(read_next, repeat)

    def netbox_sets() -> None:
        with db.session(write=False) as s:
            free = allocation.get_available_ips(s, s.get(Prefix, ids["p16"]))
            next(allocation.iter_free(free))

    out["next_free_ip_netbox_ipset"] = timed(netbox_sets, max(3, repeat // 10))
    text = export_csv(db)
    out["next_free_ip_csv_script"] = timed(lambda: csv_next_free(text, "10.0.0.0/16"),
                                           max(3, repeat // 10))
    used = {row.split(",")[0].split("/")[0] for row in text.splitlines()[1:]}

    def scan_in_memory() -> None:
        for host in ipaddress.ip_network("10.0.0.0/16").hosts():
            if str(host) not in used:
                return

    out["next_free_ip_csv_in_memory_scan"] = timed(scan_in_memory, max(3, repeat // 10))

    # -- one page of 100 from 100,000 through the API --------------------------------
    def page(offset: int) -> Callable[[], None]:
        def get() -> None:
            r = client.get(f"/api/ipam/ip-addresses/?limit=100&offset={offset}",
                           headers=headers)
            assert r.status_code == 200 and len(r.get_json()["results"]) == 100, r.status_code
        return get

    with db.session(write=False) as s:
        total = s.scalar(select(__import__("sqlalchemy").func.count()).select_from(IpAddress))
    out["ip_table_rows"] = total
    out["api_page_100_first"] = timed(page(0), repeat)
    out["api_page_100_offset_50000"] = timed(page(50_000), repeat)
    out["csv_page_100_offset_50000"] = timed(lambda: csv_page(text, 50_000),
                                             max(3, repeat // 10))

    # -- POST available-ips on an empty /8 -------------------------------------------
    def post8() -> None:
        r = client.post(f"/api/ipam/prefixes/{ids['p8']}/available-ips/", json={},
                        headers=headers)
        assert r.status_code == 201, r.get_data(as_text=True)

    out["api_post_available_ips_empty_8"] = timed(post8, repeat)

    # -- full prefix → 409 ------------------------------------------------------------
    answer: dict[str, Any] = {}

    def post_full() -> None:
        r = client.post(f"/api/ipam/prefixes/{ids['full']}/available-ips/", json={},
                        headers=headers)
        answer.update(status=r.status_code, body=r.get_json())

    out["api_post_available_ips_full"] = timed(post_full, repeat)
    out["full_prefix_answer"] = answer

    # -- prefix page with 1,000 children and 200 ranges ------------------------------
    def prefix_page() -> None:
        r = client.get(f"/ipam/prefixes/{ids['container']}", headers=headers)
        assert r.status_code == 200 and b"172.16.0.0/12" in r.data, r.status_code

    with db.session(write=False) as s:
        out["container_children"] = s.scalar(
            select(__import__("sqlalchemy").func.count()).select_from(Prefix)
            .where(Prefix.prefix.like("172.%"), Prefix.id != ids["container"]))
        out["container_ranges"] = s.scalar(
            select(__import__("sqlalchemy").func.count()).select_from(IpRange))
    out["prefix_page_1000_children"] = timed(prefix_page, max(5, repeat // 5))
    return out


@contextmanager
def database(kind: str, root: Path) -> Iterator[str]:
    """A fresh SQLite file, or a database on a throw-away PostgreSQL cluster."""
    if kind == "sqlite":
        yield f"sqlite:///{root / 'bench.db'}"
        return
    from tests.pgcluster import PgCluster

    cluster = PgCluster.start()
    try:
        yield cluster.create_database("simpul_bench")
    finally:
        with suppress(Exception):
            cluster.stop()


TARGETS = [
    ("Next free IP, /16 with 60,000 used (allocate, committed)", "next_free_ip_allocate", 5),
    ("Next free IP, same (read only)", "next_free_ip_read", 5),
    ("  NetBox's set arithmetic on the same tables (simpul before)",
     "next_free_ip_netbox_ipset", None),
    ("  Spreadsheet export + ipaddress scan (CSV read each time)", "next_free_ip_csv_script",
     None),
    ("  Spreadsheet rows already in memory, ipaddress scan", "next_free_ip_csv_in_memory_scan",
     None),
    ("API page of 100 from 100,000, first page", "api_page_100_first", 100),
    ("API page of 100 from 100,000, offset 50,000", "api_page_100_offset_50000", 100),
    ("  Spreadsheet export, page at offset 50,000", "csv_page_100_offset_50000", None),
    ("POST available-ips on an empty /8", "api_post_available_ips_empty_8", 50),
    ("POST available-ips on a full prefix (409)", "api_post_available_ips_full", None),
    ("Prefix page, 1,000 children + 200 ranges", "prefix_page_1000_children", 1000),
]


def write_results(report: dict[str, Any]) -> None:
    """benchmarks/results/inventory.json and the Markdown table for the README."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "inventory.json").write_text(json.dumps(report, indent=2) + "\n")
    kinds = [k for k in ("sqlite", "postgresql") if k in report]
    head = "| measurement | target | " + " | ".join(
        f"{k} median ms (CPU)" for k in kinds) + " |"
    md = [f"# Inventory (IPAM) benchmark ({report['date']})", "",
          f"Host: {report['host']}. Table of {report[kinds[0]]['ip_table_rows']:,} "
          "addresses, 60,000 of them in 10.0.0.0/16 (bulk-loaded, packed from .1). "
          "API and page through the Flask app (token auth, tenancy, JSON), without the "
          "socket. Indented rows: what users would otherwise use — NetBox cannot be "
          "installed here, so its set algorithm runs on our tables; a spreadsheet export "
          "scanned with Python's ipaddress. Wall-clock medians; in brackets the benchmark "
          "process's own CPU time (the host is shared with other jobs).", "", head,
          "|---|---|" + "---|" * len(kinds)]
    for label, key, target in TARGETS:
        cells = [f"{report[k][key]['median_ms']:.2f} ({report[k][key]['cpu_median_ms']:.2f})"
                 for k in kinds]
        goal = f"< {target} ms" if target else ""
        md.append(f"| {label} | {goal} | " + " | ".join(cells) + " |")
    for k in kinds:
        r = report[k]
        ratio = r["next_free_ip_netbox_ipset"]["median_ms"] / r["next_free_ip_allocate"][
            "median_ms"]
        md.append("")
        sent = r.get("next_free_ip_allocate_statements", [])
        md.append(f"{k}: next free IP {ratio:,.0f}× faster than the set arithmetic; the "
                  f"first call after the bulk load walks the packed addresses once "
                  f"({r['next_free_ip_first_call_ms']:.0f} ms) and leaves the mark. One "
                  f"allocation sends {len(sent)} statements and the COMMIT "
                  f"({'; '.join(sent)}). Full "
                  f"prefix: HTTP {r['full_prefix_answer']['status']}, "
                  f"\"{r['full_prefix_answer']['body'].get('detail', '')}\".")
    (RESULTS / "inventory.md").write_text("\n".join(md) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "host": f"{platform.node()}, {os.cpu_count()} CPUs, load "
                f"{os.getloadavg()[0]:.1f} at start", "repeat": args.repeat}
    for kind in ("sqlite",) if args.sqlite_only else ("sqlite", "postgresql"):
        with tempfile.TemporaryDirectory(prefix="simpul-inv-bench-") as tmp, database(
                kind, Path(tmp)) as url:
            settings = load_settings(env={}, data_dir=str(Path(tmp) / "data"),
                                     database_url=url, secret_key="bench-secret-key")
            db = Database.from_settings(settings)
            try:
                migrate.upgrade(db)
                report[kind] = measure(db, AppContext(settings=settings, db=db), args.repeat)
            finally:
                db.dispose()
            print(kind, json.dumps(report[kind], indent=1))
    if not args.no_write:
        write_results(report)
        print((RESULTS / "inventory.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
