"""Racing allocations never hand out the same address, prefix or rack units (both DBs)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from inventory.dcim import devices, racks, sites
from inventory.ipam import allocation, prefixes
from inventory.models import Device, DeviceUnit, IpAddress, Prefix, RackReservation
from simpul.audit import Actor
from simpul.db import Database
from simpul.errors import SimpulError

WORKERS = 20


def race(db: Database, work: Callable[[Any, int], Any]) -> tuple[list[Any], list[Exception]]:
    """Run *work(session, i)* in WORKERS threads released together; each has its own session."""
    barrier = threading.Barrier(WORKERS)
    results: list[Any] = []
    errors: list[Exception] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        try:
            with db.session() as s:
                value = work(s, i)
            with lock:
                results.append(value)
        except SimpulError as exc:
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results, errors


def test_next_ip_race(db: Database, actor: Actor) -> None:
    with db.session() as s:
        pid = prefixes.create_prefix(s, actor, prefix="10.50.0.0/24").id
    got, errors = race(db, lambda s, i: allocation.allocate_next_ip(
        s, actor, pid, dns_name=f"w{i}.test")[0].address)
    assert errors == []
    assert sorted(got, key=lambda a: int(a.split(".")[3].split("/")[0])) == [
        f"10.50.0.{n}/24" for n in range(1, 21)]
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(IpAddress)) == 20


def test_next_prefix_race(db: Database, actor: Actor) -> None:
    with db.session() as s:
        pid = prefixes.create_prefix(s, actor, prefix="10.60.0.0/16", status="container").id
    got, errors = race(db, lambda s, i: allocation.allocate_next_prefix(s, actor, pid, 24).prefix)
    assert errors == []
    assert sorted(got, key=lambda p: int(p.split(".")[2])) == [
        f"10.60.{n}.0/24" for n in range(20)]
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Prefix)) == 21


def test_rack_claim_race(db: Database, actor: Actor) -> None:
    with db.session() as s:
        site = sites.create_site(s, actor, name="DC", slug="dc")
        rack = racks.create_rack(s, actor, site_id=site.id, name="R01")
        maker = sites.create_manufacturer(s, actor, name="Generic", slug="generic")
        dtype = sites.create_device_type(s, actor, manufacturer_id=maker.id, model="2U",
                                         slug="2u", u_height=2)
        ids = [devices.create_device(s, actor, name=f"srv{i:02}", device_type_id=dtype.id,
                                     role="server", site_id=site.id).id
               for i in range(WORKERS)]
        rack_id = rack.id
    # workers 2k and 2k+1 both claim U(2k+1)-U(2k+2): exactly one of each pair can win
    got, errors = race(db, lambda s, i: devices.place_device(
        s, actor, ids[i], rack_id=rack_id, position=1 + 2 * (i // 2)).position)
    assert sorted(got) == [1, 3, 5, 7, 9, 11, 13, 15, 17, 19]
    assert len(errors) == 10
    with db.session() as s:
        placed = s.scalars(select(Device.position).where(Device.rack_id == rack_id)).all()
        assert sorted(placed) == [1, 3, 5, 7, 9, 11, 13, 15, 17, 19]
        assert s.scalar(select(func.count()).select_from(DeviceUnit)) == 40


def test_rack_power_reservation_race(db: Database, actor: Actor) -> None:
    """20 reservations of 100 W race for a 1000 W rack: exactly ten get their watts."""
    with db.session() as s:
        site = sites.create_site(s, actor, name="DC", slug="dc")
        rack = racks.create_rack(s, actor, site_id=site.id, name="R01", u_height=WORKERS,
                                 power_budget_w=1000)
        rack_id = rack.id
    # distinct units, so only the watts are contended
    got, errors = race(db, lambda s, i: racks.reserve_rack_units(
        s, actor, rack_id=rack_id, units=[i + 1], power_w=100).units[0])
    assert len(got) == 10 and len(errors) == 10
    assert all("cannot be reserved" in str(e) for e in errors)
    with db.session() as s:
        assert s.scalar(select(func.sum(RackReservation.power_w))) == 1000
        assert racks.rack_power(s, racks.get_rack(s, rack_id)).headroom_w == 0
