"""The trap receiver against real net-snmp ``snmptrap`` (v2c and v3 authPriv) on loopback."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from collectors.flows.models import TrapEvent
from collectors.flows.settings import load_trap_settings
from collectors.flows.traps import TrapReceiver
from siem.models import SiemEvent
from simpul.context import AppContext
from simpul.db import Database
from tests.integration.collectors.flows_fixtures import *  # noqa: F403 (fixtures)
from tests.integration.collectors.flows_fixtures import (
    COMMUNITY,
    TRAP_DEVICE_ADDRESS,
    V3,
    send_trap,
    wait_for,
)

LINK_DOWN = ["1.3.6.1.6.3.1.1.5.3", "1.3.6.1.2.1.2.2.1.1.3", "i", "3",
             "1.3.6.1.2.1.2.2.1.7.3", "i", "1", "1.3.6.1.2.1.2.2.1.8.3", "i", "2",
             "1.3.6.1.2.1.31.1.1.1.1.3", "s", "eth2"]
LINK_UP = ["1.3.6.1.6.3.1.1.5.4", "1.3.6.1.2.1.2.2.1.1.3", "i", "3",
           "1.3.6.1.2.1.2.2.1.8.3", "i", "1"]


@pytest.fixture
def receiver(flows_inventory: Database) -> Iterator[TrapReceiver]:
    settings = load_trap_settings({
        "SIMPUL_TRAP_PORT": "0", "SIMPUL_TRAP_COMMUNITIES": COMMUNITY,
        "SIMPUL_TRAP_V3_USER": V3[0], "SIMPUL_TRAP_V3_AUTH_KEY": V3[1],
        "SIMPUL_TRAP_V3_PRIV_KEY": V3[2]})
    rec = TrapReceiver(flows_inventory, settings)
    rec.start()
    yield rec
    rec.stop()


def _events(db: Database) -> list[TrapEvent]:
    with db.session(write=False) as s:
        return list(s.scalars(select(TrapEvent).order_by(TrapEvent.id)))


def test_v2c_and_v3_traps_become_events_with_device_and_siem_copy(
        receiver: TrapReceiver, flows_inventory: Database) -> None:
    port = receiver.addresses[0][1]
    send_trap(port, LINK_DOWN)
    send_trap(port, LINK_UP, version="3")
    for oid in ("1.3.6.1.6.3.1.1.5.1", "1.3.6.1.6.3.1.1.5.2", "1.3.6.1.6.3.1.1.5.5"):
        send_trap(port, [oid])
    # Refused: a wrong community, and a v3 trap whose authentication key is wrong.
    subprocess.run(["snmptrap", "-v", "2c", "-c", "not-the-community", f"127.0.0.1:{port}",
                    "", "1.3.6.1.6.3.1.1.5.3"], check=True, capture_output=True)
    send_trap(port, LINK_DOWN, version="3", auth="wrong-auth-key")
    assert wait_for(lambda: len(_events(flows_inventory)) >= 5)
    assert wait_for(lambda: receiver.received >= 7)
    events = _events(flows_inventory)
    assert [e.trap for e in events] == ["linkDown", "linkUp", "coldStart", "warmStart",
                                        "authenticationFailure"]
    down, up = events[0], events[1]
    assert (down.version, down.source_addr, down.device_name, down.if_index, down.if_name,
            down.severity) == ("v2c", TRAP_DEVICE_ADDRESS, "acc-x", 3, "eth2", "error")
    assert down.message == "linkDown on acc-x ifIndex 3 (eth2)"
    assert down.device_id is not None and down.opd_id is not None
    assert (up.version, up.security_name, up.if_index) == ("v3", "simpul", 3)
    with flows_inventory.session(write=False) as s:
        siem = {e.action: e for e in s.scalars(
            select(SiemEvent).where(SiemEvent.dataset == "snmp.trap"))}
    assert set(siem) == {"interface_down", "interface_up", "device_cold_start",
                         "device_warm_start", "snmp_authentication_failure"}
    doc = siem["interface_down"].doc
    assert doc["event.category"] == ["network"]
    assert doc["observer.name"] == "acc-x"
    assert doc["observer.asset.opd"] == "DISDIK"
    assert doc["observer.ingress.interface.name"] == "eth2"
    assert siem["interface_down"].host_ip == TRAP_DEVICE_ADDRESS
    assert siem["snmp_authentication_failure"].outcome == "failure"


def test_unknown_sender_is_stored_without_device(receiver: TrapReceiver,
                                                 flows_inventory: Database) -> None:
    send_trap(receiver.addresses[0][1], ["1.3.6.1.4.1.8072.4.0.3"], clientaddr="127.0.0.72")
    assert wait_for(lambda: len(_events(flows_inventory)) == 1)
    (event,) = _events(flows_inventory)
    assert (event.trap, event.device_id, event.device_name) == (
        "1.3.6.1.4.1.8072.4.0.3", None, "")
    assert event.message == "1.3.6.1.4.1.8072.4.0.3 from 127.0.0.72"


def test_traps_api_respects_opd_tenancy(receiver: TrapReceiver, app_context: AppContext,
                                        flows_client: FlaskClient,
                                        token_headers: Callable[[str], dict[str, str]]) -> None:
    send_trap(receiver.addresses[0][1], LINK_DOWN)
    assert wait_for(lambda: len(_events(app_context.db)) == 1)
    assert flows_client.get("/api/traps/").status_code in (302, 401)
    noc = flows_client.get("/api/traps/", headers=token_headers("noc1")).get_json()
    assert [(r["trap"], r["device"], r["if_index"]) for r in noc["results"]] == [
        ("linkDown", "acc-x", 3)]
    only_down = flows_client.get("/api/traps/?trap=linkUp", headers=token_headers("noc1"))
    assert only_down.get_json()["results"] == []
    opd_user = token_headers("dinkes1")
    assert flows_client.get("/api/traps/", headers=opd_user).get_json()["results"] == []
    assert flows_client.get("/api/traps/?opd=DISDIK", headers=opd_user).status_code == 404
    bad = flows_client.get("/api/traps/?since=yesterday", headers=opd_user)
    assert bad.status_code == 400 and "since" in bad.get_json()["detail"]


def test_link_traps_update_the_polled_interface_before_the_next_poll(
        receiver: TrapReceiver, flows_inventory: Database) -> None:
    """A linkDown sets the polled interface down at once: the interface-down alert fires
    without waiting a poll cycle; the linkUp brings it back. Both are status changes."""
    from collectors.alerts.adapters import CollectorSource
    from collectors.alerts.engine import AlertEngine
    from collectors.alerts.rules import parse_rules
    from collectors.alerts.service import list_alerts
    from collectors.alerts.settings import AlertSettings
    from collectors.snmp.models import SnmpInterface, SnmpStatusChange
    from inventory.models import Device

    with flows_inventory.session() as s:
        device_id = s.scalar(select(Device.id).where(Device.name == "acc-x"))
        s.add(SnmpInterface(device_id=device_id, if_index=3, name="eth2",
                            admin_status="up", oper_status="up"))

    def oper() -> str:
        with flows_inventory.session(write=False) as s:
            return s.scalar(select(SnmpInterface.oper_status).where(
                SnmpInterface.device_id == device_id, SnmpInterface.if_index == 3))

    port = receiver.addresses[0][1]
    send_trap(port, LINK_DOWN)
    assert wait_for(lambda: oper() == "down")
    rules = parse_rules({"rules": [{"name": "ifdown", "kind": "interface_down",
                                    "severity": "high"}]})
    engine = AlertEngine(flows_inventory, rules, CollectorSource(), AlertSettings(siem=False))
    assert engine.evaluate().errors == {}
    with flows_inventory.session(write=False) as s:
        assert [(a.entity, a.state, a.title) for a in list_alerts(s)] == [
            ("acc-x:eth2", "firing", "acc-x eth2 is down")]
    send_trap(port, LINK_UP)
    assert wait_for(lambda: oper() == "up")
    with flows_inventory.session(write=False) as s:
        changes = s.execute(select(SnmpStatusChange.old_status, SnmpStatusChange.new_status)
                            .order_by(SnmpStatusChange.id)).all()
    assert [tuple(c) for c in changes] == [("up", "down"), ("down", "up")]
