"""The SIEM console and API: events with the query language, incidents, rules, maintenance.

``/api/siem/…`` (``api.py``) and ``/siem/…`` (``pages.py``) serve the *security* role
(admins always pass). Tenancy: Diskominfo's security staff see every OPD and may pick
one (per-OPD views); a security officer of another OPD sees only events and incidents
that enrichment attributed to their OPD, and cannot change rules.
"""

from __future__ import annotations

from flask import Blueprint
from flask_babel import lazy_gettext

from webui.api import guard_writes
from webui.extensions import csrf
from webui.nav import NavItem

bp = Blueprint("siem", __name__)
csrf.exempt(bp)  # guard_writes applies CSRF to cookie-session writes (forms and API)
bp.before_request(guard_writes)
SIEM_ROLES = ("security",)
NAV = [NavItem("siem.console", lazy_gettext("SIEM"), roles=frozenset(SIEM_ROLES), order=450)]

from webui.siem import api, pages  # noqa: E402  (routes register on bp)

__all__ = ["NAV", "SIEM_ROLES", "api", "bp", "pages"]
