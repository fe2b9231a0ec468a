"""IPAM pages: prefix tree, prefix detail with next-IP allocation, addresses, VLANs, VRFs.

Views only read view models from ``inventory.reports`` and call the allocation service;
tenancy is applied here on every page: Diskominfo staff see everything, an OPD user
only their OPD's objects (another OPD's object by URL answers 404, not 403, so ids do
not leak what exists).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from inventory.choices import IP_STATUS
from inventory.ipam.allocation import allocate_next_ip
from inventory.models import IpAddress, Prefix
from inventory.reports import (
    ip_address_page,
    prefix_detail,
    prefix_tree,
    vlan_groups,
    vrf_rows,
)
from inventory.reports.common import vrf_names
from simpul.errors import SimpulError
from simpul.models import Role
from simpul.tenancy import list_opds
from webui.auth import current_actor, roles_required
from webui.extensions import app_context, commit, db_session
from webui.nav import NavItem

bp = Blueprint("ipam", __name__, url_prefix="/ipam")
NAV = [NavItem("ipam.prefixes", lazy_gettext("IPAM"), order=200)]

WRITERS = (Role.INFRASTRUCTURE, Role.DATACENTER)  # admins always pass roles_required
PER_PAGE = 100


def scope() -> int | None:
    """Return the OPD the signed-in user is limited to, or None for Diskominfo staff."""
    return None if current_user.is_operator_staff else current_user.opd_id


def visible(obj: Any) -> Any:
    """Return *obj*, or answer 404 when it is missing or belongs to another OPD."""
    if obj is None or (scope() is not None and obj.opd_id != scope()):
        abort(404, _("Not found."))
    return obj


def can_write() -> bool:
    """Return whether the user may change inventory data from these pages."""
    return current_user.role in {Role.ADMIN.value, *(r.value for r in WRITERS)}


def arg_int(name: str) -> int | None:
    """Return a whole-number query argument, or None when absent or malformed."""
    return request.args.get(name, default=None, type=int)


def page_arg() -> int:
    """Return the requested page number (1 when absent or bad)."""
    return max(1, request.args.get("page", default=1, type=int) or 1)


class AllocateForm(FlaskForm):
    """The next free address of a prefix, with what it is for and optionally until when."""

    description = StringField(lazy_gettext("Description"),
                              validators=[Optional(), Length(max=500)])
    dns_name = StringField(lazy_gettext("DNS name"), validators=[Optional(), Length(max=255)])
    status = SelectField(lazy_gettext("Status"), choices=list(IP_STATUS), default="active")
    expires_at = DateTimeLocalField(lazy_gettext("Expires (optional)"),
                                    validators=[Optional()], format="%Y-%m-%dT%H:%M")

    def validate_expires_at(self, field: DateTimeLocalField) -> None:
        """Refuse an expiry in the past: the address would be released at once."""
        if field.data is not None and to_utc(field.data) <= datetime.now(UTC):
            raise ValidationError(_("must be in the future"))


def to_utc(local: datetime) -> datetime:
    """Read a form's naive time in the office's timezone (WIB) and return it in UTC."""
    zone = ZoneInfo(app_context().settings.timezone)
    return local.replace(tzinfo=zone).astimezone(UTC)


@bp.route("/")
@login_required
def index() -> Any:
    """Open the prefix tree, IPAM's front page."""
    return redirect(url_for("ipam.prefixes"))


@bp.route("/prefixes")
@login_required
def prefixes() -> Any:
    """Show the prefix tree per VRF, with status, role, OPD and utilisation."""
    vrf = arg_int("vrf")
    q = request.args.get("q", "").strip()[:100]
    found = prefix_tree(db_session(), vrf_key=vrf, opd_id=scope(), q=q, page=page_arg(),
                        per_page=PER_PAGE)
    return render_template("ipam/prefixes.html", page=found, vrf=vrf, q=q,
                           vrfs=vrf_names(db_session()))


def _render_prefix(prefix: Prefix, form: AllocateForm, status: int = 200,
                   error: str | None = None) -> Any:
    sess = db_session()
    detail = prefix_detail(sess, prefix, opd_id=scope())
    addresses = ip_address_page(sess, parent=prefix, opd_id=scope(), page=page_arg(),
                                per_page=PER_PAGE)
    allocated = None
    if (ip_id := arg_int("allocated")) is not None:
        ip = sess.get(IpAddress, ip_id)
        if ip is not None and (scope() is None or ip.opd_id == scope()):
            allocated = ip
    return render_template("ipam/prefix.html", d=detail, prefix=prefix, addresses=addresses,
                           form=form, can_write=can_write(), error=error,
                           allocated=allocated), status


@bp.route("/prefixes/<int:prefix_id>")
@login_required
def prefix(prefix_id: int) -> Any:
    """Show one prefix: parents, children, ranges, addresses and its first free space."""
    return _render_prefix(visible(db_session().get(Prefix, prefix_id)), AllocateForm())


@bp.route("/prefixes/<int:prefix_id>/allocate", methods=["POST"])
@roles_required(*WRITERS)
def allocate(prefix_id: int) -> Any:
    """Allocate the next free address of the prefix through the allocation service."""
    found = visible(db_session().get(Prefix, prefix_id))
    form = AllocateForm()
    if not form.validate_on_submit():
        return _render_prefix(found, form, 400)
    try:
        created = allocate_next_ip(
            db_session(), current_actor(), found.id, status=form.status.data,
            dns_name=(form.dns_name.data or "").strip(),
            description=(form.description.data or "").strip(), opd_id=found.opd_id,
            expires_at=to_utc(form.expires_at.data) if form.expires_at.data else None)
        commit()
    except SimpulError as exc:
        db_session().rollback()
        return _render_prefix(found, form, exc.http_status, exc.message)
    return redirect(url_for("ipam.prefix", prefix_id=found.id, allocated=created[0].id,
                            _anchor="allocate"))


@bp.route("/ip-addresses")
@login_required
def ip_addresses() -> Any:
    """List addresses, 100 a page, filtered by VRF, status, OPD and a search text."""
    vrf = arg_int("vrf")
    status = request.args.get("status", "")
    status = status if status in IP_STATUS else ""
    opd = scope() if scope() is not None else arg_int("opd")
    q = request.args.get("q", "").strip()[:100]
    found = ip_address_page(db_session(), vrf_key=vrf, status=status or None, opd_id=opd,
                            q=q, page=page_arg(), per_page=PER_PAGE)
    opds = list_opds(db_session()) if scope() is None else []
    return render_template("ipam/ip_addresses.html", page=found, vrf=vrf, status=status,
                           opd=opd, q=q, vrfs=vrf_names(db_session()), opds=opds,
                           statuses=IP_STATUS)


@bp.route("/vlans")
@login_required
def vlans() -> Any:
    """List VLANs per group, with each group's vid utilisation."""
    return render_template("ipam/vlans.html", groups=vlan_groups(db_session(), opd_id=scope()))


@bp.route("/vrfs")
@login_required
def vrfs() -> Any:
    """List VRFs with their prefix and address counts."""
    return render_template("ipam/vrfs.html", rows=vrf_rows(db_session(), opd_id=scope()))
