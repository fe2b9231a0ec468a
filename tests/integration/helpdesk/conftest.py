"""Helpdesk fixtures: Diskominfo with one user per SOP role, two OPDs, tokens, an app."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from inventory.ipam.prefixes import create_prefix
from simpul.audit import Actor
from simpul.context import AppContext
from simpul.models import User
from simpul.tenancy import create_opd
from simpul.tokens import create_token
from simpul.users import create_user

# The browser fixtures (live_server, browser, page) come from the tests.browser plugin.
from webui import create_app

STAFF = ("helpdesk", "it_support", "infrastructure", "datacenter", "leadership", "admin")
USERS = {**{role: (role, "DISKOMINFO") for role in STAFF},
         "rina": ("requester", "DINKES"), "budi": ("requester", "BAPPEDA")}


@pytest.fixture
def people(app_context: AppContext) -> dict[str, str]:
    """Create the OPDs and users; return username -> role."""
    actor = Actor.system("test")
    with app_context.db.session() as s:
        create_opd(s, actor, "DISKOMINFO", "Dinas Komunikasi dan Informatika", is_operator=True)
        create_opd(s, actor, "DINKES", "Dinas Kesehatan")
        create_opd(s, actor, "BAPPEDA", "Badan Perencanaan Pembangunan Daerah")
        for username, (role, opd) in USERS.items():
            create_user(s, actor, username, role=role, opd_code=opd)
    return {u: r for u, (r, _o) in USERS.items()}


@pytest.fixture
def prefix_id(app_context: AppContext, people: dict[str, str]) -> int:
    """An OPD LAN prefix (RFC 5737) to allocate from."""
    with app_context.db.session() as s:
        prefix = create_prefix(s, Actor.system("test"), prefix="192.0.2.0/24")
        s.flush()
        return prefix.id


@pytest.fixture
def app(app_context: AppContext, people: dict[str, str]) -> Flask:
    return create_app({"TESTING": True}, context=app_context)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def tokens(app_context: AppContext, people: dict[str, str]) -> dict[str, dict[str, str]]:
    """username -> Authorization header."""
    headers = {}
    with app_context.db.session() as s:
        for username in people:
            key = create_token(s, Actor.system("test"), username).key
            headers[username] = {"Authorization": f"Token {key}"}
    return headers


def user(app_context: AppContext, username: str) -> Any:
    """Load a user (with OPD) in a fresh session, detached, for service calls in tests."""
    from sqlalchemy import select

    with app_context.db.session() as s:
        return s.scalar(select(User).where(User.username == username))
