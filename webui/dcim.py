"""DCIM pages: sites, racks with their elevation drawings, devices with interfaces.

Read-only views over ``inventory.reports``; the elevation SVG comes from the pure
``webui.rack_svg.render_elevation`` and is both inlined in the rack page and served on
its own. Tenancy as in IPAM: staff see all, an OPD user only their OPD's objects (404
for the rest); inside a shared rack they see other OPDs' units as taken, unnamed.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import lazy_gettext
from flask_login import login_required
from markupsafe import Markup

from inventory.choices import DEVICE_ROLES, DEVICE_STATUS
from inventory.dcim.sites import list_sites
from inventory.models import Device, DeviceType, IpAddress, Rack, Site
from inventory.reports import (
    device_page,
    interface_rows,
    rack_page,
    rack_rows,
    rack_view,
    site_page,
    site_prefixes,
)
from inventory.reports.common import opd_codes
from simpul.tenancy import list_opds
from webui.extensions import db_session
from webui.ipam import PER_PAGE, arg_int, page_arg, scope, visible
from webui.nav import NavItem
from webui.rack_svg import render_elevation

bp = Blueprint("dcim", __name__, url_prefix="/dcim")
NAV = [NavItem("dcim.sites", lazy_gettext("DCIM"), order=210)]


def _device_url(device_id: int) -> str:
    return url_for("dcim.device", device_id=device_id)


@bp.route("/")
@login_required
def index() -> Any:
    """Open the site list, DCIM's front page."""
    return redirect(url_for("dcim.sites"))


@bp.route("/sites")
@login_required
def sites() -> Any:
    """List sites with their rack, device and prefix counts."""
    found = site_page(db_session(), opd_id=scope(), page=page_arg(), per_page=PER_PAGE)
    return render_template("dcim/sites.html", page=found)


@bp.route("/sites/<int:site_id>")
@login_required
def site(site_id: int) -> Any:
    """Show a site with its racks, devices and prefixes."""
    found = visible(db_session().get(Site, site_id))
    sess = db_session()
    racks = rack_page(sess, site_id=found.id, opd_id=scope(), per_page=1000)
    devices = device_page(sess, site_id=found.id, opd_id=scope(), page=page_arg(),
                          per_page=PER_PAGE)
    return render_template("dcim/site.html", site=found, racks=racks.items, devices=devices,
                           prefixes=site_prefixes(sess, found.id, opd_id=scope()))


@bp.route("/racks")
@login_required
def racks() -> Any:
    """List racks with their U and power utilisation."""
    site_id = arg_int("site")
    found = rack_page(db_session(), site_id=site_id, opd_id=scope(), page=page_arg(),
                      per_page=PER_PAGE)
    return render_template("dcim/racks.html", page=found, site_id=site_id,
                           sites=list_sites(db_session(), opd_id=scope()))


@bp.route("/racks/<int:rack_id>")
@login_required
def rack(rack_id: int) -> Any:
    """Show a rack: its elevation (front and rear), power, reservations and devices."""
    found = visible(db_session().get(Rack, rack_id))
    view = rack_view(db_session(), found, viewer_opd_id=scope())
    svg = Markup(render_elevation(view, device_url=_device_url))  # escaped inside
    return render_template("dcim/rack.html", rack=found, view=view, svg=svg,
                           row=rack_rows(db_session(), [found])[0],
                           site=db_session().get(Site, found.site_id))


@bp.route("/racks/<int:rack_id>/elevation.svg")
@login_required
def elevation(rack_id: int) -> Any:
    """Serve the rack's elevation drawing as an SVG document."""
    found = visible(db_session().get(Rack, rack_id))
    view = rack_view(db_session(), found, viewer_opd_id=scope())
    body = '<?xml version="1.0" encoding="UTF-8"?>\n' + render_elevation(
        view, device_url=lambda i: url_for("dcim.device", device_id=i, _external=True))
    return Response(body, mimetype="image/svg+xml")


@bp.route("/devices")
@login_required
def devices() -> Any:
    """List devices, 100 a page, filtered by role, site, status, OPD and a search text."""
    role = request.args.get("role", "")
    role = role if role in DEVICE_ROLES else ""
    status = request.args.get("status", "")
    status = status if status in DEVICE_STATUS else ""
    opd = scope() if scope() is not None else arg_int("opd")
    site_id = arg_int("site")
    q = request.args.get("q", "").strip()[:100]
    found = device_page(db_session(), role=role or None, site_id=site_id,
                        status=status or None, opd_id=opd, q=q, page=page_arg(),
                        per_page=PER_PAGE)
    return render_template("dcim/devices.html", page=found, role=role, status=status,
                           opd=opd, site_id=site_id, q=q, roles=DEVICE_ROLES,
                           statuses=DEVICE_STATUS,
                           sites=list_sites(db_session(), opd_id=scope()),
                           opds=list_opds(db_session()) if scope() is None else [])


@bp.route("/devices/<int:device_id>")
@login_required
def device(device_id: int) -> Any:
    """Show a device with its interfaces: type, speed, MAC, state, cable peer, IPs."""
    found = visible(db_session().get(Device, device_id))
    sess = db_session()
    rack_obj = sess.get(Rack, found.rack_id) if found.rack_id else None
    return render_template("dcim/device.html", device=found,
                           dtype=sess.get(DeviceType, found.device_type_id),
                           site=sess.get(Site, found.site_id), rack=rack_obj,
                           rack_visible=rack_obj is not None and (
                               scope() is None or rack_obj.opd_id == scope()),
                           opd_code=opd_codes(sess, [found.opd_id]).get(found.opd_id or 0, ""),
                           primary_ips=[ip for ip in (sess.get(IpAddress, i) for i in (
                               found.primary_ip4_id, found.primary_ip6_id) if i) if ip],
                           interfaces=interface_rows(sess, found.id), scope=scope())
