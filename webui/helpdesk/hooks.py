"""What a transition does to the source of truth, inside the transition's transaction.

A hook runs after the machine accepted the action and before the state changes; it
returns the facts to add to the WO's details. If the inventory refuses (a full prefix,
no rack space) the error propagates and the whole transition is rolled back, so a WO
is never "approved" without its allocation.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.dcim.racks import find_rack_space, reserve_rack_units
from inventory.ipam.allocation import allocate_next_ip, reserve_prefix
from simpul.audit import Actor
from simpul.errors import ConflictError
from webui.helpdesk.domains import choose_domain
from webui.helpdesk.fields import addresses_for, prefix_length_for
from webui.helpdesk.models import RegisteredDomain, WorkOrder
from webui.helpdesk.workflows import SETUP_WINDOW

Hook = Callable[[Session, Actor, WorkOrder, dict[str, Any], datetime], dict[str, Any]]
EVENT_GRACE = timedelta(days=1)  # reservations outlive the event by a day


def _allocate(session: Session, actor: Actor, wo: WorkOrder, prefix_id: int, count: int
              ) -> list[str]:
    ips = allocate_next_ip(session, actor, prefix_id, count=count, opd_id=wo.opd_id,
                           description=f"{wo.number}: {wo.title}"[:200])
    return [ip.address for ip in ips]


def ip_approved(session: Session, actor: Actor, wo: WorkOrder, fields: dict[str, Any],
                now: datetime) -> dict[str, Any]:
    """Penambahan IP: allocate the recommended count (and one public address if asked)."""
    count = int(wo.details.get("ip_count", 1))
    allocated = {"local": _allocate(session, actor, wo, fields["prefix_id"], count)}
    if fields.get("public_prefix_id"):
        allocated["public"] = _allocate(session, actor, wo, fields["public_prefix_id"], 1)
    return {"allocations": allocated}


def event_recommended(session: Session, actor: Actor, wo: WorkOrder, fields: dict[str, Any],
                      now: datetime) -> dict[str, Any]:
    """Kegiatan insidentil: turn the participant count into addresses and a prefix size."""
    needed = fields.get("addresses_needed") or addresses_for(
        fields["participants"], fields.get("devices_per_participant", 1))
    return {"addresses_needed": needed, "prefix_length": prefix_length_for(needed)}


def event_configured(session: Session, actor: Actor, wo: WorkOrder, fields: dict[str, Any],
                     now: datetime) -> dict[str, Any]:
    """Kegiatan insidentil: reserve a prefix until a day after the event ends."""
    expires = datetime.fromisoformat(wo.details["event_end"]) + EVENT_GRACE
    prefix = reserve_prefix(session, actor, fields["parent_prefix_id"],
                            int(wo.details["prefix_length"]), opd_id=wo.opd_id,
                            description=f"{wo.number}: {wo.title}"[:200], expires_at=expires)
    return {"reservation": {"prefix": prefix.prefix, "prefix_id": prefix.id,
                            "expires_at": expires.isoformat()}}


def colocation_checked(session: Session, actor: Actor, wo: WorkOrder, fields: dict[str, Any],
                       now: datetime) -> dict[str, Any]:
    """Penitipan server: rack and power checks computed live from DCIM; the rest as seen."""
    power = fields.get("power_w", wo.details.get("power_w", 0))
    space = find_rack_space(session, u_height=fields["u_height"], power_w=0, opd_id=wo.opd_id)
    powered = [s for s in space if s.power_headroom_w is None or s.power_headroom_w >= power]
    best = powered[0] if powered else None
    checks = {"rack_available": bool(space), "power_available": best is not None,
              "wall_outlet": fields["wall_outlet"], "server_condition": fields["server_condition"],
              "software_legal": fields["software_legal"]}
    candidate = None if best is None else {"rack_id": best.rack.id, "rack": best.rack.name,
                                           "position": best.position,
                                           "power_headroom_w": best.power_headroom_w}
    return {"checks": checks, "candidate": candidate, "power_w": power}


def colocation_approved(session: Session, actor: Actor, wo: WorkOrder, fields: dict[str, Any],
                        now: datetime) -> dict[str, Any]:
    """Penitipan server: reserve the units for the OPD now and start the 2 x 24 h clock."""
    height, power = int(wo.details["u_height"]), int(wo.details.get("power_w", 0))
    space = find_rack_space(session, u_height=height, power_w=power, opd_id=wo.opd_id)
    if not space:
        raise ConflictError(f"no rack has {height} free U and {power} W left any more; "
                            "return the WO for a re-check", errors={"checks": ["rack space"]})
    best = space[0]
    units = list(range(best.position, best.position + height))
    res = reserve_rack_units(session, actor, rack_id=best.rack.id, units=units,
                             opd_id=wo.opd_id, description=f"{wo.number}: {wo.title}"[:200])
    return {"rack_reservation": {"id": res.id, "rack": best.rack.name, "units": units,
                                 "power_w": power},
            "setup_due_at": (now + SETUP_WINDOW).isoformat(), "reminders_sent": 0}


def setup_reminded(session: Session, actor: Actor, wo: WorkOrder, fields: dict[str, Any],
                   now: datetime) -> dict[str, Any]:
    """Penitipan server: count the reminder and give another 2 x 24 hours."""
    return {"reminders_sent": int(wo.details.get("reminders_sent", 0)) + 1,
            "setup_due_at": (now + SETUP_WINDOW).isoformat()}


def hosting_checked(session: Session, actor: Actor, wo: WorkOrder, fields: dict[str, Any],
                    now: datetime) -> dict[str, Any]:
    """Penitipan aplikasi: legality, completeness and the security scan, as recorded."""
    return {"checks": {"software_legal": fields["software_legal"],
                       "app_complete": fields["app_complete"],
                       "security_scan": fields["security_scan"] == "passed"}}


def hosting_ip(session: Session, actor: Actor, wo: WorkOrder, fields: dict[str, Any],
               now: datetime) -> dict[str, Any]:
    """Penitipan aplikasi: one address for the application."""
    return {"allocations": {"app": _allocate(session, actor, wo, fields["prefix_id"], 1)}}


def domain_approved(session: Session, actor: Actor, wo: WorkOrder, fields: dict[str, Any],
                    now: datetime) -> dict[str, Any]:
    """Domain: register the name, re-checking it is still free."""
    fqdn = wo.details["fqdn"]
    if session.scalar(select(RegisteredDomain.id).where(RegisteredDomain.fqdn == fqdn)):
        raise ConflictError(f"{fqdn} was registered in the meantime; reject this request",
                            errors={"fqdn": ["taken"]})
    session.add(RegisteredDomain(fqdn=fqdn, kind=wo.details["kind"], opd_id=wo.opd_id,
                                 work_order_id=wo.id))
    return {"registered": fqdn}


def pick_domain(session: Session, kind: str, name: str, suffix: str, regency_domain: str
                ) -> str:
    """Return the name a new domain WO asks for, refusing names already given out."""
    def taken(fqdn: str) -> bool:
        return session.scalar(select(RegisteredDomain.id).where(
            RegisteredDomain.fqdn == fqdn)) is not None

    return choose_domain(kind, name, suffix, taken, regency_domain)


def _classified(value: str) -> Hook:
    def hook(session: Session, actor: Actor, wo: WorkOrder, fields: dict[str, Any],
             now: datetime) -> dict[str, Any]:
        return {"classification": value}

    hook.__doc__ = f"Gangguan aplikasi: record the classification {value!r}."
    return hook


HOOKS: dict[tuple[str, str], Hook] = {
    ("penambahan_ip", "approve"): ip_approved,
    ("kegiatan_insidentil", "recommend"): event_recommended,
    ("kegiatan_insidentil", "configure"): event_configured,
    ("penitipan_server", "record_checks"): colocation_checked,
    ("penitipan_server", "approve"): colocation_approved,
    ("penitipan_server", "send_reminder"): setup_reminded,
    ("penitipan_aplikasi", "record_checks"): hosting_checked,
    ("penitipan_aplikasi", "assign_ip"): hosting_ip,
    ("domain", "approve"): domain_approved,
    ("gangguan_aplikasi", "classify_application"): _classified("aplikasi"),
    ("gangguan_aplikasi", "classify_network"): _classified("network"),
    ("gangguan_aplikasi", "refer_developer"): _classified("aplikasi"),
}
