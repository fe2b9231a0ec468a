"""The JSON API root: token or session auth, CSRF only for cookie-authenticated writes."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request
from flask_login import current_user, login_required

from simpul import __version__
from webui.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api")
csrf.exempt(bp)


@bp.before_request
def _csrf_for_cookie_sessions() -> None:
    # A token in the Authorization header cannot be sent by another site's form, so
    # token calls skip CSRF; a browser session cookie can, so those writes need it.
    if request.method not in ("GET", "HEAD", "OPTIONS") and "Authorization" not in request.headers:
        csrf.protect()


@bp.route("/")
@login_required
def root() -> Any:
    """API discovery: version and the signed-in identity."""
    return jsonify({"version": __version__, "user": current_user.username})


@bp.route("/users/me")
@login_required
def me() -> Any:
    """Who the caller is, with role and OPD (what every client needs first)."""
    user = current_user
    return jsonify({
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "opd": {"code": user.opd.code, "name": user.opd.name, "operator": user.opd.is_operator},
        "auth": "token" if g.get("api_token") is not None else "session",
    })
