"""`simpul db upgrade` builds the same schema on SQLite and PostgreSQL, with no drift."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import inspect, types

from simpul import migrate
from simpul.db import Database
from tests.pgcluster import PgCluster

_FAMILIES: tuple[tuple[type, str], ...] = (
    (types.Boolean, "bool"),
    (types.BigInteger, "bigint"),
    (types.Integer, "int"),
    (types.DateTime, "datetime"),
    (types.JSON, "json"),
    (types.Text, "text"),
    (types.String, "string"),
    (types.Float, "float"),
    (types.Numeric, "numeric"),
    (types.LargeBinary, "binary"),
)


def _family(col_type: Any) -> str:
    for cls, name in _FAMILIES:
        if isinstance(col_type, cls):
            length = getattr(col_type, "length", None)
            return f"{name}({length})" if name == "string" else name
    return type(col_type).__name__.lower()


def schema_of(db: Database) -> dict[str, Any]:
    """A backend-neutral description: columns, keys, indexes and constraints per table."""
    insp = inspect(db.engine)
    schema: dict[str, Any] = {}
    for table in sorted(insp.get_table_names()):
        pk = insp.get_pk_constraint(table)["constrained_columns"]
        columns = {c["name"]: (_family(c["type"]), c["nullable"])
                   for c in insp.get_columns(table)}
        # A 64-bit surrogate key is BIGINT on PostgreSQL and INTEGER on SQLite, where only
        # "INTEGER PRIMARY KEY" is the (already 64-bit) auto-numbering rowid.
        if len(pk) == 1 and columns[pk[0]][0] == "bigint":
            columns[pk[0]] = ("int", columns[pk[0]][1])
        schema[table] = {
            "columns": columns,
            "pk": pk,
            "fks": sorted((fk["name"], tuple(fk["constrained_columns"]), fk["referred_table"],
                           (fk.get("options") or {}).get("ondelete"))
                          for fk in insp.get_foreign_keys(table)),
            # PostgreSQL also lists the index behind each unique constraint; SQLite does not.
            "indexes": sorted((ix["name"], tuple(ix["column_names"]), bool(ix["unique"]))
                              for ix in insp.get_indexes(table)
                              if not ix.get("duplicates_constraint")),
            "uniques": sorted((uq["name"], tuple(uq["column_names"]))
                              for uq in insp.get_unique_constraints(table)),
            "checks": sorted(ck["name"] for ck in insp.get_check_constraints(table)),
        }
    return schema


def test_same_schema_on_sqlite_and_postgresql(tmp_path: Path, pg_cluster: PgCluster) -> None:
    lite = Database(f"sqlite:///{tmp_path / 'a.db'}")
    pg = Database(pg_cluster.create_database("schema_compare"))
    try:
        migrate.upgrade(lite)
        migrate.upgrade(pg)
        assert migrate.pending(lite) == [] and migrate.pending(pg) == []
        assert migrate.current_revision(lite) == migrate.current_revision(pg)
        lite_schema, pg_schema = schema_of(lite), schema_of(pg)
        assert "users" in lite_schema and "audit_log" in lite_schema
        assert lite_schema == pg_schema
    finally:
        lite.dispose()
        pg.dispose()


def test_no_drift_and_upgrade_is_idempotent(db: Database) -> None:
    assert migrate.check(db) == []
    assert migrate.is_current(db)
    before = migrate.current_revision(db)
    assert migrate.upgrade(db) == before  # a second run changes nothing
    assert migrate.pending(db) == []
    assert migrate.check(db) == []


def test_check_reports_drift(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE stray (id INTEGER PRIMARY KEY)")
    diffs = migrate.check(db)
    assert any("stray" in line for line in diffs)
