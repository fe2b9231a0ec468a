"""NOC screens: the operation-room wallboard, device and interface pages with graphs.

``bp`` serves the pages under ``/noc`` and their JSON under ``/api/noc/``. Diskominfo's
operational roles see them; the read-only ``noc`` role exists for the wall's own
browser, which stays signed in (see webui.auth).
"""

from __future__ import annotations

from flask import Blueprint
from flask_babel import lazy_gettext

from webui.nav import NavItem

bp = Blueprint("noc", __name__)
NAV = [NavItem("noc.wallboard", lazy_gettext("NOC"), order=40)]

from webui.noc import pages  # noqa: E402,F401  (routes on bp)

__all__ = ["NAV", "bp"]
