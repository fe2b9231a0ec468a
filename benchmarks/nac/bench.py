"""NAC decisions per second through FreeRADIUS: simpul's policy API vs a static users file.

Run: ``.venv/bin/python -m benchmarks.nac.bench [--devices 10000]`` (needs freeradius,
freeradius-rest, freeradius-utils; any user). One run does both sides on the same
machine, with the same registered MACs and the same request mix:

* **simpul** — ``simpul up`` exactly as deployed (web UI + FreeRADIUS from
  ``simpul nac radius-config``; every MAB request goes FreeRADIUS → rlm_rest → the
  policy API → one indexed lookup of the MAC, decision logged), on SQLite or, with
  ``--postgres``, a throw-away PostgreSQL cluster (tests/pgcluster.py).
* **users file** — FreeRADIUS alone answering from a static ``users`` file of the
  same active MACs with their VLANs (what an administrator would otherwise write by
  hand; no register, no expiry, no audit, no per-site policy).

Load: ``benchmarks/nac/radload.py`` (asyncio, fresh authenticators, per-request
latency), in a closed loop (max rate) and an open loop at ``--rate`` (latency at the
target rate); radclient ``-p`` cross-checks the closed-loop rate. Results:
``benchmarks/results/nac.json`` and ``nac.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.nac.radload import ACCEPT, REJECT, LoadResult, run_closed, run_open  # noqa: E402
from nac.models import NacDecision, NacDevice  # noqa: E402
from nac.radiusconf import write_radius_config  # noqa: E402
from nac.rules import set_vlan  # noqa: E402
from nac.server import FreeRadiusProcess  # noqa: E402
from nac.settings import load_nac_settings  # noqa: E402
from simpul import migrate  # noqa: E402
from simpul.audit import Actor  # noqa: E402
from simpul.context import AppContext  # noqa: E402
from simpul.db import Database  # noqa: E402
from simpul.models import Opd  # noqa: E402
from simpul.models.base import utcnow  # noqa: E402
from simpul.settings import load_settings  # noqa: E402
from simpul.tenancy import create_opd  # noqa: E402

SECRET = "bench-radius-secret"
SIMPUL = str(Path(sys.executable).parent / "simpul")
RESULTS = REPO / "benchmarks" / "results"
OPDS = ("DINKES", "DISDIK", "BAPPEDA", "DISHUB")


TICK = os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    """*pid* and every process below it (from /proc; Linux only)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            with suppress(OSError):
                todo += [int(c) for c in task.read_text().split()]
    return found


def cpu_by_process(pid: int) -> dict[str, float]:
    """CPU seconds (user + system) so far of *pid* and its descendants, by command."""
    out: dict[str, float] = {}
    for child in _descendants(pid):
        try:
            stat = Path(f"/proc/{child}/stat").read_text()
            cmd = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        name = "freeradius" if b"freeradius" in cmd[0] else (
            "policy server" if b"nac.policyserver" in b" ".join(cmd) else "simpul up (web)")
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / TICK
    return out


def _mac(i: int) -> str:
    return "02:" + ":".join(f"{(i >> s) & 0xff:02x}" for s in (32, 24, 16, 8, 0))


def seed(app: AppContext, devices: int) -> list[tuple[str, int]]:
    """OPDs, a VLAN map and *devices* registered MACs; return the request mix.

    Rows are bulk-inserted (the register's create service costs an audit entry each;
    the decision path only reads ``nac_devices``). 90 % are active, the rest blocked,
    expired or pending. The mix asks for 70 % active MACs, 10 % each blocked/expired,
    unknown, i.e. mostly accepts with a realistic share of rejects.
    """
    actor = Actor.system("bench")
    with app.db.session() as s:
        create_opd(s, actor, "DISKOMINFO", "Dinas Kominfo", is_operator=True)
        for n, code in enumerate(OPDS):
            create_opd(s, actor, code, f"Dinas {code.title()}")
            set_vlan(s, actor, code, "staff", 110 + n)
            set_vlan(s, actor, code, "printer", 210 + n)
    with app.db.session() as s:
        opd_ids = [s.scalar(select(Opd.id).where(Opd.code == c)) for c in OPDS]
        now = utcnow()
        rows = []
        for i in range(devices):
            kind = i % 10
            status = {7: "blocked", 8: "pending"}.get(kind, "active")
            rows.append({"mac": _mac(i), "opd_id": opd_ids[i % len(opd_ids)],
                         "device_type": "printer" if i % 5 == 0 else "pc",
                         "role": "printer" if i % 5 == 0 else "staff", "status": status,
                         "auth_method": "mab", "owner": f"owner {i}",
                         "expires_at": now - timedelta(days=1) if kind == 9 else None,
                         "created_at": now, "updated_at": now})
        for start in range(0, len(rows), 5000):
            s.execute(insert(NacDevice), rows[start:start + 5000])
    mix: list[tuple[str, int]] = []
    for i in range(0, min(devices, 20_000)):
        kind = i % 10
        mix.append((_mac(i), REJECT if kind in (7, 8, 9) else ACCEPT))
    for i in range(len(mix) // 9):  # ~10 % unknown MACs
        mix.insert(i * 10, (_mac(devices + 1000 + i), REJECT))
    return mix


def _env(data: Path, url: str, web_port: int, auth: int, acct: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMPUL_")}
    env.update({"SIMPUL_DATA_DIR": str(data), "SIMPUL_DATABASE_URL": url,
                "SIMPUL_SYSLOG_UDP_PORT": "0", "SIMPUL_SYSLOG_TCP_PORT": "0",
                "SIMPUL_SYSLOG_TLS_PORT": "off", "SIMPUL_RADIUS_ENABLED": "yes",
                # other services off or on free ports: measure the NAC path alone
                "SIMPUL_FLOW_PORT": "off", "SIMPUL_TRAP_PORT": "off",
                "SIMPUL_SNMP_ENABLED": "off", "SIMPUL_PROBES_ENABLED": "off",
                "SIMPUL_ALERTS_ENABLED": "off",
                "SIMPUL_RADIUS_AUTH_PORT": str(auth), "SIMPUL_RADIUS_ACCT_PORT": str(acct),
                "SIMPUL_RADIUS_SECRET": SECRET, "SIMPUL_RADIUS_REJECT_DELAY": "0",
                "PYTHONPATH": str(REPO)})
    return env


def _free(kind: int) -> int:
    import socket

    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def simpul_stack(root: Path, url: str) -> Iterator[tuple[int, int]]:
    """``simpul up`` with FreeRADIUS on free loopback ports; yield (auth port, its PID)."""
    import socket

    auth, acct, web = _free(socket.SOCK_DGRAM), _free(socket.SOCK_DGRAM), _free(
        socket.SOCK_STREAM)
    log = root / "simpul-up.log"
    with log.open("w") as out:
        proc = subprocess.Popen([SIMPUL, "up", "--port", str(web)], stdout=out,
                                stderr=subprocess.STDOUT, env=_env(root / "data", url, web,
                                                                    auth, acct))
    try:
        ready = root / "data" / "nac" / "radius" / "freeradius.out"
        deadline = time.monotonic() + 60
        while not (ready.exists() and "Ready to process" in ready.read_text(errors="replace")):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("simpul up did not start:\n" + log.read_text()[-3000:])
            time.sleep(0.1)
        yield auth, proc.pid
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


STATIC_SITE = """\
server default {
listen {
	type = auth
	ipaddr = 127.0.0.1
	port = @PORT@
}
authorize {
	simpul_fallback
}
authenticate {
}
}
"""


@contextmanager
def users_file_radius(app: AppContext, root: Path) -> Iterator[tuple[int, int]]:
    """FreeRADIUS answering MAB from a static users file of the same active MACs."""
    import socket

    port = _free(socket.SOCK_DGRAM)
    nac = replace(load_nac_settings(app.settings, env={}), data_dir=root / "static",
                  auth_port=port, acct_port=_free(socket.SOCK_DGRAM), reject_delay=0)
    with app.db.session() as s:
        config = write_radius_config(s, nac, env={})
    (config.raddb / "sites-enabled" / "inner-tunnel").unlink()
    (config.raddb / "mods-enabled" / "rest").unlink()
    (config.raddb / "mods-enabled" / "eap").unlink()
    (config.raddb / "sites-enabled" / "default").write_text(
        STATIC_SITE.replace("@PORT@", str(port)))
    radius = FreeRadiusProcess(nac, config.raddb, config.logdir)
    radius.start(env={"SIMPUL_RADIUS_SECRET": SECRET, "SIMPUL_NAC_API_SECRET": "unused",
                      "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    try:
        radius.wait_ready(60)
        assert radius.proc is not None
        yield port, radius.proc.pid
    finally:
        radius.stop()


def radclient_rate(port: int, mix: list[tuple[str, int]], count: int, parallel: int) -> dict:
    """radclient -p: the closed-loop rate as the stock tool measures it."""
    lines = []
    for mac, _ in mix[:count]:
        bare = mac.replace(":", "")
        lines.append(f'User-Name = "{bare}", User-Password = "{bare}", '
                     f'Calling-Station-Id = "{mac.upper().replace(":", "-")}", '
                     'NAS-IP-Address = 127.0.0.1, NAS-Port-Id = "Gi1/0/7", '
                     'Service-Type = Call-Check\n')
    with tempfile.NamedTemporaryFile("w", suffix=".rad", delete=False) as fh:
        fh.write("\n".join(lines))
        name = fh.name
    try:
        started = time.perf_counter()
        proc = subprocess.run(["radclient", "-q", "-s", "-p", str(parallel), "-r", "1",
                               "-t", "5", "-f", name, f"127.0.0.1:{port}", "auth", SECRET],
                              capture_output=True, text=True, timeout=600)
        seconds = time.perf_counter() - started
    finally:
        os.unlink(name)
    out = proc.stdout + proc.stderr
    stats = {k.strip(): int(v) for k, v in
             (line.split(":", 1) for line in out.splitlines()
              if ":" in line and line.split(":", 1)[1].strip().isdigit())}
    return {"requests": count, "parallel": parallel, "seconds": round(seconds, 3),
            "decisions_per_s": round(count / seconds, 1),
            "accepted": stats.get("Accepted", 0), "rejected": stats.get("Rejected", 0),
            "lost": stats.get("Lost", 0)}


def measure(port: int, mix: list[tuple[str, int]], args: argparse.Namespace,
            pid: int) -> dict:
    """Warm-up, closed loop (with the server side's CPU per decision), open loop at the
    target rate, radclient cross-check."""
    run_closed(port, SECRET, mix, 400, 8)  # warm FreeRADIUS threads and the rest pool
    before = cpu_by_process(pid)
    closed: LoadResult = run_closed(port, SECRET, mix, args.total, args.concurrency)
    after = cpu_by_process(pid)
    time.sleep(0.5)  # the decision writer's last batch of the closed loop
    cpu_us = {name: round((after[name] - before.get(name, 0.0)) / max(closed.answered, 1)
                          * 1e6, 1) for name in after}
    offered: LoadResult = run_open(port, SECRET, mix, args.rate, args.seconds)
    radc = radclient_rate(port, mix, min(args.total, len(mix)), args.concurrency)
    total_us = sum(cpu_us.values())
    return {"closed_loop": closed.summary(), "open_loop": offered.summary(),
            "radclient": radc, "server_cpu_us_per_decision": cpu_us,
            "capacity_on_idle_cores": round((os.cpu_count() or 1) / (total_us / 1e6))
            if total_us else None}


def _line(name: str, r: dict) -> str:
    c, o, rc = r["closed_loop"], r["open_loop"], r["radclient"]
    return (f"| {name} | {c['decisions_per_s']:.0f} | {c['p50_ms']:.1f} | {c['p99_ms']:.1f} | "
            f"{o['decisions_per_s']:.0f} | {o['p50_ms']:.1f} | {o['p99_ms']:.1f} | "
            f"{rc['decisions_per_s']:.0f} | {c['wrong_answers'] + o['wrong_answers']} |")


def write_results(report: dict) -> None:
    """benchmarks/results/nac.json and a Markdown table."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "nac.json").write_text(json.dumps(report, indent=2) + "\n")
    a = report["args"]
    md = [f"# NAC decisions through FreeRADIUS ({report['date']})", "",
          f"Host: {report['host']}. {a['devices']} registered MACs; request mix 70 % "
          "active, 30 % blocked/expired/pending/unknown. Closed loop: "
          f"{a['total']} requests, {a['concurrency']} in flight. Open loop: "
          f"{a['rate']}/s offered for {a['seconds']} s. radclient: `-p {a['concurrency']}`.",
          "", "| FreeRADIUS answering from | max decisions/s | p50 ms | p99 ms | "
          f"at {a['rate']}/s: achieved | p50 ms | p99 ms | radclient -p /s | wrong answers |",
          "|---|---|---|---|---|---|---|---|---|"]
    for name, label in (("simpul", f"simpul policy API ({report['database']})"),
                        ("users_file", "static users file")):
        if name in report:
            md.append(_line(label, report[name]))
    md += ["", "Server-side CPU per decision during the closed loop (µs; load-independent), "
           "and what that means on this host's cores when nothing else runs:", "",
           "| answering from | CPU µs per decision | → decisions/s on idle cores |",
           "|---|---|---|"]
    for name, label in (("simpul", "simpul"), ("users_file", "static users file")):
        if name in report:
            parts = ", ".join(f"{k} {v:.0f}" for k, v in
                              report[name]["server_cpu_us_per_decision"].items())
            md.append(f"| {label} | {parts} | {report[name]['capacity_on_idle_cores']} |")
    if "simpul" in report and "users_file" in report:
        ratio = (report["simpul"]["closed_loop"]["decisions_per_s"]
                 / report["users_file"]["closed_loop"]["decisions_per_s"])
        md += ["", f"simpul / users file, max rate: {ratio:.2f}. The users file has no "
               "register behind it: no expiry, no block-takes-effect-now, no per-site "
               "quarantine, no decision log — it is what FreeRADIUS alone can do."]
    md += ["", f"Target (issue 9): ≥ 500 decisions/s with p99 < 50 ms. Audit: "
           f"{report.get('decisions_logged', '-')} rows in nac_decisions + "
           f"{report.get('decisions_from_cache_logged', '-')} fail-over-cache answers in "
           f"FreeRADIUS's fallback log, for {report.get('decisions_sent', '-')} requests "
           "(a request the API did not answer within rlm_rest's 1.5 s is answered from "
           "the cache and logged there)."]
    (RESULTS / "nac.md").write_text("\n".join(md) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--total", type=int, default=10_000, help="closed-loop requests")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=500.0, help="open-loop offered rate")
    parser.add_argument("--seconds", type=float, default=20.0, help="open-loop duration")
    parser.add_argument("--only", choices=("simpul", "users_file"), default=None)
    parser.add_argument("--postgres", action="store_true",
                        help="run simpul on a throw-away PostgreSQL cluster")
    parser.add_argument("--no-write", action="store_true", help="print, do not write results")
    args = parser.parse_args(argv)
    if not shutil.which("radclient") or not Path("/usr/lib/freeradius/rlm_rest.so").exists():
        print("needs freeradius, freeradius-rest and freeradius-utils", file=sys.stderr)
        return 2
    report: dict = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                    "host": f"{platform.node()}, {os.cpu_count()} CPUs, "
                            f"load {os.getloadavg()[0]:.1f} at start",
                    "args": vars(args), "database": "PostgreSQL" if args.postgres else "SQLite"}
    with tempfile.TemporaryDirectory(prefix="simpul-nac-bench-") as tmp, _database(
            Path(tmp), args.postgres) as url:
        root = Path(tmp)
        settings = load_settings(env={}, data_dir=str(root / "data"), database_url=url)
        db = Database.from_settings(settings)
        migrate.upgrade(db)
        app = AppContext(settings=settings, db=db)
        mix = seed(app, args.devices)
        try:
            if args.only in (None, "users_file"):
                with users_file_radius(app, root) as (port, pid):
                    report["users_file"] = measure(port, mix, args, pid)
                    print("users file:", json.dumps(report["users_file"], indent=1))
            if args.only in (None, "simpul"):
                with simpul_stack(root, url) as (port, pid):
                    report["simpul"] = measure(port, mix, args, pid)
                    print("simpul:", json.dumps(report["simpul"], indent=1))
                with db.session() as s:  # after shutdown: the writer flushed everything
                    report["decisions_logged"] = s.scalar(
                        select(func.count()).select_from(NacDecision))
                report["decisions_from_cache_logged"] = sum(
                    len(f.read_text().splitlines()) for f in
                    (root / "data" / "nac" / "radius").glob("fallback-*.log"))
                r = report["simpul"]
                report["decisions_sent"] = (400 + r["closed_loop"]["sent"]
                                            + r["open_loop"]["sent"]
                                            + r["radclient"]["requests"])
        finally:
            db.dispose()
    if not args.no_write:
        write_results(report)
        print((RESULTS / "nac.md").read_text())
    return 0


@contextmanager
def _database(root: Path, postgres: bool) -> Iterator[str]:
    if not postgres:
        yield f"sqlite:///{root / 'simpul.db'}"
        return
    from tests.pgcluster import PgCluster  # the suite's throw-away cluster

    cluster = PgCluster.start()
    try:
        yield cluster.create_database("simpul_bench")
    finally:
        with suppress(Exception):
            cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
