"""The landing page after sign-in."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from simpul.audit import list_entries
from webui.extensions import db_session
from webui.nav import NavItem

bp = Blueprint("home", __name__)
NAV = [NavItem("home.index", _l("Dashboard"), order=0)]


@bp.route("/favicon.ico")
def favicon() -> Any:
    """Browsers ask for this path whatever the page says; answer with the same icon."""
    return redirect(url_for("static", filename="img/simpul.svg"), code=301)


@bp.route("/")
@login_required
def index() -> Any:
    """Show who is signed in and, for Diskominfo staff, the latest changes."""
    recent = list_entries(db_session(), limit=10) if current_user.is_operator_staff else []
    return render_template("index.html", recent=recent)
