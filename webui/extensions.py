"""Flask extensions and request plumbing: DB session, login, CSRF, i18n, headers, errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, g, jsonify, render_template, request, session
from flask_babel import Babel
from flask_babel import gettext as _
from flask_login import LoginManager
from flask_wtf.csrf import CSRFError, CSRFProtect
from loguru import logger
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from simpul.context import AppContext
from simpul.errors import SimpulError
from simpul.models import User

LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'self'; object-src 'none'"
)

csrf = CSRFProtect()
babel = Babel()
login_manager = LoginManager()


def app_context() -> AppContext:
    """Return the simpul AppContext of the running app."""
    from flask import current_app

    return current_app.extensions["simpul"]


def db_session() -> Session:
    """Return this request's database session (one per request, closed on teardown)."""
    if "db_session" not in g:
        writes = request.method not in ("GET", "HEAD", "OPTIONS")
        g.db_session = app_context().db.new_session(write=writes)
    return g.db_session


def commit() -> None:
    """Commit the request's work; a constraint violation becomes a 409 ConflictError."""
    from sqlalchemy.exc import IntegrityError

    from simpul.errors import ConflictError

    try:
        db_session().commit()
    except IntegrityError as exc:
        db_session().rollback()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ConflictError(f"the change conflicts with existing data: {reason}") from None


def _close_session(exc: BaseException | None) -> None:
    sess: Session | None = g.pop("db_session", None)
    if sess is not None:
        if exc is not None:
            sess.rollback()
        sess.close()


def select_locale() -> str:
    """Language: explicit choice in the session, else the browser's, else Indonesian."""
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(list(LANGUAGES))
    return best or app_context().settings.default_locale


def wants_json() -> bool:
    """True for API calls, which get JSON errors instead of HTML pages."""
    return request.path.startswith("/api/") or request.path == "/healthz"


def error_response(status: int, detail: str, errors: dict[str, list[str]] | None = None) -> Any:
    """One error shape for the API (``detail`` + ``errors``) and one page for browsers."""
    if wants_json():
        return jsonify({"detail": detail, "errors": errors or {}}), status
    return render_template("error.html", status=status, detail=detail), status


def _security_headers(response: Any) -> Any:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if "text/html" in response.content_type:
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    """Wire every extension and handler into *app*."""
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def _load_user(user_id: str) -> User | None:
        user = db_session().get(User, int(user_id))
        return user if user is not None and user.is_active else None

    from webui.auth import authenticate_token_header

    app.before_request(authenticate_token_header)

    @login_manager.unauthorized_handler
    def _unauthorized() -> Any:
        if wants_json():
            return error_response(401, _("Authentication required."))
        from flask import redirect, url_for

        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    app.teardown_appcontext(_close_session)
    app.after_request(_security_headers)

    @app.template_filter("localtime")
    def _localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        """Show a stored UTC time in the office's timezone (WIB by default), labelled."""
        if value is None:
            return ""
        if value.tzinfo is None:  # SQLite hands back naive UTC
            value = value.replace(tzinfo=UTC)
        local = value.astimezone(ZoneInfo(app.extensions["simpul"].settings.timezone))
        return f"{local.strftime(fmt)} {local.tzname()}"

    @app.context_processor
    def _template_globals() -> dict[str, Any]:
        from flask_babel import get_locale

        return {"languages": LANGUAGES, "current_locale": str(get_locale())}

    @app.errorhandler(SimpulError)
    def _simpul_error(exc: SimpulError) -> Any:
        return error_response(exc.http_status, exc.message, exc.errors)

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> Any:
        return error_response(400, _("The form expired or was not sent by simpul. "
                                     "Reload the page and try again."))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        return error_response(exc.code or 500, exc.description or exc.name)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        logger.opt(exception=exc).error("unhandled error on {} {}", request.method, request.path)
        return error_response(500, _("Internal error; it has been logged."))
