"""Shared fixtures: databases on SQLite and a real, throw-away PostgreSQL cluster."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from simpul import migrate
from simpul.context import AppContext
from simpul.db import Database
from simpul.settings import Settings, load_settings
from tests.pgcluster import PgCluster

pytest_plugins = ["tests.browser"]

_db_counter = itertools.count(1)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """One PostgreSQL cluster for the whole session (the test command installs it as root)."""
    try:
        cluster = PgCluster.start()
    except RuntimeError as exc:
        if os.geteuid() != 0:
            pytest.skip(f"PostgreSQL unavailable and not root to install it: {exc}")
        pytest.fail(str(exc))
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database URL, once per backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'simpul.db'}"
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database(f"t{os.getpid()}_{next(_db_counter)}")


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings isolated in a temp data directory, on the parametrised database."""
    return load_settings(env={}, data_dir=str(tmp_path / "data"), database_url=db_url,
                         secret_key="test-secret-key-not-for-production")


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    """A migrated, empty database."""
    database = Database.from_settings(settings)
    migrate.upgrade(database)
    yield database
    database.dispose()


@pytest.fixture
def app_context(settings: Settings, db: Database) -> AppContext:
    """Settings plus the migrated database, as the CLI and web app hold them."""
    return AppContext(settings=settings, db=db)
