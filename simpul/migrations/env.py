"""Alembic environment: runs against the connection or URL simpul hands it."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection

from simpul.db import make_engine
from simpul.models.registry import load_all_models, table_packages

config = context.config
target_metadata = load_all_models()
TABLE_PACKAGES = table_packages()  # once: include_object runs for every compared object


def _include_object(obj: Any, name: str | None, type_: str, reflected: bool,
                    compare_to: Any) -> bool:
    """When writing one package's revision, look only at that package's tables."""
    only = config.attributes.get("only_package")
    if only is None:
        return True
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return TABLE_PACKAGES.get(table or "") == only


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        compare_server_default=True,
        include_object=_include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Use the caller's connection when given (tests, `simpul db upgrade`), else the URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _configure(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("simpul migrations run online only: use `simpul db upgrade`")
run_migrations_online()
