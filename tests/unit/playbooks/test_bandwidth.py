"""Bandwidth playbook: allocations from the inventory, OPD-facing interfaces, golden configs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from nornir.core.inventory import Host

from inventory.importer import import_file
from inventory.ipam.utilisation import create_bandwidth_allocation
from playbooks import bandwidth
from playbooks.base import RenderContext
from simpul import migrate
from simpul.audit import Actor
from simpul.db import Database
from simpul.models import Opd
from simpul.settings import load_settings

GOLDEN = Path(bandwidth.__file__).resolve().parent / "golden" / "bandwidth"
UPDATE = os.environ.get("SIMPUL_UPDATE_GOLDEN") == "1"
LAB = Path(bandwidth.__file__).resolve().parents[1] / "inventory" / "lab" / "province.yml"
IFACES = [bandwidth.LanInterface("Gi0/1", "192.0.2.1/24"),
          bandwidth.LanInterface("Gi0/2", "198.51.100.1/25")]


@pytest.mark.parametrize("layer", ("linux", "ios", "eos", "junos", "ros"))
def test_golden(layer: str) -> None:
    text = bandwidth.render_bandwidth(layer, opd="DISDIK", rate_mbps=20, interfaces=IFACES,
                                      tc_dir="/etc/simpul/tc")
    path = GOLDEN / f"{layer}.cfg"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()


def test_burst() -> None:
    assert bandwidth.burst_bytes(20) == 32_000
    assert bandwidth.burst_bytes(1000) == 1_250_000


@pytest.fixture
def ctx(tmp_path: Path) -> RenderContext:
    settings = load_settings(env={}, data_dir=str(tmp_path),
                             database_url=f"sqlite:///{tmp_path / 'x.db'}")
    db = Database.from_settings(settings)
    migrate.upgrade(db)
    with db.session() as s:
        import_file(s, Actor.system("test"), LAB)
    return RenderContext(db=db, settings=settings)


def _host(name: str, ctx: RenderContext) -> Host:
    from inventory.nornir import init_nornir

    return init_nornir(ctx.db, hosts=name, env={}).inventory.hosts[name]


def test_render_from_allocations(ctx: RenderContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMPUL_BANDWIDTH_TC_DIR", "/var/lib/simpul/tc")
    acc_a = _host("acc-a", ctx)
    assert bandwidth.select(acc_a) and not bandwidth.select(_host("core1", ctx))
    assert bandwidth.render(acc_a, ctx) == {}  # no allocation yet: nothing to configure
    with ctx.db.session() as s:
        disdik = s.query(Opd).filter_by(code="DISDIK").one()
        create_bandwidth_allocation(s, Actor.system("test"), opd_id=disdik.id, users=2)
        create_bandwidth_allocation(s, Actor.system("test"), opd_id=disdik.id, users=1,
                                    committed_mbps=15)
    rendered = bandwidth.render(acc_a, ctx)
    assert list(rendered) == ["linux"]
    text = rendered["linux"]
    # 2 users x 5 Mbps planned + 15 committed = 25 Mbps, on br0 (the OPD LAN) only.
    assert "### file /var/lib/simpul/tc/simpul-bandwidth-br0.tc mode=0644" in text
    assert "qdisc replace dev br0 root handle 1: tbf rate 25mbit burst 32000b" in text
    assert "eth0" not in text and "eth1" not in text and " lo " not in text
    assert text.rstrip().endswith(
        "### run tc -batch /var/lib/simpul/tc/simpul-bandwidth-br0.tc")
