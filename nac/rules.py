"""Changing the NAC policy tables: site treatment of unknown MACs and the VLAN map."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.models import Site
from nac.errors import NacNotFoundError, NacValidationError
from nac.models import UNKNOWN_ACTIONS, NacSitePolicy, NacVlanPolicy
from nac.register import parse_role
from simpul.audit import Actor, record
from simpul.tenancy import require_opd


def _vid(vid: int | None, field: str) -> int | None:
    if vid is not None and not 1 <= int(vid) <= 4094:
        raise NacValidationError(f"{field} {vid} is not a VLAN id (1-4094)",
                                 errors={field: ["1-4094"]})
    return None if vid is None else int(vid)


def set_site_policy(session: Session, actor: Actor, site: str | None, unknown_action: str,
                    quarantine_vid: int | None = None) -> NacSitePolicy:
    """Set what a site (slug; None for the default) does with unknown or pending MACs."""
    action = (unknown_action or "").strip().lower()
    if action not in UNKNOWN_ACTIONS:
        raise NacValidationError(f"unknown-device action {action!r} is not one of: "
                                 f"{', '.join(UNKNOWN_ACTIONS)}",
                                 errors={"unknown_action": ["reject or quarantine"]})
    vid = _vid(quarantine_vid, "quarantine_vid")
    if action == "quarantine" and vid is None:
        raise NacValidationError("quarantine needs a quarantine VLAN id",
                                 errors={"quarantine_vid": ["required for quarantine"]})
    site_id = None
    if site:
        found = session.scalar(select(Site).where(Site.slug == site.strip().lower()))
        if found is None:
            raise NacNotFoundError(f"site {site!r} does not exist")
        site_id = found.id
    row = session.scalar(select(NacSitePolicy).where(NacSitePolicy.site_key == (site_id or 0)))
    before = None
    if row is None:
        row = NacSitePolicy(site_id=site_id, site_key=site_id or 0)
        session.add(row)
    else:
        before = {"unknown_action": row.unknown_action, "quarantine_vid": row.quarantine_vid}
    row.unknown_action, row.quarantine_vid = action, vid
    record(session, actor, "nac.site_policy.set", row, before=before,
           after={"site": site or "default", "unknown_action": action, "quarantine_vid": vid})
    return row


def set_vlan(session: Session, actor: Actor, opd: str | None, role: str, vid: int
             ) -> NacVlanPolicy:
    """Map an OPD (None: any OPD) and NAC role to a VLAN, when the inventory has none."""
    role = parse_role(role)
    checked = _vid(vid, "vid")
    opd_row = require_opd(session, opd) if opd else None
    key = opd_row.id if opd_row else 0
    row = session.scalar(select(NacVlanPolicy).where(NacVlanPolicy.opd_key == key,
                                                     NacVlanPolicy.role == role))
    before = None
    if row is None:
        row = NacVlanPolicy(opd_id=opd_row.id if opd_row else None, opd_key=key, role=role,
                            vid=checked)
        session.add(row)
    else:
        before = {"vid": row.vid}
        row.vid = checked  # type: ignore[assignment]
    record(session, actor, "nac.vlan.set", row, before=before,
           after={"opd": opd_row.code if opd_row else "*", "role": role, "vid": checked},
           opd_id=opd_row.id if opd_row else None)
    return row
