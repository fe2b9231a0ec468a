"""The per-process application context: settings plus the open database.

Built lazily by the CLI and the app factory so that ``simpul --help`` works with a
broken configuration, and so that each process opens its database exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simpul.db import Database
from simpul.logging import register_secret
from simpul.settings import Settings, ensure_data_dir, load_settings


@dataclass
class AppContext:
    """Settings and database of one simpul process."""

    settings: Settings
    db: Database

    @classmethod
    def create(cls, settings: Settings | None = None) -> AppContext:
        """Load settings (unless given), prepare the data directory, open the database."""
        settings = settings or load_settings()
        register_secret(settings.secret_key)
        if settings.database_backend == "sqlite":
            ensure_data_dir(settings)
        return cls(settings=settings, db=Database.from_settings(settings))

    @classmethod
    def of_command(cls, click_ctx: Any) -> AppContext:
        """Return the AppContext of this CLI invocation, created on first use.

        Every command group (core and plugins) shares it through click's context object,
        so one ``simpul`` process opens one database engine.
        """
        obj = click_ctx.ensure_object(dict)
        if "app" not in obj:
            obj["app"] = cls.create()
        app: AppContext = obj["app"]
        return app
