"""Reserved watts are real: reservations hold power, devices in them draw it down (both DBs)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from inventory.dcim import devices, racks, sites
from inventory.errors import InventoryValidationError, PowerBudgetError
from inventory.models import RackReservation
from inventory.reports import rack_rows, rack_view
from simpul.audit import Actor
from simpul.db import Database


@pytest.fixture
def dc(db: Database, actor: Actor) -> dict[str, int]:
    """A 10U rack limited to 1840 W by its feeds (budget 2000 W), a 2U 500 W server type."""
    with db.session() as s:
        site = sites.create_site(s, actor, name="DC Kominfo", slug="dc-kominfo")
        rack = racks.create_rack(s, actor, site_id=site.id, name="R01", u_height=10,
                                 power_budget_w=2000)
        for feed in "AB":
            racks.create_power_feed(s, actor, rack_id=rack.id, name=feed, amperage=10)
        maker = sites.create_manufacturer(s, actor, name="Generic", slug="generic")
        server = sites.create_device_type(s, actor, manufacturer_id=maker.id, model="2U server",
                                          slug="server-2u", u_height=2, power_draw_w=500)
        s.flush()
        return {"site": site.id, "rack": rack.id, "server": server.id}


def _place(db: Database, actor: Actor, dc: dict[str, int], name: str, position: int,
           opd_id: int | None = None) -> int:
    with db.session() as s:
        return devices.create_device(s, actor, name=name, device_type_id=dc["server"],
                                     role="server", site_id=dc["site"], rack_id=dc["rack"],
                                     position=position, opd_id=opd_id).id


def _account(db: Database, rack_id: int) -> tuple[int, int, int | None]:
    with db.session(write=False) as s:
        acct = racks.rack_power(s, racks.get_rack(s, rack_id))
        return acct.draw_w, acct.reserved_w, acct.headroom_w


def test_reserved_watts_are_spoken_for(db: Database, actor: Actor, dc: dict[str, int],
                                       opd_ids: dict[str, int]) -> None:
    dinkes = opd_ids["DINKES"]
    _place(db, actor, dc, "srv0", 1)
    with db.session() as s:
        res = racks.reserve_rack_units(s, actor, rack_id=dc["rack"], units=[3, 4],
                                       opd_id=dinkes, description="colocation Dinkes",
                                       power_w=800)
        s.flush()
        res_id = res.id
    assert _account(db, dc["rack"]) == (500, 800, 540)
    with db.session(write=False) as s:
        rack = racks.get_rack(s, dc["rack"])
        assert {k: (u.used, u.total) for k, u in racks.power_utilisation(s, rack).items()} == {
            "budget": (1300, 2000), "A": (1300, 1840), "B": (1300, 1840)}
        assert racks.find_rack_space(s, u_height=2, power_w=600) == []
        assert [r.power_headroom_w for r in racks.find_rack_space(s, u_height=2,
                                                                   power_w=500)] == [540]
        row = rack_rows(s, [rack])[0]
        assert (row.power_draw_w, row.power_reserved_w, row.power.used) == (500, 800, 1300)
        view = rack_view(s, rack)
        assert (view.power_draw_w, view.power_reserved_w) == (500, 800)
        assert [h.power_w for h in view.reservations] == [800]
    # a second reservation wanting more than is left is refused, and nothing is written
    with db.session() as s, pytest.raises(PowerBudgetError) as exc:
        racks.reserve_rack_units(s, actor, rack_id=dc["rack"], units=[5, 6], power_w=600)
    assert str(exc.value) == ("rack R01 has 540 W left (limit 1840 W, draw 500 W, "
                              "reserved 800 W); 600 W cannot be reserved")
    assert exc.value.http_status == 409
    assert exc.value.errors == {"power_w": ["only 540 W left in rack R01"]}
    for bad in (-1, True, "100"):
        with db.session() as s, pytest.raises(InventoryValidationError) as vexc:
            racks.reserve_rack_units(s, actor, rack_id=dc["rack"], units=[5], power_w=bad)
        assert vexc.value.errors == {"power_w": ["must be a whole number of watts, 0 or more"]}
    with db.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(RackReservation)) == 1
    # the budget and the feeds may not drop below draw + reserved
    with db.session() as s, pytest.raises(InventoryValidationError) as vexc:
        racks.update_rack(s, actor, dc["rack"], power_budget_w=1200)
    assert vexc.value.errors == {
        "power_budget_w": ["below the rack's current draw plus reserved power"]}
    # an unrelated device fits in what is left; the next one would eat reserved watts
    _place(db, actor, dc, "srv7", 7)
    with db.session() as s, pytest.raises(PowerBudgetError) as exc:
        devices.create_device(s, actor, name="srv9", device_type_id=dc["server"],
                              role="server", site_id=dc["site"], rack_id=dc["rack"],
                              position=9)
    assert str(exc.value) == ("rack R01 would draw 1500 W plus 800 W reserved, "
                              "above its 1840 W limit")
    # growing the reservation is checked too; shrinking always works
    with db.session() as s, pytest.raises(PowerBudgetError):
        racks.update_rack_reservation(s, actor, res_id, power_w=900)
    with db.session() as s:
        racks.update_rack_reservation(s, actor, res_id, power_w=700)
    assert _account(db, dc["rack"]) == (1000, 700, 140)
    with db.session() as s:
        racks.update_rack_reservation(s, actor, res_id, power_w=800)
    assert _account(db, dc["rack"]) == (1000, 800, 40)


def test_installed_server_draws_from_its_reservation(db: Database, actor: Actor,
                                                     dc: dict[str, int],
                                                     opd_ids: dict[str, int]) -> None:
    """The rule: a reservation counts max(its watts, what its devices draw), not both."""
    dinkes = opd_ids["DINKES"]
    _place(db, actor, dc, "srv0", 1)
    _place(db, actor, dc, "srv7", 7)
    with db.session() as s:
        racks.reserve_rack_units(s, actor, rack_id=dc["rack"], units=[3, 4, 5, 6],
                                 opd_id=dinkes, power_w=800,
                                 expires_at=datetime(2027, 1, 1, tzinfo=UTC))
    assert _account(db, dc["rack"]) == (1000, 800, 40)
    # counted twice (1500 W + 800 W) this server would not fit; it draws from its 800 W
    colo = _place(db, actor, dc, "simpus", 3, opd_id=dinkes)
    assert _account(db, dc["rack"]) == (1500, 300, 40)
    # a second server in the same reservation: 1000 W drawn from 800 W reserved, over
    with db.session() as s, pytest.raises(PowerBudgetError) as exc:
        devices.create_device(s, actor, name="simpeg", device_type_id=dc["server"],
                              role="server", site_id=dc["site"], rack_id=dc["rack"],
                              position=5, opd_id=dinkes)
    assert str(exc.value) == "rack R01 would draw 2000 W, above its 1840 W limit"
    # moving the server out gives its watts back to the reservation
    with db.session() as s:
        devices.update_device(s, actor, colo, rack_id=None, position=None, face=None)
    with db.session(write=False) as s:
        rack = racks.get_rack(s, dc["rack"])
        now = racks.rack_power(s, rack)
        assert (now.draw_w, now.reserved_w) == (1000, 800)
        # an expired reservation promises nothing
        late = racks.rack_power(s, rack, now=datetime(2027, 1, 2, tzinfo=UTC))
        assert (late.draw_w, late.reserved_w, late.headroom_w) == (1000, 0, 840)
