"""The runner's decisions (dry-run, commit, rollback, lock) and the run records.

The device here is an in-memory NAPALM driver: the runner's logic is what is under test;
the same paths against real FRR routers are in tests/integration/playbooks/.
"""

from __future__ import annotations

import sys
import types
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from napalm.base import NetworkDriver
from napalm.base.exceptions import CommitError
from nornir.core import Nornir
from nornir.core.inventory import Defaults, Groups, Host, Hosts, Inventory
from nornir.plugins.runners import ThreadedRunner

from playbooks import locks
from playbooks.base import PlaybookError, RenderContext
from playbooks.cli import result_table
from playbooks.records import create_run, execute_run, get_run, list_runs, run_as_dict
from playbooks.runner import Runner
from simpul.audit import Actor
from simpul.db import Database
from simpul.settings import Settings, load_settings

DEVICES: dict[str, dict[str, Any]] = {}  # hostname -> {"config": str, ...}


class MemoryDriver(NetworkDriver):
    """A device whose config is a set of lines; "fail" in a candidate refuses the commit."""

    def __init__(self, hostname: str, username: str, password: str, timeout: int = 60,
                 optional_args: dict[str, Any] | None = None) -> None:
        self.hostname = hostname
        self.state = DEVICES.setdefault(hostname, {"config": ""})
        self.candidate: str | None = None
        self.saved: str | None = None

    def open(self) -> None: ...

    def close(self) -> None: ...

    def load_merge_candidate(self, filename: str | None = None, config: str | None = None
                             ) -> None:
        self.candidate = config

    def compare_config(self) -> str:
        have = set(self.state["config"].splitlines())
        return "".join(f"+ {ln}\n" for ln in (self.candidate or "").splitlines()
                       if ln not in have)

    def discard_config(self) -> None:
        self.candidate = None

    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        self.saved = self.state["config"]
        lines = [ln for ln in (self.candidate or "").splitlines()
                 if ln not in self.state["config"].splitlines()]
        for line in lines:
            if line == "fail":
                raise CommitError("% Unknown command: fail")
            self.state["config"] += line + "\n"

    def rollback(self) -> None:
        assert self.saved is not None
        self.state["config"] = self.saved


@pytest.fixture(autouse=True)
def memory_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    package = types.ModuleType("custom_napalm")
    package.__path__ = []  # type: ignore[attr-defined]
    module = types.ModuleType("custom_napalm.memory")
    module.MemoryDriver = MemoryDriver  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "custom_napalm", package)
    monkeypatch.setitem(sys.modules, "custom_napalm.memory", module)
    DEVICES.clear()


def playbook(config: dict[str, str], problems: dict[str, list[str]] | None = None
             ) -> types.ModuleType:
    """A playbook rendering *config* per host on the "memory" layer."""
    module = types.ModuleType("memory_playbook")
    module.NAME = "memory"  # type: ignore[attr-defined]
    module.DESCRIPTION = "test"  # type: ignore[attr-defined]
    module.select = lambda host: host.name != "ignored"  # type: ignore[attr-defined]
    module.render = lambda host, ctx: (  # type: ignore[attr-defined]
        {"memory": config[host.name]} if config.get(host.name) else {})
    module.verify = lambda host, ctx, devices: list(  # type: ignore[attr-defined]
        (problems or {}).get(host.name, []))
    return module


def nornir(*names: str) -> Nornir:
    hosts = Hosts({n: Host(n, hostname=n) for n in names})
    return Nornir(inventory=Inventory(hosts=hosts, groups=Groups(), defaults=Defaults()),
                  runner=ThreadedRunner(num_workers=4))


def ctx(tmp_path: Path) -> RenderContext:
    settings = load_settings(env={}, data_dir=str(tmp_path))
    return RenderContext(db=None, settings=settings, verify_timeout=1)  # type: ignore[arg-type]


def run(tmp_path: Path, module: types.ModuleType, *names: str, dry_run: bool = False,
        seen: list[str] | None = None) -> Any:
    runner = Runner(module, ctx(tmp_path), dry_run=dry_run, holder="test run",
                    on_event=lambda h, m: seen.append(f"{h}: {m}") if seen is not None else None)
    return runner.run(nornir(*names))


def test_dry_run_reports_diffs_and_changes_nothing(tmp_path: Path) -> None:
    seen: list[str] = []
    result = run(tmp_path, playbook({"r1": "a\nb\n", "r2": ""}), "r1", "r2", "ignored",
                 dry_run=True, seen=seen)
    assert set(result.hosts) == {"r1", "r2"}  # select() left "ignored" out
    r1 = result.hosts["r1"]
    assert (r1.status, r1.changed, r1.diff, r1.diff_lines) == (
        "changed", True, "# memory\n+ a\n+ b\n", 2)
    assert result.hosts["r2"].status == "skipped" and not result.failed
    assert DEVICES["r1"]["config"] == ""
    assert "r1: memory: 2 line(s) to change" in seen


def test_apply_then_rerun_is_a_no_op(tmp_path: Path) -> None:
    module = playbook({"r1": "a\nb\n"})
    first = run(tmp_path, module, "r1")
    assert first.hosts["r1"].status == "changed" and first.hosts["r1"].verified
    assert DEVICES["r1"]["config"] == "a\nb\n"
    second = run(tmp_path, module, "r1")
    assert second.hosts["r1"].status == "ok" and second.hosts["r1"].diff == ""


def test_refused_commit_rolls_back(tmp_path: Path) -> None:
    DEVICES["r1"] = {"config": "keep\n"}
    result = run(tmp_path, playbook({"r1": "a\nfail\n", "r2": "c\n"}), "r1", "r2")
    assert result.failed and result.status == "failed"
    assert result.hosts["r1"].status == "rolled-back"
    assert "Unknown command: fail" in result.hosts["r1"].error
    assert DEVICES["r1"]["config"] == "keep\n"
    assert result.hosts["r2"].status == "changed"  # other hosts are not affected


def test_failed_verification_rolls_back(tmp_path: Path) -> None:
    result = run(tmp_path, playbook({"r1": "a\n"}, {"r1": ["OSPF: no Full neighbour"]}), "r1")
    host = result.hosts["r1"]
    assert (host.status, host.verified, host.verification) == (
        "rolled-back", False, ["OSPF: no Full neighbour"])
    assert DEVICES["r1"]["config"] == ""


def test_failed_verification_without_change_is_failed(tmp_path: Path) -> None:
    DEVICES["r1"] = {"config": "a\n"}
    result = run(tmp_path, playbook({"r1": "a\n"}, {"r1": ["BGP down"]}), "r1")
    assert result.hosts["r1"].status == "failed"


def test_locked_device_is_refused(tmp_path: Path) -> None:
    with locks.device_lock(tmp_path, "r1", holder="run 5 by budi"):
        result = run(tmp_path, playbook({"r1": "a\n", "r2": "b\n"}), "r1", "r2")
    assert result.hosts["r1"].status == "locked"
    assert "locked by run 5 by budi" in result.hosts["r1"].error
    assert result.hosts["r2"].status == "changed" and result.failed
    assert "r1" not in DEVICES or DEVICES["r1"]["config"] == ""


def test_no_matching_host_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError, match="no host matches"):
        run(tmp_path, playbook({}), "ignored")


def test_secrets_are_redacted_in_diffs_and_events(tmp_path: Path) -> None:
    from simpul.logging import register_secret

    register_secret("tops3cret-value")
    seen: list[str] = []
    result = run(tmp_path, playbook({"r1": "key tops3cret-value\n"}), "r1", dry_run=True,
                 seen=seen)
    assert result.hosts["r1"].diff == "# memory\n+ key ***\n"


def test_result_table() -> None:
    table = result_table([
        {"host": "core1", "status": "changed", "changed": True, "diff_lines": 12,
         "verified": True, "verification": [], "error": ""},
        {"host": "edge", "status": "rolled-back", "changed": True, "diff_lines": 3,
         "verified": False, "verification": ["BGP: 100.64.0.1 is not Established"],
         "error": ""},
        {"host": "acc-a", "status": "locked", "changed": False, "diff_lines": 0,
         "verified": None, "verification": [], "error": "acc-a is locked by run 3"},
    ])
    assert table.splitlines() == [
        "host   status       changed  diff  verification",
        "core1  changed      yes      12    ok",
        "edge   rolled-back  yes      3     BGP: 100.64.0.1 is not Established",
        "acc-a  locked       no       0     acc-a is locked by run 3",
    ]


# --- run records (SQLite and PostgreSQL) -------------------------------------------------


def _approved_work_order(db: Database, *, approved: bool, state: str = "installation") -> int:
    from simpul.models import Opd
    from webui.helpdesk.models import WorkOrder, WorkOrderEvent

    with db.session() as session:
        opd = Opd(code="DISKOMINFO", name="Diskominfo", is_operator=True)
        session.add(opd)
        session.flush()
        order = WorkOrder(type="gangguan", state=state, title="core change", opd_id=opd.id,
                          sla_due_at=datetime.now(UTC), details={})
        session.add(order)
        session.flush()
        if approved:
            session.add(WorkOrderEvent(work_order_id=order.id, kind="transition",
                                       actor_name="pimpinan", action="approve"))
        return order.id


def test_apply_needs_confirmation_or_an_approved_work_order(db: Database) -> None:
    actor = Actor.cli()
    with db.session() as session:
        with pytest.raises(PlaybookError, match="explicit confirmation"):
            create_run(session, actor, "backbone", dry_run=False)
        with pytest.raises(PlaybookError, match="unknown playbook"):
            create_run(session, actor, "nope", dry_run=True)
        with pytest.raises(PlaybookError, match="unknown filter"):
            create_run(session, actor, "backbone", filters={"color": "red"})
        dry = create_run(session, actor, "backbone", filters={"hosts": "core1, core2"})
        assert (dry.state, dry.filters, dry.started_by) == (
            "queued", {"hosts": ["core1", "core2"]}, actor.name)
    pending = _approved_work_order(db, approved=False)
    with db.session() as session, pytest.raises(PlaybookError, match="is not approved"):
        create_run(session, actor, "backbone", dry_run=False, work_order=pending,
                   confirmed=True)


def test_approved_work_order_authorises_an_apply(db: Database) -> None:
    order = _approved_work_order(db, approved=True)
    with db.session() as session:
        run_ = create_run(session, Actor.cli(), "backbone", dry_run=False, work_order=order)
        assert run_.work_order_id == order and not run_.dry_run


def test_execute_run_records_output_and_hosts(db: Database, settings: Settings) -> None:
    from inventory.importer import import_file

    clab = Path(__file__).resolve().parents[3] / "labs" / "province" / "province.clab.yml"
    with db.session() as session:
        import_file(session, Actor.system("test"), clab)
        run_id = create_run(session, Actor.cli(), "backbone", dry_run=False, confirmed=True,
                            filters={"hosts": "core1,core2"}).id
    lines: list[str] = []
    module = playbook({"core1": "x\n", "core2": "fail\n"})
    result = execute_run(db, settings, run_id, on_line=lines.append, playbook_module=module)
    assert result is not None and result.failed
    with db.session(write=False) as session:
        record = get_run(session, run_id)
        assert record.state == "failed" and record.finished_at is not None
        assert {h.host: h.status for h in record.hosts} == {"core1": "changed",
                                                           "core2": "rolled-back"}
        assert "core1: memory: committed" in record.output
        assert record.output.splitlines() == lines
        data = run_as_dict(record)
        assert data["finished"] and data["hosts"][0]["diff"] == "# memory\n+ x\n"
        assert [r.id for r in list_runs(session)] == [run_id]
    with pytest.raises(PlaybookError, match="already been executed"):
        execute_run(db, settings, run_id, playbook_module=module)
