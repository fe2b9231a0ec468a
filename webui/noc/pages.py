"""NOC routes: pages render the first picture, ``/api/noc/`` keeps them live."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import abort, jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from collectors.snmp.queries import get_interface_status
from inventory.models import Device
from simpul.errors import ValidationError
from simpul.models import Role, utcnow
from webui.auth import roles_required
from webui.extensions import db_session
from webui.noc import bp, data
from webui.openapi import spec

# Who watches the network: every Diskominfo operational desk (admins always pass).
NOC_ROLES = (Role.NOC, Role.INFRASTRUCTURE, Role.IT_SUPPORT, Role.DATACENTER,
             Role.HELPDESK, Role.SECURITY, Role.LEADERSHIP)
RANGES = {"1h": timedelta(hours=1), "6h": timedelta(hours=6), "24h": timedelta(days=1),
          "7d": timedelta(days=7), "30d": timedelta(days=30)}
ID_PARAM = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]
OBJECT = {"type": "object"}


def _staff_only() -> None:
    # OPD accounts never see the province-wide picture, whatever role they were given.
    if not current_user.is_operator_staff:
        abort(403, _("Only Diskominfo staff see the NOC screens."))


@bp.route("/noc/")
@roles_required(*NOC_ROLES)
def wallboard() -> Any:
    """The operation-room wall: dark, large tiles, updated in place every few seconds."""
    _staff_only()
    board = data.wallboard(db_session(), current_user, utcnow())
    pos = {n["id"]: n for n in board["topology"]["nodes"]}
    return render_template("noc/wallboard.html", board=board, pos=pos, refresh_s=10)


@bp.app_template_filter("bps")
def bps_filter(value: float | None) -> str:
    """Bits per second the way a NOC reads them: 940 Mbps, 1.2 Gbps."""
    return format_bps(value)


def format_bps(value: float | None) -> str:
    """Return *value* bits/s with a unit, or a dash when unknown."""
    if value is None:
        return "—"
    for unit, size in (("Gbps", 1e9), ("Mbps", 1e6), ("kbps", 1e3)):
        if abs(value) >= size:
            return f"{value / size:.3g} {unit}"
    return f"{value:.0f} bps"


@bp.route("/api/noc/wallboard/")
@roles_required(*NOC_ROLES)
@spec.operation("/api/noc/wallboard/", "GET", tag="noc", response=OBJECT,
                summary="Everything the NOC wall shows: device states, topology, alerts, "
                        "top talkers, OPD bandwidth against allocation, services")
def wallboard_json() -> Any:
    """The wall's live update."""
    _staff_only()
    return jsonify(data.wallboard(db_session(), current_user, utcnow()))


def _device(device_id: int) -> Device:
    device = db_session().get(Device, device_id)
    if device is None:
        abort(404, _("No such device."))
    return device


@bp.route("/noc/devices/<int:device_id>")
@roles_required(*NOC_ROLES)
def device_page(device_id: int) -> Any:
    """One device: status, CPU/memory/disk, interfaces with rates and their graphs."""
    _staff_only()
    device = _device(device_id)
    return render_template("noc/device.html", device=device,
                           detail=data.device_detail(db_session(), device_id))


@bp.route("/api/noc/devices/<int:device_id>/")
@roles_required(*NOC_ROLES)
@spec.operation("/api/noc/devices/{id}/", "GET", tag="noc", response=OBJECT,
                parameters=ID_PARAM, summary="One device's state and interface rates")
def device_json(device_id: int) -> Any:
    """The device page's live update."""
    _staff_only()
    device = _device(device_id)
    return jsonify({"id": device.id, "name": device.name,
                    **data.device_detail(db_session(), device_id)})


def _window() -> tuple[datetime, datetime]:
    """The graph's time range: ?range=6h, or ?start=&end= in epoch seconds (zoom)."""
    now = utcnow()
    if "start" in request.args or "end" in request.args:
        try:
            start = datetime.fromtimestamp(float(request.args["start"]), UTC)
            end = datetime.fromtimestamp(float(request.args.get("end", now.timestamp())), UTC)
        except (KeyError, ValueError, OverflowError, OSError):
            raise ValidationError("start and end are epoch seconds",
                                  errors={"start": ["epoch seconds"]}) from None
        if not start < end or end - start > timedelta(days=400):
            raise ValidationError("start must be before end, at most 400 days apart",
                                  errors={"start": ["bad range"]})
        return start, end
    span = RANGES.get(request.args.get("range", "6h"))
    if span is None:
        raise ValidationError(f"range is one of {', '.join(RANGES)}",
                              errors={"range": [", ".join(RANGES)]})
    return now - span, now


@bp.route("/noc/interfaces/<int:snmp_interface_id>")
@roles_required(*NOC_ROLES)
def interface_page(snmp_interface_id: int) -> Any:
    """One interface's bandwidth graph: pick a range, drag across the graph to zoom."""
    _staff_only()
    status = get_interface_status(db_session(), snmp_interface_id)
    if status is None:
        abort(404, _("No such interface."))
    return render_template("noc/interface.html", iface=status, ranges=list(RANGES))


@bp.route("/api/noc/interfaces/<int:snmp_interface_id>/series/")
@roles_required(*NOC_ROLES)
@spec.operation("/api/noc/interfaces/{id}/series/", "GET", tag="noc", response=OBJECT,
                parameters=[*ID_PARAM,
                            {"name": "range", "in": "query", "schema": {"type": "string"}},
                            {"name": "start", "in": "query", "schema": {"type": "number"}},
                            {"name": "end", "in": "query", "schema": {"type": "number"}}],
                summary="An interface's in/out bits per second over a range (columns)")
def interface_series(snmp_interface_id: int) -> Any:
    """Graph columns; the resolution follows the range (raw, 5 min or 1 h)."""
    _staff_only()
    if get_interface_status(db_session(), snmp_interface_id) is None:
        abort(404, _("No such interface."))
    start, end = _window()
    return jsonify(data.interface_graph(db_session(), snmp_interface_id, start, end))
