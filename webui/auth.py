"""Sign-in by password (session cookie) or API token, and the role/OPD guards for views."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from loguru import logger
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from simpul.audit import Actor
from simpul.models import Role, User
from simpul.tokens import authenticate_token
from simpul.users import authenticate
from webui.extensions import LANGUAGES, commit, db_session, login_manager

bp = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])

MAX_FAILURES = 5
LOCKOUT_SECONDS = 15 * 60
# The operation-room wall has nobody to type a password after the 8-hour session: the
# read-only NOC role is remembered (an HttpOnly, signed cookie) for 30 days instead.
WALL_REMEMBER = timedelta(days=30)


class LoginThrottle:
    """Refuse a username+address pair for a while after repeated failed sign-ins."""

    def __init__(self) -> None:
        self._failures: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> list[float]:
        return [t for t in self._failures.get(key, []) if now - t < LOCKOUT_SECONDS]

    def blocked(self, username: str, address: str) -> bool:
        """True when this pair failed too often in the lockout window."""
        with self._lock:
            return len(self._recent((username.lower(), address), time.monotonic())) >= MAX_FAILURES

    def failed(self, username: str, address: str) -> None:
        """Count one failure."""
        key, now = (username.lower(), address), time.monotonic()
        with self._lock:
            self._failures[key] = [*self._recent(key, now), now]

    def succeeded(self, username: str, address: str) -> None:
        """Forget failures after a good sign-in."""
        with self._lock:
            self._failures.pop((username.lower(), address), None)


@bp.record_once
def _install_throttle(state: Any) -> None:
    # One throttle per app: failures counted in one app (or test) never leak into another.
    state.app.extensions["login_throttle"] = LoginThrottle()


def _throttle() -> LoginThrottle:
    return current_app.extensions["login_throttle"]


class LoginForm(FlaskForm):
    """Username and password; CSRF-protected like every form."""

    username = StringField("username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("password", validators=[DataRequired(), Length(max=256)])


def authenticate_token_header() -> None:
    """Before every request: an ``Authorization: Token`` header decides who the caller is.

    Token calls are stateless: whatever cookie the client also sends is ignored, and an
    invalid token means anonymous (401), never a fall-back to the cookie's user. Flask-
    Login alone would consult the session first, and its strong session protection
    turns a cookie without a login into "anonymous" before any token is looked at.
    """
    scheme, _sep, _key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "token":
        return
    user = load_user_from_token(request)
    g._login_user = user if user is not None else login_manager.anonymous_user()


def load_user_from_token(req: Any) -> User | None:
    """Return the user of a valid ``Authorization: Token <key>`` (NetBox's scheme)."""
    header = req.headers.get("Authorization", "")
    scheme, _sep, key = header.partition(" ")
    if scheme.lower() != "token" or not key:
        return None
    found = authenticate_token(db_session(), key)
    if found is None:
        return None
    user, token = found
    if db_session().dirty:
        commit()  # last_used_at moved (at most once a minute); a write session stays IMMEDIATE
    g.api_token = token
    return user


def current_actor() -> Actor:
    """The Actor for audit entries made by this request."""
    channel = "api" if g.get("api_token") is not None else "web"
    return Actor.for_user(current_user, channel)


def roles_required(*roles: Role | str) -> Callable[[F], F]:
    """Allow only signed-in users with one of *roles* (admins always pass)."""
    allowed = {str(r) for r in roles} | {Role.ADMIN.value}

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in allowed:
                abort(403, _("Your role may not use this page."))
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def _safe_next(target: str | None) -> str:
    # Only same-site relative paths: never an open redirect to another host.
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.netloc and not parts.scheme:
            return target
    return url_for("home.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Show the sign-in form and sign a user in."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        username = form.username.data.strip()
        address = request.remote_addr or "-"
        if _throttle().blocked(username, address):
            error = _("Too many failed sign-ins. Try again in 15 minutes.")
            status = 429
        else:
            user = authenticate(db_session(), username, form.password.data)
            if user is None:
                _throttle().failed(username, address)
                logger.bind(user=username, address=address).warning("sign-in failed")
                error = _("Wrong username or password.")
                status = 401
            else:
                _throttle().succeeded(username, address)
                commit()
                session.clear()
                wall = user.role == Role.NOC.value
                login_user(user, remember=wall, duration=WALL_REMEMBER if wall else None)
                session.permanent = True
                logger.bind(user=user.username, address=address).info("signed in")
                return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 400
    return render_template("login.html", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    """Sign out (POST with CSRF, so no other site can sign a user out)."""
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code: str) -> Any:
    """Remember the chosen UI language for this browser session."""
    if code in LANGUAGES:
        session["lang"] = code
    return redirect(_safe_next(request.form.get("next")))
