"""IPAM rules and allocation on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from inventory.errors import (
    InUseError,
    InventoryValidationError,
    NoPrefixSpaceError,
    PrefixFullError,
)
from inventory.expiry import release_expired
from inventory.ipam import addresses, allocation, prefixes, utilisation, vlans
from inventory.models import IpAddress, Prefix
from simpul.audit import Actor, list_entries
from simpul.db import Database


def _prefix(db: Database, actor: Actor, text: str, **kw: object) -> int:
    with db.session() as s:
        return prefixes.create_prefix(s, actor, prefix=text, **kw).id  # type: ignore[arg-type]


def test_hierarchy_rule(db: Database, actor: Actor) -> None:
    _prefix(db, actor, "10.0.0.0/16", status="container")
    _prefix(db, actor, "10.0.1.0/24")
    with db.session() as s, pytest.raises(InventoryValidationError) as dup:
        prefixes.create_prefix(s, actor, prefix="10.0.1.0/24")
    assert dup.value.errors == {"prefix": ["10.0.1.0/24 already exists in VRF global"]}
    with db.session() as s, pytest.raises(InventoryValidationError) as inner:
        prefixes.create_prefix(s, actor, prefix="10.0.1.128/25")
    assert inner.value.errors["prefix"] == [
        "lies inside 10.0.1.0/24 (active); only a container may hold other prefixes"]
    with db.session() as s, pytest.raises(InventoryValidationError) as outer:
        prefixes.create_prefix(s, actor, prefix="10.0.0.0/23")
    assert outer.value.errors["status"] == [
        "contains 10.0.1.0/24; a prefix holding other prefixes must be a container"]
    with db.session() as s, pytest.raises(InventoryValidationError) as bits:
        prefixes.create_prefix(s, actor, prefix="10.0.2.1/24")
    assert bits.value.errors["prefix"] == ["10.0.2.1/24 has host bits set; did you mean "
                                           "10.0.2.0/24?"]
    # another VRF is another table; a container may sit inside a container
    with db.session() as s:
        vrf = vlans.create_vrf(s, actor, name="opd-dinkes", rd="65000:10")
        prefixes.create_prefix(s, actor, prefix="10.0.1.0/24", vrf_id=vrf.id)
        prefixes.create_prefix(s, actor, prefix="10.0.8.0/21", status="container")
    with db.session() as s:
        assert [p.prefix for p in prefixes.list_prefixes(s, vrf_id=0)] == [
            "10.0.0.0/16", "10.0.1.0/24", "10.0.8.0/21"]
        assert s.scalar(select(func.count()).select_from(Prefix)) == 4


def test_container_cannot_become_active_while_holding_children(db: Database,
                                                                actor: Actor) -> None:
    pid = _prefix(db, actor, "192.0.2.0/24", status="container")
    _prefix(db, actor, "192.0.2.0/26")
    with db.session() as s, pytest.raises(InventoryValidationError) as exc:
        prefixes.update_prefix(s, actor, pid, status="active")
    assert list(exc.value.errors) == ["status"]
    with db.session() as s:
        assert s.get(Prefix, pid).status == "container"


def test_ip_rules(db: Database, actor: Actor) -> None:
    _prefix(db, actor, "198.51.100.0/24")
    with db.session() as s:
        ip = addresses.create_ip_address(s, actor, address="198.51.100.10", dns_name="a.test")
        assert ip.address == "198.51.100.10/24"
    cases = {
        "203.0.113.5/24": "203.0.113.5 is not inside any prefix of VRF global",
        "198.51.100.10/24": "198.51.100.10 already exists in VRF global",
        "198.51.100.0": "198.51.100.0 is the network address of 198.51.100.0/24",
        "198.51.100.255": "198.51.100.255 is the broadcast address of 198.51.100.0/24",
    }
    for text, message in cases.items():
        with db.session() as s, pytest.raises(InventoryValidationError) as exc:
            addresses.create_ip_address(s, actor, address=text)
        assert exc.value.errors == {"address": [message]}
    # a VRF without enforce_unique accepts duplicates; the global table never does
    with db.session() as s:
        vrf = vlans.create_vrf(s, actor, name="lab", enforce_unique=False)
        prefixes.create_prefix(s, actor, prefix="198.51.100.0/24", vrf_id=vrf.id)
        addresses.create_ip_address(s, actor, address="198.51.100.10", vrf_id=vrf.id)
        addresses.create_ip_address(s, actor, address="198.51.100.10", vrf_id=vrf.id)
        vrf_id = vrf.id
    with db.session() as s, pytest.raises(InventoryValidationError) as exc:
        vlans.update_vrf(s, actor, vrf_id, enforce_unique=True)
    assert "duplicate addresses" in exc.value.errors["enforce_unique"][0]
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(IpAddress)) == 3


def test_unique_constraint_backstops_duplicate_addresses(db: Database, actor: Actor) -> None:
    from simpul.errors import ConflictError

    _prefix(db, actor, "192.0.2.0/24")
    with pytest.raises(ConflictError), db.session() as s:
        for _ in range(2):  # bypass the service check, as two racing transactions would
            s.add(IpAddress(address="192.0.2.7/24", family=4, ip_hex=f"{0xC0000207:032x}",
                            vrf_key=0, unique_key=0))
            s.flush()


def test_next_ip_ipv4_and_full_prefix(db: Database, actor: Actor) -> None:
    pid = _prefix(db, actor, "198.51.100.0/30")
    with db.session() as s:
        got = allocation.allocate_next_ip(s, actor, pid, count=2, dns_name="x.test")
        assert [ip.address for ip in got] == ["198.51.100.1/30", "198.51.100.2/30"]
    with db.session() as s, pytest.raises(PrefixFullError) as exc:
        allocation.allocate_next_ip(s, actor, pid)
    assert str(exc.value) == "198.51.100.0/30 has no free address"
    assert exc.value.http_status == 409
    with db.session() as s:
        assert len(list_entries(s, action="ipaddress.allocate")) == 2


def test_next_ip_skips_used_and_ranges_and_pool_rules(db: Database, actor: Actor) -> None:
    pid = _prefix(db, actor, "192.0.2.0/28")
    with db.session() as s:
        addresses.create_ip_address(s, actor, address="192.0.2.1")
        addresses.create_ip_range(s, actor, start_address="192.0.2.2",
                                  end_address="192.0.2.5")
        addresses.create_ip_address(s, actor, address="192.0.2.7")
    with db.session() as s:
        got = allocation.allocate_next_ip(s, actor, pid, count=3)
        assert [ip.address for ip in got] == ["192.0.2.6/28", "192.0.2.8/28", "192.0.2.9/28"]
        u = utilisation.prefix_utilisation(s, s.get(Prefix, pid))
        assert (u.used, u.total, u.percent) == (9, 14, 64.3)
    pool = _prefix(db, actor, "203.0.113.0/31")
    p31 = _prefix(db, actor, "203.0.113.8/29", is_pool=True)
    with db.session() as s:
        assert [ip.address for ip in allocation.allocate_next_ip(s, actor, pool, count=2)] == [
            "203.0.113.0/31", "203.0.113.1/31"]
        assert allocation.allocate_next_ip(s, actor, p31)[0].address == "203.0.113.8/29"


def test_next_ip_ipv6_and_huge_prefixes_answer_at_once(db: Database, actor: Actor) -> None:
    v6 = _prefix(db, actor, "2001:db8::/32")
    big = _prefix(db, actor, "10.0.0.0/8")
    started = time.perf_counter()
    with db.session() as s:
        assert allocation.allocate_next_ip(s, actor, v6)[0].address == "2001:db8::1/32"
        assert allocation.allocate_next_ip(s, actor, big)[0].address == "10.0.0.1/8"
        free = allocation.get_available_ips(s, s.get(Prefix, big))
        assert free.size == 2**24 - 3
    assert time.perf_counter() - started < 2.0
    with db.session() as s:
        vrf_id = vlans.create_vrf(s, actor, name="p2p").id
    p127 = _prefix(db, actor, "2001:db8:1::/127", vrf_id=vrf_id)
    with db.session() as s:
        assert allocation.allocate_next_ip(s, actor, p127)[0].address == "2001:db8:1::/127"


def test_container_is_not_an_allocation_target(db: Database, actor: Actor) -> None:
    pid = _prefix(db, actor, "10.9.0.0/16", status="container")
    with db.session() as s, pytest.raises(InventoryValidationError) as exc:
        allocation.allocate_next_ip(s, actor, pid)
    assert list(exc.value.errors) == ["prefix_id"]


def test_next_prefix_v4_v6_and_full(db: Database, actor: Actor) -> None:
    parent = _prefix(db, actor, "10.20.0.0/22", status="container")
    _prefix(db, actor, "10.20.0.0/24")
    _prefix(db, actor, "10.20.2.0/25")
    with db.session() as s:
        assert allocation.allocate_next_prefix(s, actor, parent, 24).prefix == "10.20.1.0/24"
        assert allocation.allocate_next_prefix(s, actor, parent, 25).prefix == "10.20.2.128/25"
        assert allocation.allocate_next_prefix(s, actor, parent, 24).prefix == "10.20.3.0/24"
    with db.session() as s, pytest.raises(NoPrefixSpaceError) as exc:
        allocation.allocate_next_prefix(s, actor, parent, 26)
    assert str(exc.value) == "10.20.0.0/22 has no free /26"
    v6 = _prefix(db, actor, "2001:db8::/32", status="container")
    with db.session() as s:
        assert allocation.allocate_next_prefix(s, actor, v6, 48).prefix == "2001:db8::/48"
        assert allocation.allocate_next_prefix(s, actor, v6, 64).prefix == "2001:db8:1::/64"
        u = utilisation.prefix_utilisation(s, s.get(Prefix, parent))
        assert (u.used, u.total) == (1024, 1024)
    with db.session() as s, pytest.raises(InventoryValidationError) as bad:
        allocation.allocate_next_prefix(s, actor, parent, 20)
    assert bad.value.errors == {"prefix_length": ["must be between 23 and 32"]}


def test_reservations_expire(db: Database, actor: Actor, opd_ids: dict[str, int]) -> None:
    parent = _prefix(db, actor, "10.30.0.0/16", status="container")
    now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    with db.session() as s:
        event = allocation.reserve_prefix(s, actor, parent, 24, opd_id=opd_ids["DINKES"],
                                          description="HUT RI", expires_at=now)
        ips = allocation.allocate_next_ip(s, actor, event.id, count=2, status="reserved",
                                          expires_at=now)
        kept = allocation.reserve_ip(s, actor, "10.30.0.50", expires_at=now + timedelta(days=1))
        assert [ip.address for ip in ips] == ["10.30.0.1/24", "10.30.0.2/24"]
        assert kept.status == "reserved"
    with db.session() as s:
        done = release_expired(s, actor, now)
        assert done.addresses == ["10.30.0.1/24", "10.30.0.2/24"]
        assert done.prefixes == [] and done.kept == ["10.30.0.0/24"]
    with db.session() as s:
        done = release_expired(s, actor, now + timedelta(days=2))
        assert done.addresses == ["10.30.0.50/24"] and done.prefixes == ["10.30.0.0/24"]
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Prefix)) == 1
        assert s.scalar(select(func.count()).select_from(IpAddress)) == 0


def test_delete_and_release_refuse_in_use(db: Database, actor: Actor) -> None:
    pid = _prefix(db, actor, "192.0.2.0/24")
    with db.session() as s:
        ip = addresses.create_ip_address(s, actor, address="192.0.2.9")
        ip_id = ip.id
    with db.session() as s, pytest.raises(InUseError):
        prefixes.delete_prefix(s, actor, pid)
    with db.session() as s, pytest.raises(InUseError):
        allocation.release_prefix(s, actor, pid)
    with db.session() as s:
        allocation.release_ip(s, actor, ip_id)
        prefixes.delete_prefix(s, actor, pid)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Prefix)) == 0


def test_vlans(db: Database, actor: Actor) -> None:
    with db.session() as s:
        group = vlans.create_vlan_group(s, actor, name="DC", slug="dc", min_vid=100,
                                        max_vid=199)
        vlans.create_vlan(s, actor, vid=100, name="mgmt", group_id=group.id)
        vlans.create_vlan(s, actor, vid=100, name="other-table")  # no group: own space
        gid = group.id
    for vid, message in ((100, "VLAN 100 already exists in this group"),
                         (200, "must be between 100 and 199")):
        with db.session() as s, pytest.raises(InventoryValidationError) as exc:
            vlans.create_vlan(s, actor, vid=vid, name="x", group_id=gid)
        assert exc.value.errors == {"vid": [message]}
    with db.session() as s, pytest.raises(InventoryValidationError) as exc:
        vlans.create_vlan(s, actor, vid=4095, name="x")
    assert exc.value.errors == {"vid": ["must be between 1 and 4094"]}
    with db.session() as s:
        u = utilisation.vlan_group_utilisation(s, s.get(vlans.VlanGroup, gid))
        assert (u.used, u.total, u.percent) == (1, 100, 1.0)


def test_bandwidth_plan(db: Database, actor: Actor, opd_ids: dict[str, int]) -> None:
    with db.session() as s:
        alloc = utilisation.create_bandwidth_allocation(s, actor, opd_id=opd_ids["DINKES"],
                                                        users=30)
        assert alloc.committed_mbps == 150
        utilisation.create_bandwidth_allocation(s, actor, opd_id=opd_ids["DISKOMINFO"],
                                                users=20, committed_mbps=60)
        summary = utilisation.bandwidth_summary(s)
        assert summary == utilisation.BandwidthSummary(50, 250, 210, 300)
    assert utilisation.capacity_step(200) == 200
    assert utilisation.capacity_step(1001) is None
