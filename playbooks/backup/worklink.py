"""Link config changes found by a backup to the work order that explains them.

A read-only look-up in the helpdesk's tables: a work order counts when it is past
intake and approval (not submitted, awaiting approval, declined or rejected), was open
at some point of the backup window, and either names the device (``details.device`` or
``details.devices``, or the device name in its title) or belongs to the device's OPD.
Work orders naming the device win over OPD-wide ones. The web package is imported
lazily: the domain code runs without it (then nothing is linked).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from loguru import logger
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

NOT_ACTIVE = ("submitted", "awaiting_approval", "declined", "rejected")


def _names_device(details: dict[str, Any] | None, title: str, device: str) -> bool:
    details = details or {}
    named = details.get("device")
    many = details.get("devices") or []
    if named == device or (isinstance(many, list) and device in many):
        return True
    return device in title.split()


def find_work_orders(session: Session, devices: dict[str, int | None], since: datetime,
                     until: datetime) -> dict[str, list[int]]:
    """Return work-order ids per device name for the changed *devices* (name → OPD id).

    Args:
        devices: changed devices with the id of their OPD (None: no OPD).
        since, until: the window in which the change happened (last backup → now).
    """
    try:
        from webui.helpdesk.models import WorkOrder
    except ImportError:  # installed without the web package: nothing to link
        return {}
    if not devices:
        return {}
    opd_ids = {o for o in devices.values() if o is not None}
    rows = session.scalars(
        select(WorkOrder)
        .where(WorkOrder.state.not_in(NOT_ACTIVE), WorkOrder.created_at <= until,
               or_(WorkOrder.closed_at.is_(None), WorkOrder.closed_at >= since),
               or_(WorkOrder.updated_at >= since, WorkOrder.closed_at.is_(None)))
        .order_by(WorkOrder.id)).all()
    found: dict[str, list[int]] = {}
    for name, opd_id in devices.items():
        named = [wo.id for wo in rows if _names_device(wo.details, wo.title, name)]
        same_opd = [wo.id for wo in rows if opd_ids and wo.opd_id == opd_id]
        ids = named or same_opd
        if ids:
            found[name] = ids
    if found:
        logger.bind(task="backup").info("config changes linked to work orders: {}", found)
    return found
