"""Config backup: volatile-line filters, secret masking, the git repository, one commit per run."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from playbooks.backup import (
    BackupNotFound,
    ConfigRepo,
    clean_config,
    file_name,
    load_backup_settings,
    store_configs,
)
from playbooks.backup.collect import Pulled
from simpul import migrate
from simpul.context import AppContext
from simpul.db import Database
from simpul.errors import ConfigError
from simpul.settings import load_settings

FRR_RUN = """Building configuration...

Current configuration:
!
frr version 8.4.4
frr defaults traditional
hostname core1
!
interface lo
 ip address 192.0.2.1/32
exit
!
end
"""

IOS_RUN = """Building configuration...

Current configuration : 1234 bytes
!
! Last configuration change at 10:01:02 UTC Mon Nov 23 2026 by admin
! NVRAM config last updated at 10:01:03 UTC Mon Nov 23 2026 by admin
!
version 15.9
hostname r1
enable secret 9 $9$abcdefgh$ijklmnop
username admin privilege 15 secret 9 $9$qrstuvwx$yz
snmp-server community public RO
ntp clock-period 17179876
ntp server 192.0.2.123
end
"""


def test_frr_headers_are_dropped() -> None:
    text = clean_config(FRR_RUN, "frr")
    assert text.startswith("!\nfrr version 8.4.4\n")
    assert "Building configuration" not in text and "Current configuration" not in text
    assert text.endswith("end\n")


def test_ios_volatile_lines_and_secrets() -> None:
    text = clean_config(IOS_RUN, "ios")
    assert "Last configuration change" not in text and "NVRAM" not in text
    assert "clock-period" not in text and "ntp server 192.0.2.123" in text
    assert "enable secret 9 <removed>" in text
    assert "username admin privilege 15 secret 9 <removed>" in text
    assert "snmp-server community <removed> RO" in text
    assert "$9$" not in text and "public" not in text


def test_unchanged_device_with_new_timestamps_is_identical() -> None:
    later = IOS_RUN.replace("10:01:02", "23:59:59").replace("17179876", "17179999")
    assert clean_config(IOS_RUN, "ios") == clean_config(later.replace("\n", "\r\n"), "ios")


@pytest.mark.parametrize(("platform", "raw", "gone", "kept"), [
    ("eos", "! Command: show running-config\n! device: sw1 (vEOS, EOS-4.30)\n"
     "! Time: Mon Nov 23 10:00:00 2026\nhostname sw1\n", "Time:", "hostname sw1"),
    ("junos", "## Last commit: 2026-11-23 10:00:00 UTC by admin\n"
     "set system host-name r1\nset system root-authentication encrypted-password \"$6$x\"\n",
     "Last commit", 'encrypted-password <removed>'),
    ("routeros", "# 2026-11-23 10:00:00 by RouterOS 7.16\n# software id = ABCD-1234\n"
     "/user add name=noc password=hunter2\n", "by RouterOS", "password=<removed>"),
])
def test_other_platforms(platform: str, raw: str, gone: str, kept: str) -> None:
    text = clean_config(raw, platform)
    assert gone not in text and kept in text


def test_password_encryption_line_is_not_masked() -> None:
    assert clean_config("service password-encryption\n", "frr") == \
        "service password-encryption\n"


def test_file_names_are_safe() -> None:
    assert file_name("core1") == "core1.cfg"
    assert file_name("dc-x/sw1") == "dc-x__sw1.cfg"
    assert file_name("../etc") == "_..__etc.cfg"
    assert "/" not in file_name("a/../../b")


def test_settings(tmp_path: Path) -> None:
    base = load_settings(env={}, data_dir=str(tmp_path))
    assert load_backup_settings(base, env={}).repo_dir == tmp_path / "backups"
    assert load_backup_settings(base, env={"SIMPUL_BACKUP_HOUR": "off"}).hour is None
    assert load_backup_settings(base, env={"SIMPUL_BACKUP_HOUR": "23"}).hour == 23
    with pytest.raises(ConfigError, match="SIMPUL_BACKUP_HOUR"):
        load_backup_settings(base, env={"SIMPUL_BACKUP_HOUR": "24"})


@pytest.fixture
def app(tmp_path: Path) -> AppContext:
    settings = load_settings(env={}, data_dir=str(tmp_path / "data"),
                             database_url=f"sqlite:///{tmp_path / 'x.db'}")
    database = Database.from_settings(settings)
    migrate.upgrade(database)
    return AppContext(settings=settings, db=database)


def _commits(repo: ConfigRepo) -> list[str]:
    return repo.git("log", "--format=%s").splitlines()


def test_runs_commit_only_changes(app: AppContext, tmp_path: Path) -> None:
    repo = ConfigRepo(tmp_path / "repo")
    t0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    first = store_configs(app, repo, [Pulled("core1", "frr", FRR_RUN),
                                      Pulled("r1", "ios", IOS_RUN),
                                      Pulled("dist-a", "frr", error="timeout")], {}, now=t0)
    assert first.added == ["core1", "r1"] and first.failed == {"dist-a": "timeout"}
    assert first.commit
    message = repo.git("log", "-1", "--format=%B")
    assert message.startswith("backup 2026-11-23 02:00 UTC: 0 changed, 2 added, 1 failed")
    assert "failed: dist-a: timeout" in message

    # Unchanged devices (new timestamps only): no commit.
    again = store_configs(app, repo, [Pulled("core1", "frr", FRR_RUN),
                                      Pulled("r1", "ios", IOS_RUN.replace("10:01", "11:59"))],
                          {}, now=t0)
    assert again.commit is None and again.unchanged == ["core1", "r1"]
    assert len(_commits(repo)) == 1

    changed = FRR_RUN.replace("exit\n!\nend", "exit\n!\nrouter ospf\nexit\n!\nend")
    third = store_configs(app, repo, [Pulled("core1", "frr", changed),
                                      Pulled("r1", "ios", error="auth failed")], {}, now=t0)
    assert third.changed == ["core1"] and third.commit
    assert len(_commits(repo)) == 2
    assert "+router ospf" in repo.diff("core1")
    assert "ip address" not in repo.diff("core1").replace(" ip address 192.0.2.1/32\n", "")
    # The failed device keeps its last good config.
    assert "hostname r1" in (repo.read("r1") or "")
    # diff against a revision: the first commit to now.
    assert "+router ospf" in repo.diff("core1", first.commit)
    assert repo.diff("r1") == ""  # one version only
    assert [h[0] for h in repo.history("core1")] == [third.commit, first.commit]


def test_diff_errors(app: AppContext, tmp_path: Path) -> None:
    repo = ConfigRepo(tmp_path / "repo")
    with pytest.raises(BackupNotFound, match="no backup of device 'core1'"):
        repo.diff("core1")
    store_configs(app, repo, [Pulled("core1", "frr", FRR_RUN)], {})
    for bad in ("nope", "--output=/tmp/x", "HEAD;rm"):
        with pytest.raises(BackupNotFound, match="no revision"):
            repo.diff("core1", bad)


def test_repo_is_plain_git(app: AppContext, tmp_path: Path) -> None:
    repo = ConfigRepo(tmp_path / "repo")
    store_configs(app, repo, [Pulled("core1", "frr", FRR_RUN)], {})
    out = subprocess.run(["git", "-C", str(repo.path), "show", "HEAD:core1.cfg"],
                         capture_output=True, text=True, check=True).stdout
    assert out == clean_config(FRR_RUN, "frr")


def test_changes_link_to_work_orders(app: AppContext, tmp_path: Path) -> None:
    from simpul.models import Opd
    from webui.helpdesk.models import WorkOrder

    with app.db.session() as s:
        dinkes, dishub = Opd(code="DINKES", name="Dinkes"), Opd(code="DISHUB", name="Dishub")
        s.add_all([dinkes, dishub])
        s.flush()
        due = datetime(2026, 12, 1, tzinfo=UTC)
        s.add_all([
            WorkOrder(type="titik_koneksi", state="installation", title="Link for Dinkes",
                      opd_id=dinkes.id, sla_due_at=due),
            WorkOrder(type="pengaduan", state="submitted", title="not yet approved",
                      opd_id=dishub.id, sla_due_at=due),
            WorkOrder(type="permintaan", state="configuration", title="QoS on acc-d",
                      opd_id=dinkes.id, sla_due_at=due, details={"device": "acc-d"}),
        ])
    repo = ConfigRepo(tmp_path / "repo")
    opds = {"acc-b": "DINKES", "acc-d": "DISHUB", "acc-c": "DISHUB"}
    store_configs(app, repo, [Pulled(n, "frr", FRR_RUN) for n in opds], opds)
    changed = FRR_RUN.replace("end", "ip forwarding\nend")
    run = store_configs(app, repo, [Pulled(n, "frr", changed) for n in opds], opds)
    with app.db.session(write=False) as s:
        ids = {wo.title: wo.id for wo in s.query(WorkOrder)}
    # Named device wins; same-OPD WO otherwise; an unapproved WO never links.
    assert run.work_orders == {"acc-b": [ids["Link for Dinkes"], ids["QoS on acc-d"]],
                               "acc-d": [ids["QoS on acc-d"]]}
    message = repo.git("log", "-1", "--format=%B")
    assert f"changed: acc-d (work order WO-{ids['QoS on acc-d']})" in message
    assert "changed: acc-c\n" in message


def test_daily_schedule(app: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    from zoneinfo import ZoneInfo

    from playbooks.services import DailyBackupService, background_services, next_run

    tz = ZoneInfo("Asia/Jakarta")
    assert next_run(datetime(2026, 11, 23, 1, 30, tzinfo=tz), 2) == \
        datetime(2026, 11, 23, 2, 0, tzinfo=tz)
    assert next_run(datetime(2026, 11, 23, 2, 0, tzinfo=tz), 2) == \
        datetime(2026, 11, 24, 2, 0, tzinfo=tz)
    monkeypatch.setenv("SIMPUL_BACKUP_HOUR", "off")
    assert background_services(app) == []
    monkeypatch.setenv("SIMPUL_BACKUP_HOUR", "3")
    [service] = background_services(app)
    assert isinstance(service, DailyBackupService) and service.settings.hour == 3
    service.start()
    service.stop()  # stops promptly while waiting for 03:00
    assert service.last_run is None
