"""Next free address and next free child prefix, reservations and releases.

Next free address of a prefix: a walk up the ``(vrf_key, family, ip_hex)`` index from
the prefix's low-water mark ``free_hint_hex`` (every address below it is taken; kept a
true lower bound by ``inventory.models.freehint``), reading used addresses in small
keyset chunks and stepping over ranges and the network/broadcast addresses. Allocation
moves the mark past what it handed out, so in a /16 with 60,000 used addresses the next
one is found with one short indexed read instead of loading all 60,000 (NetBox's set
arithmetic, and ours before, cost O(used)). A mark that is unknown or was lowered by a
release only makes the walk longer, never wrong. Containers (whose free space also
excludes child prefixes) and the free CIDRs for child prefixes stay set-based: only
used space is loaded, so an empty /8 or IPv6 /32 answers at once.

Allocation is one transaction under a lock (see ``inventory.service.lock``): lock the
VRF's address (or prefix) space, recompute, insert. A full prefix raises a 409. Next
free IP does it in few statements, since on PostgreSQL each is a round trip: the prefix
is loaded with the lock taken in the same SELECT, the mark, ranges and first used
addresses come in one read, and what ``validate_ip`` would query for (inside a prefix,
not a network/broadcast address, no duplicate) already holds by construction.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import datetime
from itertools import islice
from typing import Any, NamedTuple

import netaddr
from sqlalchemy import (
    Integer,
    String,
    bindparam,
    case,
    func,
    literal,
    literal_column,
    null,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from inventory.addressing import excluded_addresses, from_hex, to_hex
from inventory.errors import (
    InUseError,
    InventoryNotFoundError,
    NoPrefixSpaceError,
    PrefixFullError,
)
from inventory.ipam.addresses import check_ip_fields, create_ip_address, delete_ip_address
from inventory.ipam.prefixes import child_prefixes_query, delete_prefix, insert_prefix
from inventory.models import IpAddress, IpRange, Prefix, Vrf
from inventory.service import (
    LOCK_ADDRESSES,
    LOCK_PREFIXES,
    FieldErrors,
    audit,
    invalid,
    lock,
    require,
)
from simpul.audit import Actor


def used_space(session: Session, prefix: Prefix) -> netaddr.IPSet:
    hexes = session.scalars(select(IpAddress.ip_hex).where(
        IpAddress.vrf_key == prefix.vrf_key, IpAddress.family == prefix.family,
        IpAddress.ip_hex.between(prefix.network_hex, prefix.last_hex)))
    return netaddr.IPSet(netaddr.IPAddress(from_hex(h), prefix.family) for h in hexes)


def range_space(session: Session, prefix: Prefix) -> netaddr.IPSet:
    rows = session.execute(select(IpRange.start_hex, IpRange.end_hex).where(
        IpRange.vrf_key == prefix.vrf_key, IpRange.family == prefix.family,
        IpRange.start_hex <= prefix.last_hex, IpRange.end_hex >= prefix.network_hex))
    found = netaddr.IPSet()
    for start, end in rows:
        found.add(netaddr.IPRange(netaddr.IPAddress(from_hex(start), prefix.family),
                                  netaddr.IPAddress(from_hex(end), prefix.family)))
    return found


def child_space(session: Session, prefix: Prefix) -> netaddr.IPSet:
    stmt = child_prefixes_query(prefix).with_only_columns(Prefix.prefix)
    return netaddr.IPSet(session.scalars(stmt))


def get_available_ips(session: Session, prefix: Prefix) -> netaddr.IPSet:
    """Return the free addresses of *prefix* as an IPSet (empty when full).

    Free = prefix - addresses - ranges - (for containers) child prefixes - the network
    and broadcast (IPv4) or subnet-router anycast (IPv6) address, which stay usable in
    /31, /32, /127, /128 and pools.
    """
    net = netaddr.IPNetwork(prefix.prefix)
    free = netaddr.IPSet([net])
    free -= used_space(session, prefix)
    free -= range_space(session, prefix)
    if prefix.status == "container":
        free -= child_space(session, prefix)
    for addr in excluded_addresses(net, is_pool=prefix.is_pool):
        free.remove(addr)
    return free


def iter_free(free: netaddr.IPSet) -> Iterator[netaddr.IPAddress]:
    """Yield free addresses lowest first, walking the set's CIDRs lazily."""
    for cidr in free.iter_cidrs():
        yield from cidr


WALK_CHUNK = 256
WALK_CHUNK_MAX = 8192


def _ranges_from(session: Session, prefix: Prefix, start: int) -> list[tuple[int, int]]:
    rows = session.execute(select(IpRange.start_hex, IpRange.end_hex).where(
        IpRange.vrf_key == prefix.vrf_key, IpRange.family == prefix.family,
        IpRange.start_hex <= prefix.last_hex, IpRange.end_hex >= to_hex(start))
        .order_by(IpRange.start_hex))
    return [(from_hex(a), from_hex(b)) for a, b in rows]


def walk_free(session: Session, prefix: Prefix, start: int | None = None, *,
              ranges: list[tuple[int, int]] | None = None,
              used: list[int] | None = None) -> Iterator[int]:
    """Yield the free addresses (integers) of a non-container prefix from *start* upwards.

    Used addresses are read up the index in keyset chunks (256, doubling to 8192 while
    the space stays packed), so the cost is the number of used addresses between
    *start* and the first free one, not the prefix's total. A caller that already read
    the ranges from *start* and the first chunk (``_frontier``) passes them in.
    """
    net = netaddr.IPNetwork(prefix.prefix)
    cursor = net.first if start is None else max(net.first, start)
    excluded = {int(a) for a in excluded_addresses(net, is_pool=prefix.is_pool)}
    if ranges is None:
        ranges = _ranges_from(session, prefix, cursor)
    base = select(IpAddress.ip_hex).where(
        IpAddress.vrf_key == prefix.vrf_key, IpAddress.family == prefix.family,
        IpAddress.ip_hex <= prefix.last_hex).order_by(IpAddress.ip_hex)
    if used is None:
        used, exhausted, chunk = [], False, WALK_CHUNK
    else:
        exhausted, chunk = len(used) < WALK_CHUNK, min(WALK_CHUNK * 2, WALK_CHUNK_MAX)
    pos, r = 0, 0
    while cursor <= net.last:
        while r < len(ranges) and ranges[r][1] < cursor:
            r += 1
        if r < len(ranges) and ranges[r][0] <= cursor:
            cursor = ranges[r][1] + 1
            continue
        if cursor in excluded:
            cursor += 1
            continue
        while pos < len(used) and used[pos] < cursor:
            pos += 1
        if pos == len(used) and not exhausted:
            used = [from_hex(h) for h in session.scalars(
                base.where(IpAddress.ip_hex >= to_hex(cursor)).limit(chunk))]
            exhausted = len(used) < chunk
            pos = 0
            chunk = min(chunk * 2, WALK_CHUNK_MAX)
            continue
        if pos < len(used) and used[pos] == cursor:
            cursor += 1
            continue
        yield cursor
        cursor += 1


@functools.cache
def _frontier_stmt(chunk: int) -> Any:
    """The statement of ``_frontier``, built once (bound parameters: pid, vrf_key,
    family, network, last): building and keying it each time cost as much CPU as
    running it."""
    pid, vrf_key, family = bindparam("pid"), bindparam("vrf_key"), bindparam("family")
    network = bindparam("network", type_=String)
    last = bindparam("last", type_=String)
    start = func.coalesce(
        select(case((Prefix.free_hint_hex > network, Prefix.free_hint_hex), else_=network))
        .where(Prefix.id == pid).scalar_subquery(), network)
    first = (select(IpAddress.ip_hex.label("a")).where(
        IpAddress.vrf_key == vrf_key, IpAddress.family == family,
        IpAddress.ip_hex >= start, IpAddress.ip_hex <= last)
        .order_by(IpAddress.ip_hex).limit(chunk).subquery())
    return union_all(
        select(literal_column("0").label("kind"), Prefix.free_hint_hex.label("a"),
               Prefix.status.label("b"), Prefix.is_pool.label("c")).where(Prefix.id == pid),
        select(literal_column("1"), IpRange.start_hex, IpRange.end_hex, null()).where(
            IpRange.vrf_key == vrf_key, IpRange.family == family,
            IpRange.start_hex <= last, IpRange.end_hex >= start),
        select(literal_column("2"), first.c.a, null(), null()))


def _gone(prefix_id: int) -> InventoryNotFoundError:
    return InventoryNotFoundError(f"{Prefix.__tablename__} {prefix_id} does not exist",
                                  errors={"prefix_id": [f"{prefix_id} does not exist"]})


class _Frontier(NamedTuple):
    """What ``_frontier`` read: whether the prefix row still exists, its mark, status
    and pool flag, the ranges from the mark up, and the first chunk of used addresses
    from it up."""

    present: bool
    hint: int | None
    status: str | None
    is_pool: bool | None
    ranges: list[tuple[int, int]]
    used: list[int]


def _frontier(session: Session, prefix: Prefix) -> _Frontier:
    """Read the stored mark, the ranges from it up and the first chunk of used addresses
    from it up, in one statement: one round trip instead of three, and (PostgreSQL,
    read committed) one snapshot, taken after whatever lock the caller holds.

    The walk starts at max(network, mark); the mark is read by a scalar subquery, which
    both backends evaluate once and use as the index bound of the keyset read.
    """
    rows = session.execute(_frontier_stmt(WALK_CHUNK), {
        "pid": prefix.id, "vrf_key": prefix.vrf_key, "family": prefix.family,
        "network": prefix.network_hex, "last": prefix.last_hex})
    present, hint, status, is_pool = False, None, None, None
    ranges: list[tuple[int, int]] = []
    used: list[int] = []
    for kind, a, b, c in rows:
        if kind == 0:
            present, hint, status, is_pool = True, from_hex(a) if a else None, b, bool(c)
        elif kind == 1:
            ranges.append((from_hex(a), from_hex(b)))
        else:
            used.append(from_hex(a))
    ranges.sort()
    used.sort()
    return _Frontier(present, hint, status, is_pool, ranges, used)


def iter_available_ips(session: Session, prefix: Prefix) -> Iterator[netaddr.IPAddress]:
    """Yield the free addresses of *prefix* lowest first (what available-ips lists)."""
    if prefix.status == "container":
        yield from iter_free(get_available_ips(session, prefix))
        return
    front = _frontier(session, prefix)
    for value in walk_free(session, prefix, front.hint, ranges=front.ranges, used=front.used):
        yield netaddr.IPAddress(value, prefix.family)


def first_available_ips(session: Session, prefix: Prefix, count: int = 1
                        ) -> list[netaddr.IPAddress]:
    """Return up to *count* lowest free addresses of *prefix*."""
    return list(islice(iter_available_ips(session, prefix), count))


@functools.cache
def _move_hint_stmt(from_unknown: bool) -> Any:
    """The mark's conditional UPDATE, built once (parameters: pid, old, new). A Core
    statement on the table: the ORM-enabled form spent more CPU than the round trip;
    ``updated_at`` is still set by the column's ``onupdate``."""
    table = Prefix.__table__
    current = table.c.free_hint_hex.is_(None) if from_unknown else (
        table.c.free_hint_hex == bindparam("old"))
    return (update(table).where(table.c.id == bindparam("pid"), current)
            .values(free_hint_hex=bindparam("new")))


def _move_hint(session: Session, prefix: Prefix, old: int | None, new: int) -> None:
    """Raise the prefix's mark to *new* unless someone changed it meanwhile.

    The condition matters on PostgreSQL: a release committed between our read and this
    write lowered the mark, and overwriting it would hide the released address.
    """
    result = session.connection().execute(_move_hint_stmt(old is None), {
        "pid": prefix.id, "old": None if old is None else to_hex(old), "new": to_hex(new)})
    if result.rowcount:
        set_committed_value(prefix, "free_hint_hex", to_hex(new))


@functools.cache
def _locked_prefix_stmt(postgres: bool) -> Any:
    """The statement of ``_locked_prefix``, built once per backend (parameter: pid)."""
    stmt = (select(Prefix, func.coalesce(Vrf.enforce_unique, true()))
            .outerjoin(Vrf, Vrf.id == Prefix.vrf_id).where(Prefix.id == bindparam("pid")))
    if postgres:
        stmt = stmt.add_columns(func.pg_advisory_xact_lock(
            literal(LOCK_ADDRESSES, Integer), Prefix.vrf_key))
    return stmt


def _locked_prefix(session: Session, prefix_id: int) -> tuple[Prefix, bool]:
    """Load the prefix and whether its VRF keeps addresses unique, and take the VRF's
    address lock, in one statement.

    On PostgreSQL the advisory lock (the one ``lock(LOCK_ADDRESSES, vrf_key)`` takes)
    is a column of the same SELECT, keyed by the row's ``vrf_key``; whatever must be
    read under the lock is read by later statements, which see every transaction
    committed before it was granted. SQLite needs no lock statement (the write
    session's ``BEGIN IMMEDIATE`` already serialises) and ``lock`` still refuses a
    session without it.

    Raises:
        InventoryNotFoundError: no such prefix (404, keyed ``prefix_id``).
    """
    postgres = session.connection().dialect.name == "postgresql"
    row = session.execute(_locked_prefix_stmt(postgres), {"pid": prefix_id}).first()
    if row is None:
        raise _gone(prefix_id)
    prefix, unique = row[0], bool(row[1])
    if not postgres:
        lock(session, LOCK_ADDRESSES, prefix.vrf_key)
    return prefix, unique


def _refuse_container(prefix: Prefix) -> None:
    if prefix.status == "container":
        raise invalid("prefix_id", f"{prefix.prefix} is a container; allocate from one of "
                                   "its child prefixes")


def allocate_next_ip(session: Session, actor: Actor, prefix_id: int, *, count: int = 1,
                     status: str = "active", role: str = "", dns_name: str = "",
                     interface_id: int | None = None, opd_id: int | None = None,
                     description: str = "", expires_at: datetime | None = None
                     ) -> list[IpAddress]:
    """Create the next *count* free addresses of a prefix, lowest first, all or none.

    Round trips (PostgreSQL): the prefix with the lock, the frontier read, then per
    address its INSERT and the audit INSERT, and the mark's UPDATE. The address rules
    ``validate_ip`` checks by query hold here by construction, under the lock: the
    address lies in *prefix* (so in a prefix of its VRF); *prefix* is not a container,
    so no prefix inside it is more specific and its network/broadcast exclusion is the
    one that applies (the walk skips them); and the walk stepped over every address
    of the VRF read after the lock was granted, so it is not a duplicate (the unique
    constraint stays the last word). The prefix's status and pool flag are re-read with
    the addresses, so a change committed since the session loaded it is seen. Only the
    caller's own fields are checked.

    Raises:
        InventoryNotFoundError: no such prefix.
        InventoryValidationError: count below 1, a container prefix, or bad fields.
        PrefixFullError: fewer than *count* addresses are free (409).
    """
    prefix, unique = _locked_prefix(session, prefix_id)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise invalid("count", "must be a whole number of at least 1")
    _refuse_container(prefix)
    fields = {"vrf_id": prefix.vrf_id, "status": status, "role": role,
              "dns_name": dns_name, "interface_id": interface_id, "opd_id": opd_id,
              "description": description, "expires_at": expires_at}
    errs = FieldErrors()
    check_ip_fields(session, errs, fields)
    errs.raise_if_any()
    while True:
        front = _frontier(session, prefix)
        if not front.present:  # deleted since it was loaded
            raise _gone(prefix.id)
        if (front.status, front.is_pool) == (prefix.status, prefix.is_pool):
            break
        # Changed since this session loaded it: walk by the rules that hold now.
        session.refresh(prefix)
        _refuse_container(prefix)
    hint = front.hint
    walk = walk_free(session, prefix, hint, ranges=front.ranges, used=front.used)
    addresses = [netaddr.IPAddress(v, prefix.family) for v in islice(walk, count)]
    if len(addresses) < count:
        if not addresses:
            raise PrefixFullError(f"{prefix.prefix} has no free address",
                                  errors={"prefix_id": ["no free address"]})
        raise PrefixFullError(f"{prefix.prefix} has only {len(addresses)} free addresses, "
                              f"{count} asked", errors={"count": ["not enough free"]})
    vrf_key = prefix.vrf_key
    created = []
    for addr in addresses:
        ip = IpAddress(address=f"{addr}/{prefix.prefix_length}", **fields,
                       family=prefix.family, ip_hex=to_hex(int(addr)), vrf_key=vrf_key,
                       unique_key=vrf_key if unique else None)
        session.add(ip)
        audit(session, actor, "allocate", ip)
        created.append(ip)
    # Everything up to the next free address is now taken: the next caller starts there.
    following = next(walk, None)
    _move_hint(session, prefix, hint, following if following is not None
               else netaddr.IPNetwork(prefix.prefix).last)
    return created


def get_available_prefixes(session: Session, prefix: Prefix) -> netaddr.IPSet:
    """Return the space of *prefix* not covered by child prefixes (same VRF)."""
    free = netaddr.IPSet([netaddr.IPNetwork(prefix.prefix)])
    free -= child_space(session, prefix)
    return free


def first_available_prefix(free: netaddr.IPSet, prefix_length: int
                           ) -> netaddr.IPNetwork | None:
    """Return the lowest CIDR of *prefix_length* inside *free*, or None."""
    for cidr in free.iter_cidrs():
        if cidr.prefixlen <= prefix_length:
            return netaddr.IPNetwork(f"{cidr.network}/{prefix_length}")
    return None


def allocate_next_prefix(session: Session, actor: Actor, parent_id: int, prefix_length: int,
                         *, status: str = "active", role: str = "", is_pool: bool = False,
                         opd_id: int | None = None, vlan_id: int | None = None,
                         site_id: int | None = None, description: str = "",
                         expires_at: datetime | None = None) -> Prefix:
    """Create the lowest free child of *prefix_length* inside a container prefix.

    Raises:
        InventoryValidationError: the parent is not a container, or a bad length.
        NoPrefixSpaceError: no free child of that length (409).
    """
    parent = require(session, Prefix, parent_id, "parent_id")
    max_len = 32 if parent.family == 4 else 128
    if (isinstance(prefix_length, bool) or not isinstance(prefix_length, int)
            or not parent.prefix_length < prefix_length <= max_len):
        raise invalid("prefix_length",
                      f"must be between {parent.prefix_length + 1} and {max_len}")
    if parent.status != "container":
        raise invalid("parent_id", f"{parent.prefix} is {parent.status}; only a container "
                                   "can hold child prefixes")
    lock(session, LOCK_PREFIXES, parent.vrf_key)
    child = first_available_prefix(get_available_prefixes(session, parent), prefix_length)
    if child is None:
        raise NoPrefixSpaceError(f"{parent.prefix} has no free /{prefix_length}",
                                 errors={"prefix_length": [f"no free /{prefix_length}"]})
    values: dict[str, Any] = {"status": status, "role": role, "is_pool": is_pool,
                              "opd_id": opd_id, "vlan_id": vlan_id, "site_id": site_id,
                              "description": description, "expires_at": expires_at}
    return insert_prefix(session, actor, child, parent.vrf_id, values)


# --- reservations ------------------------------------------------------------------------

def reserve_ip(session: Session, actor: Actor, address: str, *, vrf_id: int | None = None,
               opd_id: int | None = None, description: str = "",
               expires_at: datetime | None = None) -> IpAddress:
    """Hold one named address (status reserved), optionally until *expires_at*."""
    return create_ip_address(session, actor, address=address, vrf_id=vrf_id,
                             status="reserved", opd_id=opd_id, description=description,
                             expires_at=expires_at)


def reserve_prefix(session: Session, actor: Actor, parent_id: int, prefix_length: int, *,
                   opd_id: int | None = None, description: str = "",
                   expires_at: datetime | None = None) -> Prefix:
    """Hold the next free child prefix (status reserved), e.g. for an incidental event."""
    return allocate_next_prefix(session, actor, parent_id, prefix_length, status="reserved",
                                opd_id=opd_id, description=description, expires_at=expires_at)


def release_ip(session: Session, actor: Actor, ip_id: int) -> None:
    """Give an address back to its prefix (NetBox: delete it)."""
    delete_ip_address(session, actor, ip_id)


def release_prefix(session: Session, actor: Actor, prefix_id: int) -> None:
    """Give a prefix back to its parent; refused while it holds addresses or prefixes.

    Raises:
        InUseError: the prefix still holds addresses, ranges or child prefixes.
    """
    prefix = require(session, Prefix, prefix_id)
    lock(session, LOCK_PREFIXES, prefix.vrf_key)
    holds = session.scalar(select(IpAddress.id).where(
        IpAddress.vrf_key == prefix.vrf_key, IpAddress.family == prefix.family,
        IpAddress.ip_hex.between(prefix.network_hex, prefix.last_hex)).limit(1))
    child = session.scalar(child_prefixes_query(prefix).limit(1))
    if holds is not None or child is not None:
        raise InUseError(f"{prefix.prefix} is still in use; release what it holds first")
    delete_prefix(session, actor, prefix.id)

