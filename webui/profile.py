"""The signed-in user's own page: API tokens (key shown once) and password change."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from simpul.errors import NotFoundError, SimpulError
from simpul.models import ApiToken
from simpul.passwords import verify_password
from simpul.tokens import create_token, list_tokens, revoke_token
from simpul.users import set_password
from webui.auth import current_actor
from webui.extensions import commit, db_session

bp = Blueprint("profile", __name__, url_prefix="/profile")


class TokenForm(FlaskForm):
    """A new API token for scripts and integrations."""

    description = StringField(_l("Description"), validators=[Optional(), Length(max=200)])
    read_only = BooleanField(_l("Read only"))


class PasswordForm(FlaskForm):
    """Changing one's password needs the current one."""

    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField(_l("Repeat new password"),
                            validators=[DataRequired(), EqualTo("new", message=_l(
                                "The two new passwords differ."))])


def _render(status: int = 200, **extra: Any) -> Any:
    tokens = list_tokens(db_session(), current_user.username)
    return render_template("profile.html", tokens=tokens,
                           token_form=extra.pop("token_form", TokenForm()),
                           password_form=extra.pop("password_form", PasswordForm()),
                           **extra), status


@bp.route("/")
@login_required
def index() -> Any:
    """Show the user's tokens and the password form."""
    return _render()


@bp.route("/tokens", methods=["POST"])
@login_required
def new_token() -> Any:
    """Create a token and show its key this one time."""
    form = TokenForm()
    if not form.validate_on_submit():
        return _render(400, token_form=form)
    issued = create_token(db_session(), current_actor(), current_user.username,
                          description=form.description.data or "",
                          write_enabled=not form.read_only.data)
    commit()
    return _render(201, new_key=issued.key)


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int) -> Any:
    """Revoke one of the user's own tokens."""
    token = db_session().get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id or not TokenForm().validate_on_submit():
        raise NotFoundError(_("No such token."))
    revoke_token(db_session(), current_actor(), token_id)
    commit()
    return redirect(url_for("profile.index"))


@bp.route("/password", methods=["POST"])
@login_required
def password() -> Any:
    """Change the password after checking the current one."""
    form = PasswordForm()
    if not form.validate_on_submit():
        return _render(400, password_form=form)
    if not verify_password(current_user.password_hash, form.current.data):
        return _render(400, password_form=form, password_error=_("The current password is "
                                                                  "wrong."))
    try:
        set_password(db_session(), current_actor(), current_user.username, form.new.data)
        commit()
    except SimpulError as exc:
        db_session().rollback()
        return _render(400, password_form=form, password_error=exc.message)
    return _render(200, password_changed=True)
