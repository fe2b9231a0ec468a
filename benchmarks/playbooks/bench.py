"""Back up every lab router and push one small change to all: Nornir path vs Ansible.

Run as root, under the lab lock (it brings the lab up and down)::

    flock /tmp/simpul-lab.lock .venv/bin/python -m benchmarks.playbooks.bench

One run does both sides on the same lab, the same routers, the same machine:

* **Nornir (simpul)** — backup: ``simpul backup``'s service (Nornir threaded, one
  Netmiko ``show running-config`` per router over vtysh, cleaned, committed to git);
  change: ``simpul run``'s runner (P1) with a one-line playbook — NAPALM-FRR driver:
  lock, load, diff, commit, verify — the full safe path.
* **Ansible** — the equivalent playbooks (``benchmarks/playbooks/ansible/``) through
  ansible-runner (``playbooks.ansible_runner.run_ansible``, forks 20, OpenSSH with
  ControlPersist within a run, ``raw`` tasks: no module upload), on the routers'
  Linux shell port.

Each side runs each task once, every run opening new SSH connections; the ratio is
Ansible seconds / Nornir seconds. Afterwards the change is removed from every router. Results:
``benchmarks/results/playbooks.json`` and ``playbooks.md``.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import types
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "benchmarks" / "results"
ANSIBLE_DIR = Path(__file__).resolve().parent / "ansible"
LAB = REPO / "labs" / "province" / "province.clab.yml"
LINE = "ip prefix-list SIMPUL-BENCH seq 5 permit 192.0.2.0/24"
USER, PASSWORD = "simpul", "simpul-lab"


def lab(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "labs.cli", *args], cwd=REPO, check=True,
                   capture_output=True, timeout=300)


def change_playbook() -> types.ModuleType:
    """A one-line playbook for the runner: the same change Ansible pushes."""
    module = types.ModuleType("bench_change")
    module.NAME = "bench-change"
    module.DESCRIPTION = "benchmark: one prefix-list line"
    module.select = lambda host: host.data.get("platform") == "frr"
    module.render = lambda host, ctx: {"frr": LINE + "\n"}
    module.verify = lambda host, ctx, devices: []
    return module


def undo(routers: list[str]) -> None:
    for node in routers:
        subprocess.run(["ip", "netns", "exec", f"sl-{node}", "vtysh", "-N", node, "-c",
                        "configure terminal", "-c", f"no {LINE}"], capture_output=True)


def main() -> None:
    os.environ.update({"SIMPUL_DEVICE_USERNAME": USER, "SIMPUL_DEVICE_PASSWORD": PASSWORD})
    from inventory.importer import import_file
    from inventory.nornir import init_nornir
    from playbooks.ansible_runner import run_ansible
    from playbooks.backup import BackupSettings, run_backup
    from playbooks.runner import run_playbook
    from simpul import migrate
    from simpul.audit import Actor
    from simpul.context import AppContext
    from simpul.db import Database
    from simpul.settings import load_settings

    work = Path(tempfile.mkdtemp(prefix="simpul-bench-playbooks-"))
    settings = load_settings(env={}, data_dir=str(work),
                             database_url=f"sqlite:///{work / 'simpul.db'}")
    db = Database.from_settings(settings)
    migrate.upgrade(db)
    with db.session() as session:
        import_file(session, Actor.system("bench"), LAB)
    app = AppContext(settings=settings, db=db)
    routers = sorted(h for h, host in init_nornir(db, env={}).inventory.hosts.items()
                     if host.data.get("platform") == "frr")
    hosts = ",".join(routers)
    load = os.getloadavg()[0]
    try:
        lab("up")
        timings: dict[str, dict[str, float]] = {"nornir": {}, "ansible": {}}
        started = time.monotonic()
        run = run_backup(app, hosts=hosts, settings=BackupSettings(repo_dir=work / "backups"))
        timings["nornir"]["backup"] = time.monotonic() - started
        assert not run.failed and len(run.added) == len(routers), run.as_dict()

        ansible_dir = work / "ansible-backups"
        ansible_dir.mkdir()
        extra = {"backup_dir": str(ansible_dir), "change_line": LINE}
        started = time.monotonic()
        result = run_ansible(db, "backup", hosts=hosts, extravars=extra,
                             playbook_dir=ANSIBLE_DIR)
        timings["ansible"]["backup"] = time.monotonic() - started
        assert not result.failed, {h: r.error for h, r in result.hosts.items()}
        assert len(list(ansible_dir.glob("*.cfg"))) == len(routers)

        started = time.monotonic()
        pushed = run_playbook(db, settings, change_playbook(), hosts=hosts, verify_timeout=5)
        timings["nornir"]["change"] = time.monotonic() - started
        assert not pushed.failed and all(r.changed for r in pushed.hosts.values())
        undo(routers)

        started = time.monotonic()
        result = run_ansible(db, "change", hosts=hosts, extravars=extra,
                             playbook_dir=ANSIBLE_DIR)
        timings["ansible"]["change"] = time.monotonic() - started
        assert not result.failed, {h: r.error for h, r in result.hosts.items()}
        undo(routers)
    finally:
        lab("down")
        db.dispose()
        subprocess.run(["rm", "-rf", str(work)], check=False)
    for side in timings.values():
        side["total"] = side["backup"] + side["change"]
    ratios = {k: timings["ansible"][k] / timings["nornir"][k] for k in ("backup", "change",
                                                                         "total")}
    now = datetime.now(UTC)
    data = {"generated": now.isoformat(), "routers": len(routers),
            "host": {"machine": platform.node(), "cpus": os.cpu_count(),
                     "load_at_start": round(load, 1)},
            "seconds": {s: {k: round(v, 2) for k, v in t.items()} for s, t in timings.items()},
            "ratio_ansible_over_nornir": {k: round(v, 2) for k, v in ratios.items()},
            "target_ratio": 5.0}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "playbooks.json").write_text(json.dumps(data, indent=2) + "\n")
    t = timings
    md = [f"# Playbooks: Nornir path vs Ansible ({now:%Y-%m-%d %H:%M} UTC)", "",
          f"Host: {os.cpu_count()} CPUs, load {load:.1f} at start. {len(routers)} lab FRR "
          "routers; each task run once per side, each run on new SSH connections.", "",
          "| task | Nornir (simpul) s | Ansible (ansible-runner) s | Ansible / Nornir |",
          "|---|---|---|---|"]
    for key, label in (("backup", "back up every router"),
                       ("change", "push one line to every router"), ("total", "both")):
        md.append(f"| {label} | {t['nornir'][key]:.2f} | {t['ansible'][key]:.2f} | "
                  f"{ratios[key]:.1f}x |")
    md += ["", "Nornir: `run_backup` (Netmiko over vtysh, cleaned, one git commit) and the "
           "playbook runner (NAPALM-FRR driver: lock, load, diff, commit, verify). Ansible: "
           "`raw` tasks over OpenSSH with ControlPersist, forks 20, through ansible-runner, "
           "on the routers' Linux shell (port 2222) because the FRR network_cli "
           "collections are not installed — Ansible's fastest path, and it does less "
           "(no diff, no lock, no rollback).", "",
           f"Target (issue 6): Nornir at least 5x faster: "
           f"{'met' if ratios['total'] >= 5 else 'NOT met'} ({ratios['total']:.1f}x)."]
    (RESULTS / "playbooks.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
