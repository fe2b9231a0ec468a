"""Changing a tenant (an OPD): its name and description.

OPDs are created by ``simpul.tenancy.create_opd`` (``simpul opd add``, the tenants API).
The code is the tenant's key everywhere (users, the NAC VLAN map, SIEM enrichment,
NetBox clients' slug), so it is fixed once created, and so is the operator flag that
decides who sees every OPD's data.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from inventory.service import FieldErrors, check_text, update_object
from simpul.audit import Actor
from simpul.models import Opd

_TENANT_FIELDS = frozenset({"name", "description"})


def _validate(session: Session, v: dict[str, Any], current: Opd | None) -> None:
    errs = FieldErrors()
    check_text(errs, "name", v["name"], 200)
    check_text(errs, "description", v["description"], 500, required=False)
    errs.raise_if_any()


def update_tenant(session: Session, actor: Actor, opd_id: int, **changes: Any) -> Opd:
    """Rename an OPD or change its description (audited as ``opd.update``)."""
    return update_object(session, actor, Opd, opd_id, changes, _TENANT_FIELDS, _validate)
