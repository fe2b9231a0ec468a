"""DCIM rules: names, rack placement, power, space finder, interfaces, cables, outlets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from inventory.dcim import devices, interfaces, racks, sites
from inventory.errors import InUseError, InventoryValidationError, PowerBudgetError
from inventory.expiry import release_expired
from inventory.ipam import addresses, prefixes
from inventory.models import Device, DeviceUnit, Interface
from simpul.audit import Actor, list_entries
from simpul.db import Database


@pytest.fixture
def dc(db: Database, actor: Actor) -> dict[str, int]:
    """A site with a 10U rack (feeds A/B of 230 V x 10 A x 80 % = 1840 W) and two types."""
    with db.session() as s:
        site = sites.create_site(s, actor, name="DC Kominfo", slug="dc-kominfo", area="A")
        rack = racks.create_rack(s, actor, site_id=site.id, name="R01", u_height=10,
                                 power_budget_w=2000)
        for feed in "AB":
            racks.create_power_feed(s, actor, rack_id=rack.id, name=feed, amperage=10)
        maker = sites.create_manufacturer(s, actor, name="Generic", slug="generic")
        server = sites.create_device_type(s, actor, manufacturer_id=maker.id, model="2U server",
                                          slug="server-2u", u_height=2, power_draw_w=500)
        patch = sites.create_device_type(s, actor, manufacturer_id=maker.id, model="patch",
                                         slug="patch-1u", u_height=1, is_full_depth=False)
        s.flush()
        return {"site": site.id, "rack": rack.id, "server": server.id, "patch": patch.id}


def _device(db: Database, actor: Actor, dc: dict[str, int], name: str, kind: str = "server",
            **kw: object) -> int:
    with db.session() as s:
        return devices.create_device(s, actor, name=name, device_type_id=dc[kind],
                                     role="server", site_id=dc["site"], **kw).id  # type: ignore[arg-type]


def test_duplicate_names_and_slugs(db: Database, actor: Actor, dc: dict[str, int]) -> None:
    with db.session() as s, pytest.raises(InventoryValidationError) as exc:
        sites.create_site(s, actor, name="DC Kominfo", slug="dc-kominfo")
    assert exc.value.errors == {"name": ["already exists"], "slug": ["already exists"]}
    _device(db, actor, dc, "srv1")
    with db.session() as s, pytest.raises(InventoryValidationError) as exc:
        devices.create_device(s, actor, name="srv1", device_type_id=dc["server"],
                              role="server", site_id=dc["site"])
    assert exc.value.errors == {"name": ["srv1 already exists at DC Kominfo"]}
    with db.session() as s, pytest.raises(InventoryValidationError) as exc:
        devices.create_device(s, actor, name="x", device_type_id=dc["server"], role="boss",
                              platform="dos", site_id=dc["site"])
    assert set(exc.value.errors) == {"role", "platform"}


def test_rack_placement_rules(db: Database, actor: Actor, dc: dict[str, int]) -> None:
    _device(db, actor, dc, "srv1", rack_id=dc["rack"], position=3, face="front")
    _device(db, actor, dc, "patch-front", "patch", rack_id=dc["rack"], position=1,
            face="front")
    _device(db, actor, dc, "patch-rear", "patch", rack_id=dc["rack"], position=1, face="rear")
    bad = {
        4: "U4 (front) of rack R01 is occupied by srv1",
        10: "a 2U device at U10 reaches U11, above rack R01 (10U)",
        0: "must be U1 or above",
    }
    for position, message in bad.items():
        with db.session() as s, pytest.raises(InventoryValidationError) as exc:
            devices.create_device(s, actor, name=f"bad{position}", device_type_id=dc["server"],
                                  role="server", site_id=dc["site"], rack_id=dc["rack"],
                                  position=position, face="rear")
        assert exc.value.errors == {"position": [message]}
    # a full-depth device is blocked by a half-depth one on the other face
    with db.session() as s, pytest.raises(InventoryValidationError) as exc:
        devices.create_device(s, actor, name="srv-low", device_type_id=dc["server"],
                              role="server", site_id=dc["site"], rack_id=dc["rack"],
                              position=1, face="front")
    assert exc.value.errors == {"position": ["U1 (front) of rack R01 is occupied by patch-front"]}
    with db.session() as s:
        used = racks.rack_utilisation(s, racks.get_rack(s, dc["rack"]))
        assert (used["front"].used, used["rear"].used) == (3, 3)
        assert s.scalar(select(func.count()).select_from(Device)) == 3


def test_power_budget(db: Database, actor: Actor, dc: dict[str, int]) -> None:
    for i, pos in enumerate((1, 3, 5)):
        _device(db, actor, dc, f"srv{i}", rack_id=dc["rack"], position=pos)
    with db.session() as s, pytest.raises(PowerBudgetError) as exc:
        devices.create_device(s, actor, name="srv4", device_type_id=dc["server"],
                              role="server", site_id=dc["site"], rack_id=dc["rack"],
                              position=7)
    assert str(exc.value) == "rack R01 would draw 2000 W, above its 1840 W limit"
    assert exc.value.http_status == 409
    with db.session() as s:
        rack = racks.get_rack(s, dc["rack"])
        power = racks.power_utilisation(s, rack)
        assert {k: (u.used, u.total) for k, u in power.items()} == {
            "budget": (1500, 2000), "A": (1500, 1840), "B": (1500, 1840)}
        assert s.scalar(select(func.count()).select_from(Device)) == 3


def test_find_rack_space(db: Database, actor: Actor, dc: dict[str, int],
                         opd_ids: dict[str, int]) -> None:
    with db.session() as s:
        rack2 = racks.create_rack(s, actor, site_id=dc["site"], name="R02", u_height=10)
        rack2_id = rack2.id
    _device(db, actor, dc, "a", rack_id=dc["rack"], position=1)
    _device(db, actor, dc, "b", rack_id=dc["rack"], position=5)
    # R01 free: U3-4 (2U run) and U7-10; R02 is empty (10U run)
    with db.session() as s:
        found = racks.find_rack_space(s, u_height=2, site_id=dc["site"])
        assert [(r.rack.name, r.position, r.run_length) for r in found] == [
            ("R01", 3, 2), ("R02", 1, 10)]
        assert found[0].power_headroom_w == 840
        assert [r.rack.name for r in racks.find_rack_space(s, u_height=2, power_w=900)] == [
            "R02"]
        racks.reserve_rack_units(s, actor, rack_id=rack2_id, units=[1, 2, 3, 4, 5, 6, 7],
                                 opd_id=opd_ids["DINKES"], description="colocation Dinkes",
                                 expires_at=datetime(2027, 1, 1, tzinfo=UTC))
    with db.session() as s:
        found = racks.find_rack_space(s, u_height=3, site_id=dc["site"])
        assert [(r.rack.name, r.position) for r in found] == [("R02", 8), ("R01", 7)]
        mine = racks.find_rack_space(s, u_height=3, opd_id=opd_ids["DINKES"])
        assert [(r.rack.name, r.position) for r in mine] == [("R01", 7), ("R02", 1)]
    with db.session() as s, pytest.raises(InventoryValidationError) as exc:
        devices.create_device(s, actor, name="c", device_type_id=dc["server"], role="server",
                              site_id=dc["site"], rack_id=rack2_id, position=2)
    assert exc.value.errors == {"position": ["U2 of rack R02 is reserved (colocation Dinkes)"]}
    with db.session() as s:
        done = release_expired(s, actor, datetime(2027, 1, 2, tzinfo=UTC))
        assert len(done.rack_reservations) == 1
    _device(db, actor, dc, "c", rack_id=rack2_id, position=2)


def test_interfaces_macs_lag_and_cables(db: Database, actor: Actor, dc: dict[str, int]) -> None:
    a, b = _device(db, actor, dc, "sw1"), _device(db, actor, dc, "sw2")
    with db.session() as s:
        lag = interfaces.create_interface(s, actor, device_id=a, name="bond0", type="lag")
        e1 = interfaces.create_interface(s, actor, device_id=a, name="eth1", lag_id=lag.id,
                                         mac_address="AA-BB-CC-00-11-22")
        e2 = interfaces.create_interface(s, actor, device_id=b, name="eth1")
        e3 = interfaces.create_interface(s, actor, device_id=b, name="eth2")
        assert e1.mac_address == "aa:bb:cc:00:11:22"
        ids = {"lag": lag.id, "e1": e1.id, "e2": e2.id, "e3": e3.id}
    with db.session() as s, pytest.raises(InventoryValidationError) as exc:
        interfaces.create_interface(s, actor, device_id=b, name="eth1",
                                    mac_address="aabb.cc00.1122", lag_id=ids["lag"])
    assert set(exc.value.errors) == {"name", "mac_address", "lag_id"}
    assert exc.value.errors["mac_address"] == [
        f"aa:bb:cc:00:11:22 is already on interface eth1 (id {ids['e1']})"]
    with db.session() as s:
        interfaces.create_cable(s, actor, a_interface_id=ids["e1"], b_interface_id=ids["e2"])
    with db.session() as s, pytest.raises(InventoryValidationError) as exc:
        interfaces.create_cable(s, actor, a_interface_id=ids["e3"], b_interface_id=ids["e1"])
    assert exc.value.errors == {"b_interface_id": ["eth1 already has a cable"]}
    with db.session() as s:
        assert interfaces.cable_peer(s, ids["e2"]).id == ids["e1"]
        devices.delete_device(s, actor, a)
    with db.session() as s:
        assert interfaces.cable_peer(s, ids["e2"]) is None
        assert s.scalar(select(func.count()).select_from(Interface)) == 2


def test_primary_ip_and_outlets(db: Database, actor: Actor, dc: dict[str, int]) -> None:
    dev = _device(db, actor, dc, "core1")
    with db.session() as s:
        prefixes.create_prefix(s, actor, prefix="192.0.2.0/24")
        eth = interfaces.create_interface(s, actor, device_id=dev, name="mgmt0")
        ip = addresses.create_ip_address(s, actor, address="192.0.2.10", interface_id=eth.id)
        other = addresses.create_ip_address(s, actor, address="192.0.2.11")
        ids = (ip.id, other.id, eth.id)
    with db.session() as s, pytest.raises(InventoryValidationError) as exc:
        devices.update_device(s, actor, dev, primary_ip4_id=ids[1])
    assert exc.value.errors == {"primary_ip4_id": [
        "192.0.2.11/24 is not assigned to an interface of this device"]}
    with db.session() as s:
        assert devices.update_device(s, actor, dev, primary_ip4_id=ids[0]).primary_ip4_id == ids[0]
        outlet = interfaces.create_wall_outlet(s, actor, site_id=dc["site"], label="WO-01")
        interfaces.create_wall_outlet(s, actor, site_id=dc["site"], label="WO-02")
        interfaces.update_wall_outlet(s, actor, outlet.id, interface_id=ids[2], status="used")
    with db.session() as s:
        free = interfaces.list_wall_outlets(s, site_id=dc["site"], status="free")
        assert [o.label for o in free] == ["WO-02"]
        assert len(list_entries(s, object_type="Device", action="device.update")) == 1
    with db.session() as s, pytest.raises(InUseError):
        sites.delete_site(s, actor, dc["site"])


def test_rack_cannot_shrink_below_devices(db: Database, actor: Actor, dc: dict[str, int]) -> None:
    _device(db, actor, dc, "top", rack_id=dc["rack"], position=9)
    with db.session() as s, pytest.raises(InventoryValidationError) as exc:
        racks.update_rack(s, actor, dc["rack"], u_height=8)
    assert exc.value.errors == {"u_height": ["a device occupies U10"]}
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(DeviceUnit)) == 4
