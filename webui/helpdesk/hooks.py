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

from inventory.dcim.interfaces import create_wall_outlet, list_wall_outlets, update_wall_outlet
from inventory.dcim.racks import RackSpace, find_rack_space, reserve_rack_units
from inventory.ipam.allocation import allocate_next_ip, reserve_prefix
from inventory.models import Location, Site, WallOutlet
from simpul.audit import Actor
from simpul.errors import ConflictError, ValidationError
from simpul.models import Opd
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


def _free_outlet(session: Session, space: list[RackSpace]) -> tuple[RackSpace, WallOutlet
                                                                     ] | None:
    """Return the best place whose site still has a free wall outlet / patch port."""
    for place in space:
        outlets = list_wall_outlets(session, site_id=place.rack.site_id, status="free")
        if outlets:
            return place, outlets[0]
    return None


def colocation_checked(session: Session, actor: Actor, wo: WorkOrder, fields: dict[str, Any],
                       now: datetime) -> dict[str, Any]:
    """Penitipan server: rack, power and outlet checks computed live from DCIM.

    The server's condition and software legality are what the data-center desk saw; the
    rest comes from the inventory at this moment, so a check cannot be ticked by hand.
    """
    power = fields.get("power_w", wo.details.get("power_w", 0))
    space = find_rack_space(session, u_height=fields["u_height"], power_w=0, opd_id=wo.opd_id)
    powered = [s for s in space if s.power_headroom_w is None or s.power_headroom_w >= power]
    found = _free_outlet(session, powered)
    best, outlet = found if found else (powered[0] if powered else None, None)
    checks = {"rack_available": bool(space), "power_available": bool(powered),
              "wall_outlet": outlet is not None,
              "server_condition": fields["server_condition"],
              "software_legal": fields["software_legal"]}
    candidate = None if best is None else {"rack_id": best.rack.id, "rack": best.rack.name,
                                           "position": best.position,
                                           "power_headroom_w": best.power_headroom_w,
                                           "outlet": outlet.label if outlet else None}
    return {"checks": checks, "candidate": candidate, "power_w": power}


def colocation_approved(session: Session, actor: Actor, wo: WorkOrder, fields: dict[str, Any],
                        now: datetime) -> dict[str, Any]:
    """Penitipan server: reserve the units and the watts for the OPD, start the 2 x 24 h clock.

    The watts are held in the rack's power account (not only in the WO's details), so a
    second colocation cannot be promised them; when the server is later mounted in these
    units its draw is taken from the reservation, not counted twice.
    """
    height, power = int(wo.details["u_height"]), int(wo.details.get("power_w", 0))
    space = find_rack_space(session, u_height=height, power_w=power, opd_id=wo.opd_id)
    if not space:
        raise ConflictError(f"no rack has {height} free U and {power} W left any more; "
                            "return the WO for a re-check", errors={"checks": ["rack space"]})
    found = _free_outlet(session, list(space))
    if found is None:
        raise ConflictError("no wall outlet / patch port is free near a rack with room any "
                            "more; return the WO for a re-check",
                            errors={"checks": ["wall_outlet"]})
    best, outlet = found
    what = f"{wo.number}: {wo.title}"[:200]
    units = list(range(best.position, best.position + height))
    res = reserve_rack_units(session, actor, rack_id=best.rack.id, units=units,
                             opd_id=wo.opd_id, description=what, power_w=power)
    update_wall_outlet(session, actor, outlet.id, status="reserved", opd_id=wo.opd_id,
                       description=what)
    follow_up = _open_ip_request(session, actor, wo, best, units, now)
    return {"rack_reservation": {"id": res.id, "rack": best.rack.name, "units": units,
                                 "power_w": power, "outlet": outlet.label},
            "ip_request": follow_up.number,
            "setup_due_at": (now + SETUP_WINDOW).isoformat(), "reminders_sent": 0}


def _open_ip_request(session: Session, actor: Actor, wo: WorkOrder, place: RackSpace,
                     units: list[int], now: datetime) -> WorkOrder:
    """An approved colocation needs an address: open the IP request for the OPD now.

    It starts at Help Desk like any other, carrying the colocation's letter, so the
    server is not left racked without an address because nobody filed the second form.
    """
    from webui.helpdesk.services import open_follow_up  # services imports this module

    where = f"{place.rack.name} U{units[0]}-U{units[-1]}"
    return open_follow_up(session, actor, wo, type_="penambahan_ip",
                          title=f"IP for {wo.details.get('server', wo.title)} ({wo.number})",
                          details={"ip_count": 1, "location": where}, now=now)


def connection_approved(session: Session, actor: Actor, wo: WorkOrder,
                        fields: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Titik koneksi: Infrastruktur names the site (and room) the new points go into."""
    site = session.get(Site, fields["site_id"])
    if site is None:
        raise ValidationError(f"site {fields['site_id']} does not exist",
                              errors={"site_id": ["no such site"]})
    facts: dict[str, Any] = {"site": site.name}
    if fields.get("location_id") is not None:
        loc = session.get(Location, fields["location_id"])
        if loc is None or loc.site_id != site.id:
            raise ValidationError(f"location {fields['location_id']} is not in {site.name}",
                                  errors={"location_id": [f"not a location of {site.name}"]})
        facts["room"] = loc.name
    return facts


def connection_installed(session: Session, actor: Actor, wo: WorkOrder,
                         fields: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Titik koneksi: the installed points become the OPD's patch ports in the inventory."""
    details = wo.details or {}
    labels = []
    for i in range(1, int(details["points"]) + 1):
        outlet = create_wall_outlet(session, actor, site_id=int(details["site_id"]),
                                    location_id=details.get("location_id"),
                                    label=f"{wo.number}-{i:02d}", kind="patch-port",
                                    status="used", opd_id=wo.opd_id,
                                    description=f"{wo.number}: {wo.title}"[:200])
        labels.append(outlet.label)
    return {"outlets": labels}


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


def device_approved(session: Session, actor: Actor, wo: WorkOrder, fields: dict[str, Any],
                    now: datetime) -> dict[str, Any]:
    """Pendaftaran perangkat: the approved device enters the NAC register, active.

    A MAC registered meanwhile (self-service, CSV) refuses the approval with the
    register's own message, and the WO stays where it was.
    """
    from nac.register import create_device  # NAC is optional for the rest of the helpdesk

    d = wo.details or {}
    device = create_device(session, actor, d["mac"], opd=session.get(Opd, wo.opd_id),
                           owner=d["owner"], device_type=d["device_type"],
                           purpose=d["purpose"], role=d.get("nac_role") or None,
                           expires_at=d.get("expires_at"), description=wo.number,
                           status="active", user=None)
    session.flush()
    return {"device_id": device.id, "registered": device.mac}


def check_new_mac(session: Session, mac: str) -> str:
    """Return *mac* normalised, refusing a bad one or one already in the NAC register."""
    from nac.register import get_device, parse_mac

    try:
        normal = parse_mac(mac)
    except ValidationError as exc:
        raise ValidationError(f"details.mac: {exc.message}",
                              errors={"details.mac": [exc.message]}) from None
    if get_device(session, normal) is not None:
        raise ConflictError(f"MAC {normal} is already registered",
                            errors={"details.mac": ["already registered"]})
    return normal


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
    ("titik_koneksi", "approve"): connection_approved,
    ("titik_koneksi", "complete"): connection_installed,
    ("penitipan_server", "send_reminder"): setup_reminded,
    ("penitipan_aplikasi", "record_checks"): hosting_checked,
    ("penitipan_aplikasi", "assign_ip"): hosting_ip,
    ("domain", "approve"): domain_approved,
    ("pendaftaran_perangkat", "approve"): device_approved,
    ("gangguan_aplikasi", "classify_application"): _classified("aplikasi"),
    ("gangguan_aplikasi", "classify_network"): _classified("network"),
    ("gangguan_aplikasi", "refer_developer"): _classified("aplikasi"),
}
