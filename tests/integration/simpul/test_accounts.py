"""Users, OPD tenants, tokens and the audit log on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from simpul.audit import Actor, list_entries
from simpul.db import Database
from simpul.errors import ConflictError, NotFoundError, ValidationError
from simpul.models import ApiToken, AuditEntry, User
from simpul.tenancy import can_see_opd, create_opd
from simpul.tokens import authenticate_token, create_token, revoke_token
from simpul.users import authenticate, create_user, set_password, update_user

ACTOR = Actor(name="tester", channel="cli")


@pytest.fixture
def tenants(db: Database) -> Database:
    with db.session() as s:
        create_opd(s, ACTOR, "DISKOMINFO", "Dinas Komunikasi dan Informatika", is_operator=True)
        create_opd(s, ACTOR, "DINKES", "Dinas Kesehatan")
        create_opd(s, ACTOR, "DISDIK", "Dinas Pendidikan")
    return db


def _count(db: Database, model: type) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_password_is_stored_hashed_and_authenticates(tenants: Database) -> None:
    with tenants.session() as s:
        create_user(s, ACTOR, "Ani", role="helpdesk", opd_code="diskominfo",
                    password="helpdesk-password-1")
    with tenants.session() as s:
        stored = s.execute(text("SELECT password_hash FROM users WHERE username='ani'")).scalar()
        assert stored.startswith("$argon2id$") and "helpdesk-password-1" not in stored
        assert authenticate(s, "ani", "helpdesk-password-1") is not None
        assert authenticate(s, "ANI", "helpdesk-password-1") is not None
        assert authenticate(s, "ani", "wrong-password-xx") is None
        assert authenticate(s, "nobody", "helpdesk-password-1") is None


def test_user_changes_are_audited_without_secrets(tenants: Database) -> None:
    with tenants.session() as s:
        create_user(s, ACTOR, "budi", role="requester", opd_code="DINKES",
                    password="first-password-1")
    with tenants.session() as s:
        update_user(s, ACTOR, "budi", full_name="Budi Santoso", is_active=False)
        set_password(s, ACTOR, "budi", "second-password-2")
    with tenants.session() as s:
        entries = list_entries(s, object_type="User")
        actions = [e.action for e in entries]
        assert actions == ["user.set_password", "user.update", "user.create"]
        update = entries[1]
        assert update.before["is_active"] is True and update.after["is_active"] is False
        assert update.after["full_name"] == "Budi Santoso"
        assert update.actor_name == "tester" and update.channel == "cli"
        assert all(e.at is not None for e in entries)
        dump = repr([(e.before, e.after) for e in entries])
        assert "first-password-1" not in dump and "second-password-2" not in dump
        assert "$argon2" not in dump


def test_token_is_stored_hashed_and_checked(tenants: Database) -> None:
    with tenants.session() as s:
        create_user(s, ACTOR, "noc1", role="noc", opd_code="DISKOMINFO")
        issued = create_token(s, ACTOR, "noc1", description="grafana")
        key, token_id = issued.key, issued.token.id
    with tenants.session() as s:
        row = s.execute(text("SELECT key_prefix, key_hash FROM api_tokens")).one()
        assert key not in row.key_hash and row.key_prefix == key[:8]
        found = authenticate_token(s, key)
        assert found is not None and found[0].username == "noc1"
        assert authenticate_token(s, key[:-1] + ("0" if key[-1] != "0" else "1")) is None
        assert authenticate_token(s, "short") is None
    with tenants.session() as s:
        revoke_token(s, ACTOR, token_id)
    with tenants.session() as s:
        assert authenticate_token(s, key) is None
        actions = [e.action for e in list_entries(s, object_type="ApiToken")]
        assert actions == ["token.revoke", "token.create"]
        assert key not in repr([(e.before, e.after) for e in list_entries(s)])


def test_expired_token_and_disabled_user_are_refused(tenants: Database) -> None:
    with tenants.session() as s:
        create_user(s, ACTOR, "ops", role="noc", opd_code="DISKOMINFO")
        key = create_token(s, ACTOR, "ops").key
        short = create_token(s, ACTOR, "ops", expires_at=datetime.now(UTC) + timedelta(hours=1))
        short.token.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        short_key = short.key
    with tenants.session() as s:
        assert authenticate_token(s, short_key) is None
        assert authenticate_token(s, key) is not None
        update_user(s, ACTOR, "ops", is_active=False)
    with tenants.session() as s:
        assert authenticate_token(s, key) is None


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"role": "wizard", "opd_code": "DISKOMINFO"}, ValidationError, "unknown role 'wizard'"),
        ({"role": "noc", "opd_code": "DINKES"}, ValidationError, "can only be requesters"),
        ({"role": "requester", "opd_code": "NOPE"}, NotFoundError, "unknown OPD 'NOPE'"),
        ({"role": "requester", "opd_code": "DINKES", "password": "short"}, ValidationError,
         "at least 10"),
    ],
)
def test_bad_user_input_changes_nothing(tenants: Database, kwargs: dict, error: type,
                                        message: str) -> None:
    users, audits = _count(tenants, User), _count(tenants, AuditEntry)
    with pytest.raises(error, match=message), tenants.session() as s:
        create_user(s, ACTOR, "eve", **kwargs)
    assert (_count(tenants, User), _count(tenants, AuditEntry)) == (users, audits)


def test_duplicate_username_is_a_conflict(tenants: Database) -> None:
    with tenants.session() as s:
        create_user(s, ACTOR, "dewi", role="requester", opd_code="DISDIK")
    with pytest.raises(ConflictError, match="already exists"), tenants.session() as s:
        create_user(s, ACTOR, "DEWI", role="requester", opd_code="DINKES")


def test_concurrent_creation_of_one_username_yields_one_user(tenants: Database) -> None:
    """20 workers race to create the same account: exactly one wins, none corrupts."""
    barrier = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        barrier.wait()
        try:
            with tenants.session() as s:
                create_user(s, Actor(name=f"w{n}", channel="cli"), "racer", role="requester",
                            opd_code="DINKES")
            result = "created"
        except ConflictError:
            result = "conflict"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["conflict"] * 19 + ["created"]
    with tenants.session() as s:
        assert s.scalar(select(func.count()).where(User.username == "racer")) == 1
        assert len(list_entries(s, action="user.create")) == 1


def test_tenancy_visibility(tenants: Database) -> None:
    with tenants.session() as s:
        staff = create_user(s, ACTOR, "infra1", role="infrastructure", opd_code="DISKOMINFO")
        dinkes = create_user(s, ACTOR, "dinkes1", role="requester", opd_code="DINKES")
        s.flush()
        disdik_id = create_user(s, ACTOR, "disdik1", role="requester", opd_code="DISDIK").opd_id
        assert can_see_opd(staff, disdik_id)
        assert can_see_opd(dinkes, dinkes.opd_id)
        assert not can_see_opd(dinkes, disdik_id)
        assert not can_see_opd(dinkes, None)


def test_foreign_keys_are_enforced(tenants: Database) -> None:
    with pytest.raises(ConflictError), tenants.session() as s:
        s.add(User(username="ghost", role="requester", opd_id=9999))
    assert _count(tenants, User) == 0
    with pytest.raises(ConflictError), tenants.session() as s:
        s.add(ApiToken(user_id=424242, key_prefix="abcdefgh", key_hash="0" * 64))


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'wal.db'}")
    with database.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    database.dispose()


def test_sqlite_write_session_keeps_the_write_lock_after_a_commit(tmp_path: Path) -> None:
    """Allocation locks rely on it: a request may commit (token use) before it allocates."""
    import sqlite3

    from sqlalchemy import text as sql

    path = tmp_path / "lock.db"
    database = Database(f"sqlite:///{path}")
    session = database.new_session(write=True)
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        session.execute(sql("SELECT 1"))
        session.commit()
        session.execute(sql("SELECT 1"))  # the next transaction of the same session
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        session.rollback()
        other.execute("BEGIN IMMEDIATE")  # free again once the session is done
        other.execute("ROLLBACK")
        reader = database.new_session(write=False)
        reader.execute(sql("SELECT 1"))
        other.execute("BEGIN IMMEDIATE")  # a read session takes no write lock
        other.execute("ROLLBACK")
        reader.close()
    finally:
        other.close()
        session.close()
        database.dispose()


def test_token_use_is_recorded_at_most_once_a_minute(tenants: Database) -> None:
    with tenants.session() as s:
        create_user(s, ACTOR, "poller", role="noc", opd_code="DISKOMINFO")
        key = create_token(s, ACTOR, "poller").key
    def utc(value: datetime) -> datetime:  # SQLite returns naive UTC
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    with tenants.session() as s:
        first = utc(authenticate_token(s, key)[1].last_used_at)
    with tenants.session() as s:
        token = authenticate_token(s, key)[1]
        assert utc(token.last_used_at) == first and not s.dirty
        token.last_used_at = first - timedelta(minutes=2)
    with tenants.session() as s:
        assert utc(authenticate_token(s, key)[1].last_used_at) > first - timedelta(minutes=2)
