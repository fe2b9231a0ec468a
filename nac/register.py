"""The device register: create, approve, block, expire, change and delete entries.

Every change goes through here (CLI, API, CSV import and tests alike), inside the
caller's transaction, with an audit entry. Tenancy: an OPD user registers devices only
for their own OPD and those land ``pending``; Diskominfo staff with an approving role
(IT Support, Infrastruktur, admin) may register directly as ``active`` and approve.
``user=None`` means a trusted channel (CLI, system jobs) with staff rights.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session

from inventory.addressing import normalise_mac
from nac.errors import DuplicateMacError, NacNotFoundError, NacValidationError
from nac.models import AUTH_METHODS, DEVICE_STATUS, DEVICE_TYPES, NacDevice
from simpul.audit import Actor, record
from simpul.errors import PermissionDeniedError
from simpul.models import Opd, User
from simpul.models.base import utcnow
from simpul.tenancy import can_see_opd, require_opd

APPROVER_ROLES = frozenset({"it_support", "infrastructure", "admin"})
# The NAC role a device type gets when none is given: the VLAN map is keyed by it.
TYPE_ROLES = {"pc": "staff", "laptop": "staff", "printer": "printer", "phone": "voice",
              "camera": "cctv", "ap": "ap", "iot": "iot", "server": "server", "other": "staff"}
_ROLE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
_STATUS_ACTIONS = {"active": "approve", "blocked": "block", "expired": "expire"}
EDITABLE = ("owner", "device_type", "purpose", "role", "expires_at", "auth_method",
            "description", "opd")


def parse_mac(text: str) -> str:
    """Return *text* as ``aa:bb:cc:dd:ee:ff`` or raise a 400 naming the accepted forms."""
    try:
        mac = normalise_mac(str(text))
    except ValueError:
        raise NacValidationError(
            f"{text!r} is not a MAC address (use aa:bb:cc:dd:ee:ff, AA-BB-CC-DD-EE-FF "
            "or aabb.ccdd.eeff)", errors={"mac": ["not a MAC address"]}) from None
    if mac in ("00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff") or int(mac[:2], 16) & 1:
        raise NacValidationError(f"{mac} is a broadcast, multicast or null address, "
                                 "not a device", errors={"mac": ["not a unicast MAC"]})
    return mac


def parse_expiry(value: Any) -> datetime | None:
    """Accept None, a datetime, or ISO 8601 text (a bare date means midnight UTC)."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise NacValidationError(f"expiry {value!r} is not an ISO 8601 date or date-time",
                                     errors={"expires_at": ["not an ISO 8601 date"]}) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _choice(field: str, value: str, allowed: tuple[str, ...]) -> str:
    value = (value or "").strip().lower()
    if value not in allowed:
        raise NacValidationError(f"{field} {value!r} is not one of: {', '.join(allowed)}",
                                 errors={field: [f"one of {', '.join(allowed)}"]})
    return value


def parse_role(value: str) -> str:
    """Return a NAC role name (the VLAN map key), lower-cased, or raise a 400."""
    value = (value or "").strip().lower()
    if not _ROLE.match(value):
        raise NacValidationError(f"role {value!r} must be 1-50 lower-case letters, digits, "
                                 "'-' or '_'", errors={"role": ["bad role name"]})
    return value


def is_approver(user: User | None) -> bool:
    """True for trusted channels and Diskominfo IT Support, Infrastruktur and admins."""
    return user is None or (user.is_operator_staff and user.role in APPROVER_ROLES)


def snapshot(device: NacDevice) -> dict[str, Any]:
    """The audited and API-visible fields of *device*."""
    return {"mac": device.mac, "owner": device.owner, "opd": device.opd.code if device.opd
            else None, "device_type": device.device_type, "purpose": device.purpose,
            "role": device.role, "status": device.status, "auth_method": device.auth_method,
            "expires_at": device.expires_at.isoformat() if device.expires_at else None}


def get_device(session: Session, mac: str) -> NacDevice | None:
    """Return the register entry for *mac* (any accepted format), or None."""
    return session.scalar(select(NacDevice).where(NacDevice.mac == parse_mac(mac)))


def devices_query(user: User | None = None, *, status: str | None = None,
                  opd_id: int | None = None, q: str | None = None) -> Select[Any]:
    """A filtered, ordered select of register entries the *user* may see."""
    stmt = select(NacDevice).order_by(NacDevice.mac)
    if user is not None and not user.is_operator_staff:
        stmt = stmt.where(NacDevice.opd_id == user.opd_id)
    if status:
        stmt = stmt.where(NacDevice.status == _choice("status", status, DEVICE_STATUS))
    if opd_id is not None:
        stmt = stmt.where(NacDevice.opd_id == opd_id)
    if q:
        like = f"%{q.strip().lower()}%"
        stmt = stmt.where(or_(NacDevice.mac.like(like), NacDevice.owner.ilike(like),
                              NacDevice.purpose.ilike(like)))
    return stmt


def require_device(session: Session, device_id: int, user: User | None = None) -> NacDevice:
    """Return the entry, or 404 if it does not exist or belongs to another OPD."""
    device = session.get(NacDevice, device_id)
    if device is None or (user is not None and not can_see_opd(user, device.opd_id)):
        raise NacNotFoundError(f"NAC device {device_id} does not exist")
    return device


def _resolve_opd(session: Session, opd: str | Opd | None, user: User | None) -> Opd:
    if isinstance(opd, Opd):
        target = opd
    elif opd:
        target = require_opd(session, opd)
    elif user is not None:
        target = user.opd
    else:
        raise NacValidationError("an OPD is required", errors={"opd": ["required"]})
    if user is not None and not can_see_opd(user, target.id):
        raise PermissionDeniedError("you may only register devices of your own OPD",
                                    errors={"opd": ["not your OPD"]})
    return target


def create_device(session: Session, actor: Actor, mac: str, *, opd: str | Opd | None = None,
                  owner: str = "", device_type: str = "pc", purpose: str = "",
                  role: str | None = None, expires_at: Any = None, auth_method: str = "mab",
                  description: str = "", status: str | None = None,
                  user: User | None = None) -> NacDevice:
    """Register *mac*; self-service registrations (non-approvers) land ``pending``.

    Raises:
        NacValidationError: bad MAC, type, role, method or expiry.
        DuplicateMacError: the MAC is already in the register.
        PermissionDeniedError: an OPD user registering for another OPD.
    """
    mac = parse_mac(mac)
    device_type = _choice("device_type", device_type or "pc", DEVICE_TYPES)
    role = parse_role(role or TYPE_ROLES[device_type])
    auth_method = _choice("auth_method", auth_method or "mab", AUTH_METHODS)
    expiry = parse_expiry(expires_at)
    target = _resolve_opd(session, opd, user)
    wanted = _choice("status", status or ("active" if is_approver(user) else "pending"),
                     DEVICE_STATUS)
    if wanted != "pending" and not is_approver(user):
        wanted = "pending"  # self-service always waits for staff approval
    existing = session.scalar(select(NacDevice).where(NacDevice.mac == mac))
    if existing is not None:
        where = existing.opd.code if user is None or can_see_opd(user, existing.opd_id) \
            else "another OPD"
        raise DuplicateMacError(f"MAC {mac} is already registered ({where})",
                                errors={"mac": ["already registered"]})
    device = NacDevice(mac=mac, opd=target, opd_id=target.id, owner=owner.strip()[:200],
                       device_type=device_type, purpose=purpose.strip()[:500], role=role,
                       status=wanted, auth_method=auth_method, expires_at=expiry,
                       description=description.strip()[:500], registered_by=actor.name[:64],
                       approved_by=actor.name[:64] if wanted == "active" else "")
    session.add(device)
    record(session, actor, "nac.device.create", device, after=snapshot(device),
           opd_id=target.id)
    return device


def update_device(session: Session, actor: Actor, device: NacDevice, changes: dict[str, Any],
                  *, user: User | None = None) -> NacDevice:
    """Change the editable fields of *device* (not its MAC or status)."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise NacValidationError(f"cannot change: {', '.join(unknown)}",
                                 errors={k: ["not editable"] for k in unknown})
    before = snapshot(device)
    if "opd" in changes:
        target = _resolve_opd(session, changes["opd"], user)
        device.opd, device.opd_id = target, target.id
    if "device_type" in changes:
        device.device_type = _choice("device_type", changes["device_type"], DEVICE_TYPES)
    if "role" in changes:
        device.role = parse_role(changes["role"])
    if "auth_method" in changes:
        device.auth_method = _choice("auth_method", changes["auth_method"], AUTH_METHODS)
    if "expires_at" in changes:
        device.expires_at = parse_expiry(changes["expires_at"])
    for field in ("owner", "purpose", "description"):
        if field in changes:
            setattr(device, field, str(changes[field] or "").strip()[:500])
    if not is_approver(user) and device.status == "active" and before != snapshot(device):
        device.status = "pending"  # an OPD user's change needs approval again
    record(session, actor, "nac.device.update", device, before=before, after=snapshot(device),
           opd_id=device.opd_id)
    return device


def _set_status(session: Session, actor: Actor, device: NacDevice, status: str,
                user: User | None) -> NacDevice:
    if not is_approver(user):
        raise PermissionDeniedError(
            "only IT Support, Infrastruktur or an admin may approve, block or expire devices")
    if status == "active" and device.expires_at is not None \
            and parse_expiry(device.expires_at) <= utcnow():  # type: ignore[operator]
        raise NacValidationError("cannot approve: the expiry date has passed; set a new "
                                 "expiry first", errors={"expires_at": ["in the past"]})
    before = snapshot(device)
    device.status = status
    if status == "active":
        device.approved_by = actor.name[:64]
    record(session, actor, f"nac.device.{_STATUS_ACTIONS[status]}", device, before=before,
           after=snapshot(device), opd_id=device.opd_id)
    return device


def approve_device(session: Session, actor: Actor, device: NacDevice, *,
                   user: User | None = None) -> NacDevice:
    """Make a pending (or blocked/expired) entry active."""
    return _set_status(session, actor, device, "active", user)


def block_device(session: Session, actor: Actor, device: NacDevice, *,
                 user: User | None = None) -> NacDevice:
    """Block the MAC: rejected at the next RADIUS request, whatever else holds."""
    return _set_status(session, actor, device, "blocked", user)


def expire_device(session: Session, actor: Actor, device: NacDevice, *,
                  user: User | None = None) -> NacDevice:
    """Mark the entry expired (rejected until approved again with a new expiry)."""
    return _set_status(session, actor, device, "expired", user)


def delete_device(session: Session, actor: Actor, device: NacDevice, *,
                  user: User | None = None) -> None:
    """Remove the entry; OPD users may withdraw only their OPD's pending registrations."""
    if not is_approver(user) and device.status != "pending":
        raise PermissionDeniedError("only staff may delete an approved, blocked or expired "
                                    "device; ask IT Support")
    record(session, actor, "nac.device.delete", device, before=snapshot(device),
           opd_id=device.opd_id)
    session.delete(device)


def expire_due(session: Session, actor: Actor, now: datetime | None = None) -> int:
    """Mark every active entry whose expiry has passed as expired; return how many."""
    now = now or utcnow()
    due = session.scalars(select(NacDevice).where(NacDevice.status == "active",
                                                  NacDevice.expires_at <= now)).all()
    for device in due:
        record(session, actor, "nac.device.expired", device, before={"status": "active"},
               after={"status": "expired"}, opd_id=device.opd_id)
    if due:
        session.execute(update(NacDevice).where(NacDevice.id.in_([d.id for d in due]))
                        .values(status="expired"))
    return len(due)
