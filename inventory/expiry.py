"""Free what incidental-event reservations held once their time is up."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.dcim.racks import release_rack_reservation
from inventory.errors import InUseError
from inventory.ipam.addresses import delete_ip_address
from inventory.ipam.allocation import release_prefix
from inventory.models import IpAddress, Prefix, RackReservation
from simpul.audit import Actor


@dataclass
class Released:
    """What ``release_expired`` freed (texts for the log and the caller)."""

    addresses: list[str] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    rack_reservations: list[int] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # expired but still holding live data


def release_expired(session: Session, actor: Actor, now: datetime) -> Released:
    """Delete addresses, prefixes and rack reservations whose ``expires_at`` <= *now*.

    Addresses go first, so an expired event prefix empties before it is released; a
    prefix that still holds unexpired addresses or child prefixes is kept.
    """
    done = Released()
    for ip in session.scalars(select(IpAddress).where(IpAddress.expires_at <= now)
                              .order_by(IpAddress.id)).all():
        done.addresses.append(ip.address)
        delete_ip_address(session, actor, ip.id)
    session.flush()
    for prefix in session.scalars(select(Prefix).where(Prefix.expires_at <= now)
                                  .order_by(Prefix.prefix_length.desc(), Prefix.id)).all():
        try:
            with session.begin_nested():
                release_prefix(session, actor, prefix.id)
            done.prefixes.append(prefix.prefix)
        except InUseError:
            done.kept.append(prefix.prefix)
    for res in session.scalars(select(RackReservation).where(
            RackReservation.expires_at <= now).order_by(RackReservation.id)).all():
        done.rack_reservations.append(res.id)
        release_rack_reservation(session, actor, res.id)
    return done
