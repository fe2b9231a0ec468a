"""Who may see what in the SIEM: role check and OPD scope, shared by API and pages."""

from __future__ import annotations

from flask import abort, current_app
from flask_babel import gettext as _
from flask_login import current_user

from siem.settings import SiemSettings, load_siem_settings
from simpul.errors import PermissionDeniedError

ALLOWED = ("security", "admin")


def require_siem_user() -> None:
    """401 for anonymous callers, 403 unless security or admin."""
    if not current_user.is_authenticated:
        abort(401)
    if current_user.role not in ALLOWED:
        abort(403, _("Only the security team may use the SIEM."))


def scope_opd() -> str | None:
    """None for Diskominfo staff (every OPD), else the caller's own OPD code."""
    return None if current_user.is_operator_staff else current_user.opd.code


def require_operator() -> None:
    """Rule switches are Diskominfo's: one OPD must not silence another's detection."""
    if not current_user.is_operator_staff:
        raise PermissionDeniedError("only Diskominfo's security staff may change rules")


def siem_settings() -> SiemSettings:
    """The SIEM settings of this app (rule folders), read once per app."""
    found = current_app.extensions.get("siem_settings")
    if found is None:
        found = load_siem_settings(current_app.extensions["simpul"].settings)
        current_app.extensions["siem_settings"] = found
    return found
