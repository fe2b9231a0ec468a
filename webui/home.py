"""The landing page after sign-in."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from simpul.audit import list_entries
from webui.extensions import db_session

bp = Blueprint("home", __name__)


@bp.route("/")
@login_required
def index() -> Any:
    """Show who is signed in and, for Diskominfo staff, the latest changes."""
    recent = list_entries(db_session(), limit=10) if current_user.is_operator_staff else []
    return render_template("index.html", recent=recent)
