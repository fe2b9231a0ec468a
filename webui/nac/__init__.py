"""NAC over HTTP: the RADIUS policy API for FreeRADIUS, the register API, and the pages.

``/api/nac/radius/*`` (``radius.py``) is called by FreeRADIUS only, authenticated by the
shared secret ``SIMPUL_NAC_API_SECRET``, exempt from CSRF and user sign-in, answering in
rlm_rest's JSON attribute format. ``/api/nac/…`` (``api.py``) is the register,
NetBox-style, and ``/nac/…`` (``pages.py``) its pages; both with OPD tenancy: an OPD user
sees and manages only their OPD's devices (another OPD's id answers 404) and their
registrations land pending; Diskominfo IT Support/Infrastruktur/admins see all and approve.
"""

from __future__ import annotations

from flask import Blueprint, request
from flask_babel import lazy_gettext

from webui.api import guard_writes
from webui.extensions import csrf
from webui.nav import NavItem

bp = Blueprint("nac", __name__)
csrf.exempt(bp)  # the guard below applies CSRF to cookie-session writes itself
RADIUS_PREFIX = "/api/nac/radius/"
NAV = [NavItem("nac.devices", lazy_gettext("NAC"), order=400)]


@bp.before_request
def _guard() -> None:
    """FreeRADIUS proves the shared secret; people follow the API's CSRF/token rules."""
    if request.path.startswith(RADIUS_PREFIX):
        radius.check_radius_secret()
    else:
        guard_writes()


from webui.nac import api, pages, radius  # noqa: E402  (routes register on bp)

__all__ = ["NAV", "api", "bp", "pages", "radius"]
