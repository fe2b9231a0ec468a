"""``/api/tenancy/tenants/``: the OPDs (NetBox's tenants); admins create and rename them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from inventory.queries import tenants_query
from inventory.tenants import update_tenant
from simpul.audit import Actor
from simpul.models import Opd
from simpul.tenancy import create_opd
from webui.inventory_api.resource import ADMIN_ONLY, Resource
from webui.inventory_api.serializers import Field

FIELDS = (
    Field("code", required=True, mode="create"),
    Field("name", required=True),
    Field("is_operator", kind="bool", mode="create"),
    Field("description"),
)


def _create(session: Session, actor: Actor, *, code: str, name: str,
            **kw: Any) -> Opd:
    """Create through the same service as ``simpul opd add``."""
    return create_opd(session, actor, code, name, **kw)


def _slug(session: Session, rows: Any) -> dict[int, dict[str, Any]]:
    # NetBox clients look tenants up by slug; the OPD code is ours.
    return {o.id: {"slug": o.code.lower()} for o in rows}


tenants = Resource(
    "/api/tenancy/tenants/", Opd, "Tenant", "tenancy", FIELDS,
    query=tenants_query,
    filters=(("id", "ids"), ("q", "text")),
    create=_create, update=update_tenant, write_roles=ADMIN_ONLY, what="tenant",
    brief=lambda o: {"slug": o.code.lower(), "code": o.code}, extra=_slug,
).register()
