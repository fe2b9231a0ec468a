"""Database engine and sessions: SQLite (WAL, foreign keys on) or PostgreSQL, same URL setting.

Services take a ``Session`` and never commit on their own behalf unless they are the
unit of work; ``session_scope`` gives the CLI and the web app one transaction per
operation, rolled back on any error so a failed change leaves nothing behind.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from simpul.errors import ConfigError, ConflictError, DatabaseError
from simpul.settings import Settings, ensure_data_dir, validate_database_url


def safe_url(url: str) -> str:
    """Return *url* with its password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid database URL>"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the web UI read while collectors write; foreign keys are off by default
    # in SQLite and must be switched on per connection.
    if isinstance(dbapi_conn, sqlite3.Connection):
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()


def _sqlite_begin(conn: Any) -> None:
    # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; take it over.
    # Writers start IMMEDIATE: a deferred transaction that later needs the write lock can
    # fail with "database is locked" at once instead of waiting for busy_timeout.
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str, *, settings: Settings | None = None, echo: bool = False) -> Engine:
    """Create an engine for *url*, preparing the SQLite file's directory when needed.

    Raises:
        ConfigError: unsupported scheme or an unusable SQLite location.
    """
    validate_database_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"database URL is malformed: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            parent = Path(database).expanduser().resolve().parent
            if settings is not None and parent == settings.data_dir.expanduser().resolve():
                ensure_data_dir(settings)
            elif not parent.is_dir():
                raise ConfigError(f"directory {parent} for the SQLite database does not exist")
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)

        @event.listens_for(engine, "connect")
        def _no_pysqlite_tx(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None

        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, echo=echo, pool_pre_ping=True, connect_args={"connect_timeout": 5})


def check_connection(engine: Engine) -> float:
    """Open a connection and run a trivial query; return the round-trip in milliseconds.

    Raises:
        DatabaseError: with the reason in one line (host unreachable, auth failed, ...).
    """
    started = time.perf_counter()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (OperationalError, DBAPIError) as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseError(
            f"cannot connect to database {safe_url(str(engine.url))}: {reason}"
        ) from None
    return (time.perf_counter() - started) * 1000


def _reason(exc: DBAPIError) -> str:
    return str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)


class Database:
    """An engine plus its session factory: one per process and database URL."""

    def __init__(self, url: str, *, settings: Settings | None = None) -> None:
        self.url = url
        self.engine = make_engine(url, settings=settings)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        # Every transaction of a write session begins IMMEDIATE on SQLite, including the
        # ones after a commit inside the same request (an option on the bind, not on one
        # connection); on PostgreSQL the option means nothing.
        self.write_sessionmaker = sessionmaker(
            self.engine.execution_options(sqlite_immediate=True), expire_on_commit=False
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        """Open the database the settings name."""
        return cls(settings.database_url, settings=settings)

    @property
    def backend(self) -> str:
        """Return ``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def new_session(self, *, write: bool = False) -> Session:
        """Return a session; with ``write=True`` each transaction takes SQLite's write lock."""
        return self.write_sessionmaker() if write else self.sessionmaker()

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """Yield a session whose work is committed on success and rolled back on error.

        A unique or foreign-key violation found at commit (two callers racing for the
        same name) becomes a ConflictError; nothing of the transaction is kept.
        """
        session = self.new_session(write=write)
        try:
            yield session
            session.commit()
        except IntegrityError as exc:
            session.rollback()
            raise ConflictError(
                f"the change conflicts with existing data: {_reason(exc)}"
            ) from None
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        """Close every pooled connection (at shutdown and in tests)."""
        self.engine.dispose()
