"""The lab in one command, exports, and the round trip export → import → export."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from inventory.export import export_ansible, export_yaml
from inventory.importer import import_file
from inventory.models import Cable, Device, Interface, IpAddress, Prefix
from simpul import migrate
from simpul.audit import Actor
from simpul.db import Database
from tests.integration.inventory_io.conftest import CLAB, LAB_YAML

ROUTERS = {"core1", "core2", "dist-a", "dist-b", "dist-c", "dist-d", "dc-sw", "acc-a", "acc-b",
           "acc-c", "acc-d", "nac-sw", "edge", "internet", "rmt-r1"}


def _count(db: Database, model: type) -> int:
    with db.session(write=False) as s:
        return s.scalar(select(func.count()).select_from(model))


def test_clab_import_loads_the_lab(db: Database, actor: Actor) -> None:
    with db.session() as s:
        report = import_file(s, actor, CLAB)
    assert report.format == "containerlab"
    assert _count(db, Device) == 29
    assert _count(db, Interface) == 127
    assert _count(db, Cable) == 37
    with db.session(write=False) as s:
        devices = {d.name: d for d in s.scalars(select(Device))}
        assert {n for n, d in devices.items() if d.platform == "frr"} == ROUTERS
        core1 = devices["core1"]
        assert core1.role == "core"
        assert s.get(IpAddress, core1.primary_ip4_id).address == "172.20.20.11/24"
        assert devices["nac-sw"].role == "access" and devices["internet"].role == "router"
        assert devices["web"].platform == "linux" and devices["web"].description == \
            "service: nginx"
        mgmt = s.scalar(select(Prefix).where(Prefix.prefix == "172.20.20.0/24"))
        assert mgmt.role == "management"
        lan = s.scalar(select(Prefix).where(Prefix.prefix == "10.2.10.0/24"))
        assert lan.role == "lan" and lan.site_id == devices["acc-b"].site_id
        assert s.scalar(select(IpAddress).where(IpAddress.address == "10.255.0.0/31")) \
            .interface_id is not None
    with db.session() as s:
        again = import_file(s, actor, CLAB)
    assert not again.changed and "unchanged" in again.summary()[-1]


def test_lab_yaml_loads_the_same_lab(db: Database, actor: Actor, tmp_path: Path) -> None:
    """inventory/lab/province.yml (own format) and the .clab.yml give the same inventory."""
    with db.session() as s:
        import_file(s, actor, CLAB)
    with db.session() as s:
        from_clab = export_yaml(s)
        assert not import_file(s, actor, LAB_YAML).changed
    other = Database(f"sqlite:///{tmp_path / 'other.db'}")
    migrate.upgrade(other)
    with other.session() as s:
        import_file(s, actor, LAB_YAML)
    with other.session() as s:
        assert export_yaml(s) == from_clab
    other.dispose()


@pytest.mark.parametrize(("source", "devices"), [("sample", 3), ("clab", 29)])
def test_round_trip_export_import_export(db: Database, actor: Actor, sample: Path,
                                         tmp_path: Path, source: str, devices: int) -> None:
    with db.session() as s:
        import_file(s, actor, sample if source == "sample" else CLAB)
    with db.session(write=False) as s:
        first = export_yaml(s)
    exported = tmp_path / "export.yml"
    exported.write_text(first)
    fresh = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    migrate.upgrade(fresh)
    with fresh.session() as s:
        report = import_file(s, actor, exported)
    assert report.counts["device"]["created"] == devices
    with fresh.session(write=False) as s:
        assert export_yaml(s) == first
    fresh.dispose()


def test_ansible_inventory_shape(db: Database, actor: Actor) -> None:
    with db.session() as s:
        import_file(s, actor, CLAB)
    with db.session(write=False) as s:
        inv = export_ansible(s)
    text = yaml.safe_dump(inv)
    assert "password" not in text and "simpul-lab" not in text
    hosts = inv["all"]["hosts"]
    assert len(hosts) == 29
    assert hosts["core1"]["ansible_host"] == "172.20.20.11"
    assert hosts["core1"]["simpul_site"] == "dc-diskominfo"
    groups = inv["all"]["children"]
    assert set(groups["role_core"]["hosts"]) == {"core1", "core2"}
    assert "acc-b" in groups["opd_dinkes"]["hosts"]
    assert "dc-sw" in groups["site_dc_diskominfo"]["hosts"]
    assert set(groups["platform_frr"]["hosts"]) == ROUTERS
    assert groups["platform_frr"]["vars"] == {
        "ansible_network_os": "frr.frr.frr",
        "ansible_connection": "ansible.netcommon.network_cli"}
    assert groups["platform_linux"]["vars"] == {"ansible_connection": "ssh"}
    assert all(name.replace("_", "").isalnum() for name in groups)
