"""Helpers every inventory service shares: field errors, snapshots, lookups, locks.

Services validate everything first and raise one ``InventoryValidationError`` with all
field errors, before touching the session, so a rejected change writes nothing.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import Session

from inventory.errors import InventoryNotFoundError, InventoryValidationError
from simpul.audit import Actor, record

T = TypeVar("T")

# Audit action names are "<model>.<verb>"; the model is the table name minus its app.


class FieldErrors:
    """Collects ``{field: [message, ...]}`` and raises them together."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        """Record *message* against *field*."""
        self.errors.setdefault(field, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self, summary: str | None = None) -> None:
        """Raise InventoryValidationError when anything was recorded."""
        if not self.errors:
            return
        if summary is None:
            field, messages = next(iter(self.errors.items()))
            summary = f"{field}: {messages[0]}"
        raise InventoryValidationError(summary, errors=self.errors)


def invalid(field: str, message: str) -> InventoryValidationError:
    """Return a one-field validation error (``raise invalid("vid", "...")``)."""
    return InventoryValidationError(f"{field}: {message}", errors={field: [message]})


def jsonable(value: Any) -> Any:
    """Return *value* in a form the JSON audit columns store."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot(obj: Any) -> dict[str, Any]:
    """Return the column values of *obj* (without timestamps) for the audit log."""
    mapper = inspect(type(obj))
    return {c.key: jsonable(getattr(obj, c.key)) for c in mapper.column_attrs
            if c.key not in ("created_at", "updated_at")}


def audit(session: Session, actor: Actor, verb: str, obj: Any, *,
          before: dict[str, Any] | None = None, deleted: bool = False) -> None:
    """Write the audit entry for *verb* on *obj* inside the current transaction."""
    table = type(obj).__tablename__
    name = table.split("_", 1)[1] if "_" in table else table
    after = None if deleted else snapshot(obj)
    record(session, actor, f"{name}.{verb}", obj, before=before, after=after,
           opd_id=getattr(obj, "opd_id", None))


def get_by_id(session: Session, model: type[T], obj_id: int | None) -> T | None:
    """Return the object of *model* with *obj_id*, or None."""
    if obj_id is None:
        return None
    return session.get(model, obj_id)


def require(session: Session, model: type[T], obj_id: int, field: str = "id") -> T:
    """Return the object or raise a 404 keyed by *field*."""
    obj = session.get(model, obj_id) if obj_id is not None else None
    if obj is None:
        label = getattr(model, "__tablename__", model.__name__)
        raise InventoryNotFoundError(f"{label} {obj_id} does not exist",
                                     errors={field: [f"{obj_id} does not exist"]})
    return obj


def check_ref(session: Session, errs: FieldErrors, model: type, field: str,
              value: int | None) -> Any:
    """Record a field error when a referenced id does not exist; return the object."""
    if value is None:
        return None
    obj = session.get(model, value)
    if obj is None:
        errs.add(field, f"{value} does not exist")
    return obj


def check_choice(errs: FieldErrors, field: str, value: Any, allowed: tuple[Any, ...]) -> None:
    """Record a field error when *value* is not one of *allowed*."""
    if value not in allowed:
        errs.add(field, f"{value!r} is not one of: {', '.join(map(str, allowed))}")


def check_text(errs: FieldErrors, field: str, value: Any, max_len: int,
               *, required: bool = True) -> None:
    """Record a field error for empty (when required) or too-long text."""
    if not isinstance(value, str):
        errs.add(field, "must be text")
    elif required and not value.strip():
        errs.add(field, "required")
    elif len(value) > max_len:
        errs.add(field, f"at most {max_len} characters")


def check_unique(session: Session, errs: FieldErrors, model: type, field: str,
                 conditions: dict[str, Any], *, exclude_id: int | None,
                 message: str = "already exists") -> None:
    """Record a field error when another row matches all *conditions*."""
    stmt = select(func.count()).select_from(model)
    for column, value in conditions.items():
        stmt = stmt.where(getattr(model, column) == value)
    if exclude_id is not None:
        stmt = stmt.where(model.id != exclude_id)
    if session.scalar(stmt):
        errs.add(field, message)


def merge(obj: Any, changes: dict[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    """Return the current field values of *obj* overlaid with *changes*.

    Raises:
        InventoryValidationError: a field that cannot be changed.
    """
    errs = FieldErrors()
    for key in changes:
        if key not in allowed:
            errs.add(key, "unknown or read-only field")
    errs.raise_if_any()
    values = {key: getattr(obj, key) for key in allowed} if obj is not None else {}
    values.update(changes)
    return values


def apply(obj: Any, values: dict[str, Any]) -> None:
    """Set *values* on *obj*."""
    for key, value in values.items():
        setattr(obj, key, value)


def create_object(session: Session, actor: Actor, model: type[T], values: dict[str, Any],
                  validate: Callable[[Session, dict[str, Any], Any], Any]) -> T:
    """Validate *values*, create the object and audit it; nothing is added on failure.

    A validator may return derived columns (the hex keys of an address or range);
    they are stored beside the given values.
    """
    derived = validate(session, values, None)
    obj = model(**{**values, **(derived if isinstance(derived, dict) else {})})
    session.add(obj)
    audit(session, actor, "create", obj)
    return obj


def update_object(session: Session, actor: Actor, model: type[T], obj_id: int,
                  changes: dict[str, Any], allowed: frozenset[str],
                  validate: Callable[[Session, dict[str, Any], Any], Any]) -> T:
    """Apply *changes* to one object after validating the merged values; audit before/after.

    The shape every ``update_*`` service shares: nothing is written when validation
    fails, and the audit entry holds the snapshot taken before the change.
    """
    obj = require(session, model, obj_id)
    values = merge(obj, changes, allowed)
    validate(session, values, obj)
    before = snapshot(obj)
    apply(obj, values)
    audit(session, actor, "update", obj, before=before)
    return obj


# Lock namespaces for pg_advisory_xact_lock(namespace, key).
LOCK_PREFIXES = 1
LOCK_ADDRESSES = 2
LOCK_RACK = 3


def lock(session: Session, namespace: int, key: int | str) -> None:
    """Serialise allocations on one scope (a VRF, a rack) until the transaction ends.

    PostgreSQL: a transaction-level advisory lock. SQLite: the write session's
    ``BEGIN IMMEDIATE`` already holds the database's single write lock; a deferred
    session would let two allocators read the same free space, so it is refused.
    """
    if isinstance(key, str):
        key = zlib.crc32(key.encode()) & 0x7FFFFFFF
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:ns, :key)"),
                        {"ns": namespace, "key": key})
    elif conn.dialect.name == "sqlite" and not conn.get_execution_options().get(
            "sqlite_immediate"):
        raise RuntimeError("inventory allocations need a write session "
                           "(db.session(write=True)) on SQLite")
