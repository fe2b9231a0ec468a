"""User administration for admins: list, create, change role/OPD/active."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from simpul.errors import SimpulError
from simpul.models import ROLE_VALUES, Role, User
from simpul.tenancy import list_opds
from simpul.users import create_user, list_users, update_user
from webui.auth import current_actor, roles_required
from webui.extensions import commit, db_session
from webui.nav import NavItem

bp = Blueprint("admin", __name__, url_prefix="/admin")
NAV = [NavItem("admin.users", _l("Users"), frozenset({Role.ADMIN.value}), order=900)]


def _opd_choices() -> list[str]:
    return [o.code for o in list_opds(db_session())]


class UserForm(FlaskForm):
    """A new account: who, which desk (role) and which OPD."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    full_name = StringField(_l("Full name"), validators=[Optional(), Length(max=200)])
    email = StringField(_l("Email"), validators=[Optional(), Email(), Length(max=254)])
    role = SelectField(_l("Role"), choices=list(ROLE_VALUES))
    opd = SelectField(_l("OPD"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[Optional(), Length(max=256)])


class UserEditForm(FlaskForm):
    """Changes an admin may make to an existing account."""

    role = SelectField(_l("Role"), choices=list(ROLE_VALUES))
    opd = SelectField(_l("OPD"), validators=[DataRequired()])
    is_active = BooleanField(_l("Active"))


@bp.route("/users", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def users() -> Any:
    """List accounts and create a new one."""
    form = UserForm()
    form.opd.choices = _opd_choices()
    error, status = None, 200
    if form.validate_on_submit():
        try:
            create_user(db_session(), current_actor(), form.username.data,
                        role=form.role.data, opd_code=form.opd.data,
                        password=form.password.data or None,
                        full_name=form.full_name.data or "", email=form.email.data or "")
            commit()
            return redirect(url_for("admin.users"))
        except SimpulError as exc:
            db_session().rollback()
            error, status = exc.message, exc.http_status
    elif request.method == "POST":
        status = 400
    return render_template("admin/users.html", form=form, error=error,
                           users=list_users(db_session()), opds=_opd_choices(),
                           roles=ROLE_VALUES), status


@bp.route("/users/<int:user_id>", methods=["POST"])
@roles_required(Role.ADMIN)
def edit_user(user_id: int) -> Any:
    """Apply a role, OPD or active-flag change from the list page."""
    user = db_session().get(User, user_id)
    if user is None:
        return render_template("error.html", status=404, detail=_("No such user.")), 404
    form = UserEditForm()
    form.opd.choices = _opd_choices()
    if not form.validate_on_submit():
        return render_template("error.html", status=400, detail=_("Invalid change.")), 400
    try:
        update_user(db_session(), current_actor(), user.username, role=form.role.data,
                    opd_code=form.opd.data, is_active=form.is_active.data)
        commit()
    except SimpulError as exc:
        db_session().rollback()
        return render_template("error.html", status=exc.http_status, detail=exc.message), \
            exc.http_status
    return redirect(url_for("admin.users"))
