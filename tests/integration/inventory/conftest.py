"""Helpers for inventory tests on both databases."""

from __future__ import annotations

import pytest

from simpul.audit import Actor
from simpul.db import Database
from simpul.tenancy import create_opd


@pytest.fixture
def actor() -> Actor:
    """The actor every test change is recorded under."""
    return Actor.system("test")


@pytest.fixture
def opd_ids(db: Database, actor: Actor) -> dict[str, int]:
    """Two OPD tenants: the operator and one office."""
    with db.session() as s:
        kominfo = create_opd(s, actor, "DISKOMINFO", "Diskominfo", is_operator=True)
        dinkes = create_opd(s, actor, "DINKES", "Dinas Kesehatan")
        s.flush()
        return {"DISKOMINFO": kominfo.id, "DINKES": dinkes.id}
