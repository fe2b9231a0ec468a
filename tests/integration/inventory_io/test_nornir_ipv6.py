"""The Nornir inventory plugin and the IPv6 report against a real database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from inventory.importer import import_file
from inventory.ipv6 import ipv6_report, reserve_plan
from inventory.models import Prefix
from inventory.nornir import SimpulInventory, filter_nornir, init_nornir
from simpul.audit import Actor
from simpul.db import Database
from tests.integration.inventory_io.conftest import CLAB

ENV = {"SIMPUL_DEVICE_USERNAME": "ops", "SIMPUL_DEVICE_PASSWORD": "default-pass",
       "SIMPUL_DEVICE_LINUX_USERNAME": "root", "SIMPUL_DEVICE_LINUX_PASSWORD": "linux-pass",
       "SIMPUL_DEVICE_SITE_OPD_DINKES_PASSWORD": "dinkes-pass",
       "SIMPUL_DEVICE_FRR_SECRET": "enable-me"}


@pytest.fixture
def lab_db(db: Database, actor: Actor) -> Database:
    with db.session() as s:
        import_file(s, actor, CLAB)
    return db


def test_plugin_hosts_groups_and_credentials(lab_db: Database) -> None:
    inv = SimpulInventory(session_factory=lab_db.sessionmaker, env=ENV).load()
    assert len(inv.hosts) == 29
    core1 = inv.hosts["core1"]
    assert core1.hostname == "172.20.20.11"
    assert core1.platform == "cisco_ios"
    assert [g.name for g in core1.groups] == ["site:dc-diskominfo", "opd:DISKOMINFO",
                                              "role:core", "platform:frr"]
    assert core1.username == "ops" and core1.password == "default-pass"
    assert core1.get_connection_parameters("napalm").platform == "frr"
    assert core1.get_connection_parameters("netmiko").extras == {"secret": "enable-me"}
    assert core1.data["site"] == "dc-diskominfo" and core1.data["role"] == "core"
    web = inv.hosts["web"]
    assert (web.platform, web.username, web.password) == ("linux", "root", "linux-pass")
    acc_b = inv.hosts["acc-b"]  # the site override beats the default
    assert (acc_b.username, acc_b.password) == ("ops", "dinkes-pass")
    assert "default-pass" not in repr(inv.dict()["groups"])


def test_no_credentials_in_env_means_none(lab_db: Database) -> None:
    inv = SimpulInventory(session_factory=lab_db.sessionmaker, env={}).load()
    assert inv.hosts["core1"].username is None and inv.hosts["core1"].password is None


def test_init_nornir_and_filters(lab_db: Database) -> None:
    nr = init_nornir(lab_db, env=ENV, num_workers=5)
    assert len(nr.inventory.hosts) == 29
    assert nr.runner.num_workers == 5
    assert set(filter_nornir(nr, roles="core,edge").inventory.hosts) == {"core1", "core2", "edge"}
    assert set(filter_nornir(nr, opds=["dinkes"]).inventory.hosts) == {"acc-b", "hb1", "hb2"}
    assert set(filter_nornir(nr, sites="pop-area-a", platforms="frr").inventory.hosts) == \
        {"dist-a"}
    assert set(filter_nornir(nr, hosts=["web", "mail"]).inventory.hosts) == {"web", "mail"}
    narrow = init_nornir(lab_db.url, roles=["distribution"], env=ENV)
    assert set(narrow.inventory.hosts) == {"dist-a", "dist-b", "dist-c", "dist-d", "dc-sw"}


def test_ipv6_report_stages(lab_db: Database, actor: Actor, sample: Path) -> None:
    with lab_db.session(write=False) as s:
        report = ipv6_report(s, block="2001:db8::/32")
    assert report.stage_counts() == {"ipv4-only": 46, "planned": 0, "dual-stack": 0}
    assert len(report.devices_without_ipv6) == 29 == report.devices_total
    plan = {p.ipv4: p for p in report.prefixes}
    assert plan["10.1.10.0/24"].ipv6 == "2001:db8:a01:a00::/64"
    assert plan["172.20.20.0/24"].role == "management"
    with lab_db.session() as s:
        made = reserve_plan(s, actor, report)
    assert len(made) == 46
    with lab_db.session(write=False) as s:
        again = ipv6_report(s, block="2001:db8::/32")
        assert s.scalar(select(Prefix.status).where(
            Prefix.prefix == "2001:db8:a01:a00::/64")) == "reserved"
    assert again.stage_counts()["planned"] == 46
    assert {p.ipv6 for p in again.prefixes} == {p.ipv6 for p in report.prefixes}


def test_ipv6_report_dual_stack_and_block_errors(db: Database, actor: Actor,
                                                 sample: Path) -> None:
    with db.session() as s:
        import_file(s, actor, sample)
    with db.session(write=False) as s:
        report = ipv6_report(s, block="2001:db8:100::/48")
        assert ipv6_report(s, env={}).block is None
        with pytest.raises(Exception, match="must be an IPv6 prefix"):
            ipv6_report(s, block="192.0.2.0/24")
    stages = {p.ipv4: p.stage for p in report.prefixes}
    assert stages["198.51.100.0/24"] == "dual-stack"  # acc-b's br0 holds 2001:db8:1::1
    assert stages["192.0.2.0/26"] == "ipv4-only"
    assert report.devices_without_ipv6 == ["core1", "srv1"]
