"""The simpul web UI and JSON API: a Flask app factory and one blueprint per domain.

Views only handle requests: they call the same service functions as the CLI, inside the
request's database session, and commit when the service succeeded.
"""

from __future__ import annotations

import importlib
from typing import Any

from flask import Flask

from simpul.context import AppContext
from simpul.logging import setup_logging
from simpul.plugins import optional_import
from simpul.settings import resolve_secret_key

# Each module exposes ``bp`` and may expose ``NAV`` (menu entries, see webui.nav).
BLUEPRINT_MODULES = (
    "webui.auth",
    "webui.home",
    "webui.health",
    "webui.api",
    "webui.admin",
    "webui.profile",
)
# Domains that land issue by issue; registered when present.
OPTIONAL_BLUEPRINT_MODULES = (
    "webui.inventory_api",
    "webui.dcim",
    "webui.ipam",
    "webui.helpdesk",
    "webui.nac",
    "webui.noc",
    "webui.siem",
    "webui.playbooks",
    "webui.metrics",
    "webui.alerts",
    "webui.flows",
)


def create_app(test_config: dict[str, Any] | None = None, *,
               context: AppContext | None = None) -> Flask:
    """Build the app: settings, then the optional test mapping; extensions; blueprints."""
    app_ctx = context or AppContext.create()
    settings = app_ctx.settings
    setup_logging(settings.log_level, settings.log_json_file or None)

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=resolve_secret_key(settings),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=settings.session_cookie_secure,
        SESSION_COOKIE_NAME="simpul_session",
        PERMANENT_SESSION_LIFETIME=8 * 3600,
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_LOCALE=settings.default_locale,
        BABEL_TRANSLATION_DIRECTORIES="translations",
        MAX_CONTENT_LENGTH=32 * 1024 * 1024,
        JSON_SORT_KEYS=False,
    )
    if test_config:
        app.config.update(test_config)
    app.extensions["simpul"] = app_ctx

    from webui import extensions
    from webui.nav import register_nav

    extensions.init_app(app)
    modules = [importlib.import_module(name) for name in BLUEPRINT_MODULES]
    modules += [m for m in map(optional_import, OPTIONAL_BLUEPRINT_MODULES) if m is not None]
    for module in modules:
        app.register_blueprint(module.bp)
    register_nav(app, modules)
    return app
