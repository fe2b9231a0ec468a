"""NAC pages: the register, self-service registration, pending approvals, live sessions,
recent rejects — the same services and tenancy rules as the API."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from inventory.reports.common import paginate
from nac.accounting import recent_decisions
from nac.models import AUTH_METHODS, DEVICE_STATUS, DEVICE_TYPES, NacDevice, NacSession
from nac.register import create_device, devices_query, is_approver, parse_mac, require_device
from simpul.errors import SimpulError
from simpul.tenancy import list_opds
from webui.auth import current_actor
from webui.extensions import commit, db_session
from webui.nac import bp
from webui.nac.api import set_status

PER_PAGE = 50
FORM_FIELDS = ("mac", "owner", "opd", "device_type", "purpose", "role", "expires_at",
               "auth_method")


def _page() -> int:
    return max(1, request.args.get("page", default=1, type=int) or 1)


def _require_approver() -> None:
    if not is_approver(current_user):
        abort(403, _("Only IT Support, Infrastruktur or an admin may do this."))


def _pending_count() -> int:
    if not is_approver(current_user):
        return 0
    return db_session().scalar(select(func.count()).select_from(NacDevice)
                               .where(NacDevice.status == "pending")) or 0


@bp.route("/nac/")
@login_required
def devices() -> Any:
    """The register: every device the user may see, filtered by status or text."""
    status = request.args.get("status") or None
    if status not in (None, *DEVICE_STATUS):
        status = None
    q = request.args.get("q", "").strip()
    page = paginate(db_session(), devices_query(current_user, status=status, q=q or None),
                    _page(), PER_PAGE)
    return render_template("nac/devices.html", page=page, status=status, q=q,
                           statuses=DEVICE_STATUS, approver=is_approver(current_user),
                           pending=_pending_count(), title=_("Registered devices"))


@bp.route("/nac/pending")
@login_required
def pending() -> Any:
    """Registrations waiting for IT Support, Infrastruktur or an admin."""
    _require_approver()
    page = paginate(db_session(), devices_query(current_user, status="pending"), _page(),
                    PER_PAGE)
    return render_template("nac/devices.html", page=page, status="pending", q="",
                           statuses=DEVICE_STATUS, approver=True, pending=page.total,
                           title=_("Pending approvals"))


@bp.route("/nac/new", methods=["GET", "POST"])
@login_required
def new() -> Any:
    """Register a device: OPD users for their own OPD (pending), staff for any (active)."""
    form = {k: request.form.get(k, "").strip() for k in FORM_FIELDS}
    error, status = None, 200
    if request.method == "POST":
        try:
            device = create_device(
                db_session(), current_actor(), form["mac"], opd=form["opd"] or None,
                owner=form["owner"], device_type=form["device_type"] or "pc",
                purpose=form["purpose"], role=form["role"] or None,
                expires_at=form["expires_at"] or None,
                auth_method=form["auth_method"] or "mab", user=current_user)
            commit()
            return redirect(url_for("nac.device", device_id=device.id))
        except SimpulError as exc:
            db_session().rollback()
            error, status = exc.message, exc.http_status
    opds = list_opds(db_session()) if current_user.is_operator_staff else []
    return render_template("nac/new.html", form=form, error=error, types=DEVICE_TYPES,
                           methods=AUTH_METHODS, opds=opds), status


@bp.route("/nac/devices/<int:device_id>")
@login_required
def device(device_id: int) -> Any:
    """One device: its entry, where it is connected, and (staff) its recent decisions."""
    session = db_session()
    found = require_device(session, device_id, current_user)
    sessions = session.scalars(select(NacSession).where(NacSession.mac == found.mac)
                               .order_by(NacSession.id.desc()).limit(20)).all()
    decisions = recent_decisions(session, mac=found.mac, limit=20) \
        if current_user.is_operator_staff else []
    return render_template("nac/device.html", device=found, sessions=sessions,
                           decisions=decisions, approver=is_approver(current_user))


@bp.route("/nac/devices/<int:device_id>/status", methods=["POST"])
@login_required
def device_status(device_id: int) -> Any:
    """Approve, block or expire (form buttons of the device and pending pages)."""
    _require_approver()
    found = require_device(db_session(), device_id, current_user)
    set_status(found, request.form.get("status", ""))
    commit()
    return redirect(request.form.get("next") if request.form.get("next") == url_for(
        "nac.pending") else url_for("nac.device", device_id=found.id))


@bp.route("/nac/sessions")
@login_required
def sessions() -> Any:
    """Live sessions (``?all=1``: also finished ones): MAC, switch, port, VLAN, since."""
    stmt = select(NacSession).order_by(NacSession.started_at.desc(), NacSession.id.desc())
    show_all = request.args.get("all") == "1"
    if not show_all:
        stmt = stmt.where(NacSession.stopped_at.is_(None))
    nas, port, mac = (request.args.get(k, "").strip() for k in ("nas", "port", "mac"))
    if nas:
        stmt = stmt.where(NacSession.nas_ip == nas)
    if port:
        stmt = stmt.where(NacSession.nas_port == port)
    if mac:
        try:
            stmt = stmt.where(NacSession.mac == parse_mac(mac))
        except SimpulError:
            stmt = stmt.where(NacSession.mac == "")
    if not current_user.is_operator_staff:
        stmt = stmt.where(NacSession.mac.in_(select(NacDevice.mac).where(
            NacDevice.opd_id == current_user.opd_id)))
    page = paginate(db_session(), stmt, _page(), PER_PAGE)
    return render_template("nac/sessions.html", page=page, nas=nas, port=port, mac=mac,
                           show_all=show_all)


@bp.route("/nac/rejects")
@login_required
def rejects() -> Any:
    """The newest rejected RADIUS requests (Diskominfo staff)."""
    if not current_user.is_operator_staff:
        abort(403, _("Only Diskominfo staff see RADIUS decisions."))
    return render_template("nac/rejects.html",
                           rows=recent_decisions(db_session(), result="reject", limit=200))
