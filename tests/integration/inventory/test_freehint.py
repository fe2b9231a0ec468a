"""Next free IP walks from a low-water mark; whatever frees space must lower the mark.

Each test compares the walk with the set-based reference (prefix minus every used
address and range, as NetBox computes it), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
from datetime import timedelta

import netaddr
from sqlalchemy import select

from inventory.expiry import release_expired
from inventory.ipam import addresses, allocation, prefixes
from inventory.models import IpAddress, Prefix
from simpul.audit import Actor
from simpul.db import Database
from simpul.models.base import utcnow


def _reference(s: object, prefix: Prefix) -> list[str]:
    free = allocation.get_available_ips(s, prefix)  # type: ignore[arg-type]
    return [str(a) for a in list(allocation.iter_free(free))[:3]]


def _walk(s: object, prefix: Prefix) -> list[str]:
    return [str(a) for a in allocation.first_available_ips(s, prefix, 3)]  # type: ignore[arg-type]


def _next(db: Database, actor: Actor, pid: int) -> str:
    with db.session() as s:
        return allocation.allocate_next_ip(s, actor, pid)[0].address.split("/")[0]


def _hint(db: Database, pid: int) -> str | None:
    with db.session() as s:
        hint = s.scalar(select(Prefix.free_hint_hex).where(Prefix.id == pid))
    return None if hint is None else str(netaddr.IPAddress(int(hint, 16), 4))


def test_mark_moves_with_allocations_and_drops_on_release(db: Database, actor: Actor) -> None:
    with db.session() as s:
        pid = prefixes.create_prefix(s, actor, prefix="10.9.0.0/24").id
    assert _hint(db, pid) is None
    assert [_next(db, actor, pid) for _ in range(5)] == [f"10.9.0.{i}" for i in range(1, 6)]
    assert _hint(db, pid) == "10.9.0.6"
    with db.session() as s:  # release .2: the mark drops to it, .2 is handed out again
        ip = s.scalar(select(IpAddress).where(IpAddress.address == "10.9.0.2/24"))
        addresses.delete_ip_address(s, actor, ip.id)
    assert _hint(db, pid) == "10.9.0.2"
    assert _next(db, actor, pid) == "10.9.0.2"
    assert _next(db, actor, pid) == "10.9.0.6"
    with db.session() as s:  # move .4 away: .4 becomes free
        ip = s.scalar(select(IpAddress).where(IpAddress.address == "10.9.0.4/24"))
        addresses.update_ip_address(s, actor, ip.id, address="10.9.0.200/24")
    assert _next(db, actor, pid) == "10.9.0.4"
    with db.session() as s:  # an expiring reservation released by the expiry job
        ip = s.scalar(select(IpAddress).where(IpAddress.address == "10.9.0.3/24"))
        addresses.update_ip_address(s, actor, ip.id, expires_at=utcnow() + timedelta(hours=1))
    with db.session() as s:
        release_expired(s, actor, utcnow() + timedelta(hours=2))
    assert _next(db, actor, pid) == "10.9.0.3"


def test_ranges_and_pool_flag(db: Database, actor: Actor) -> None:
    with db.session() as s:
        pid = prefixes.create_prefix(s, actor, prefix="10.8.0.0/28").id
        rid = addresses.create_ip_range(s, actor, start_address="10.8.0.1",
                                        end_address="10.8.0.4").id
    assert _next(db, actor, pid) == "10.8.0.5"
    with db.session() as s:
        addresses.update_ip_range(s, actor, rid, start_address="10.8.0.3")
    assert _next(db, actor, pid) == "10.8.0.1"
    with db.session() as s:
        addresses.delete_ip_range(s, actor, rid)
    assert _next(db, actor, pid) == "10.8.0.2"
    with db.session() as s:  # a pool hands out its network address too
        prefixes.update_prefix(s, actor, pid, is_pool=True)
        assert s.get(Prefix, pid).free_hint_hex is None
    assert _next(db, actor, pid) == "10.8.0.0"


def test_walk_matches_the_set_reference_under_random_changes(db: Database,
                                                             actor: Actor) -> None:
    rng = random.Random(4)
    with db.session() as s:
        pid = prefixes.create_prefix(s, actor, prefix="10.7.0.0/26").id
    for step in range(60):
        with db.session() as s:
            prefix = s.get(Prefix, pid)
            action = rng.random()
            used = s.scalars(select(IpAddress).where(IpAddress.vrf_key == 0,
                                                     IpAddress.address.like("10.7.0.%")
                                                     )).all()
            if action < 0.5 and len(used) < 50:
                allocation.allocate_next_ip(s, actor, pid, count=rng.randint(1, 3))
            elif action < 0.7:
                free = [f"10.7.0.{i}" for i in range(1, 63)
                        if f"10.7.0.{i}/26" not in {ip.address for ip in used}]
                if free:
                    addresses.create_ip_address(s, actor, address=rng.choice(free) + "/26")
            elif used:
                addresses.delete_ip_address(s, actor, rng.choice(used).id)
        with db.session() as s:
            prefix = s.get(Prefix, pid)
            assert _walk(s, prefix) == _reference(s, prefix), f"step {step}"


def test_a_packed_prefix_is_walked_once_then_answered_from_the_mark(db: Database,
                                                                    actor: Actor) -> None:
    with db.session() as s:
        pid = prefixes.create_prefix(s, actor, prefix="10.6.0.0/20").id
        for i in range(1, 1500):  # bulk-loaded addresses: no mark yet
            s.add(IpAddress(address=f"{netaddr.IPAddress(0x0A060000 + i)}/20", family=4,
                            ip_hex=f"{0x0A060000 + i:032x}", vrf_key=0, unique_key=0))
    assert _next(db, actor, pid) == "10.6.5.220"  # 1500th address
    assert _hint(db, pid) == "10.6.5.221"
    with db.session() as s:
        assert _walk(s, s.get(Prefix, pid))[0] == "10.6.5.221"
