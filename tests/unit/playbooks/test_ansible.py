"""Ansible playbooks through ansible-runner: names, inventory, events, the result table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from inventory.importer import import_file
from playbooks.ansible_runner import (
    ANSIBLE_DIR,
    CREDENTIAL_VARS,
    _Collector,
    ansible_names,
    build_inventory,
    playbook_path,
    run_ansible,
)
from playbooks.base import PlaybookError
from simpul import migrate
from simpul.audit import Actor
from simpul.db import Database
from simpul.settings import load_settings

LAB = Path(__file__).resolve().parents[3] / "inventory" / "lab" / "province.yml"


def test_names_and_unknown() -> None:
    assert ansible_names() == ["patch-status", "server-baseline", "ssh-port"]
    with pytest.raises(PlaybookError, match="unknown Ansible playbook 'nope'; known: patch"):
        playbook_path("nope")
    with pytest.raises(PlaybookError):
        playbook_path("../etc/passwd")


@pytest.mark.parametrize("name", ["patch-status", "server-baseline", "ssh-port"])
def test_syntax(name: str, tmp_path: Path) -> None:
    ansible = Path(sys.executable).parent / "ansible-playbook"
    proc = subprocess.run([str(ansible), "--syntax-check", "-i", "localhost,",
                           str(ANSIBLE_DIR / f"{name}.yml")], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr


@pytest.fixture
def db(tmp_path: Path) -> Database:
    settings = load_settings(env={}, data_dir=str(tmp_path),
                             database_url=f"sqlite:///{tmp_path / 'x.db'}")
    database = Database.from_settings(settings)
    migrate.upgrade(database)
    with database.session() as s:
        import_file(s, Actor.system("test"), LAB)
    return database


def test_inventory_has_no_secret(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMPUL_DEVICE_PASSWORD", "s3cret-pw")
    inventory = build_inventory(db, ["web", "mail"])
    assert sorted(inventory["all"]["hosts"]) == ["mail", "web"]
    assert inventory["all"]["hosts"]["web"]["ansible_host"] == "172.20.20.51"
    assert inventory["all"]["vars"]["ansible_password"] == CREDENTIAL_VARS["ansible_password"]
    assert "s3cret-pw" not in str(inventory)
    assert inventory["all"]["children"]["role_server"]["hosts"] == {"mail": None, "web": None}


def test_collector_maps_events_to_the_result_table() -> None:
    seen: list[tuple[str, str]] = []
    c = _Collector(["web", "mail", "proxy"], lambda h, m: seen.append((h, m)))
    c({"event": "runner_on_ok", "event_data": {"host": "web", "task": "Banner",
                                               "res": {"changed": True}}})
    c({"event": "runner_on_ok", "event_data": {"host": "mail", "task": "Report",
                                               "res": {"msg": "simpul-report: 3 pending"}}})
    c({"event": "runner_on_unreachable", "event_data": {
        "host": "proxy", "task": "Gathering", "res": {"msg": "ssh: connect timed out\nmore"}}})
    c.finish({"processed": {"web": 1, "mail": 1, "proxy": 1}, "changed": {"web": 2},
              "dark": {"proxy": 1}}, 1.5)
    assert {h: r.status for h, r in c.results.items()} == {
        "web": "changed", "mail": "ok", "proxy": "failed"}
    assert c.results["mail"].diffs == {"report": "3 pending\n"}
    assert c.results["proxy"].error == "Gathering: ssh: connect timed out"
    assert ("web", "Banner: changed") in seen and ("mail", "Report: 3 pending") in seen


def test_real_run_on_the_controller(db: Database) -> None:
    """ansible-runner for real, with a local connection (no SSH needed)."""
    seen: list[tuple[str, str]] = []
    result = run_ansible(db, "patch-status", hosts="web,mail",
                         extravars={"ansible_connection": "local",
                                    "ansible_python_interpreter": sys.executable},
                         on_event=lambda h, m: seen.append((h, m)))
    assert result.playbook == "ansible:patch-status" and not result.failed
    assert {h: r.status for h, r in result.hosts.items()} == {"mail": "ok", "web": "ok"}
    assert "pending" in result.hosts["web"].diffs["report"]
    assert any(h == "web" and "Report:" in m for h, m in seen)
    with pytest.raises(PlaybookError, match="no inventory host matches"):
        run_ansible(db, "patch-status", hosts="nosuch")
