"""NAC fixtures: OPDs, users and tokens on both databases, and the Flask test client."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from nac.rules import set_vlan
from simpul.audit import Actor
from simpul.context import AppContext
from simpul.tenancy import create_opd
from simpul.tokens import create_token
from simpul.users import create_user
from webui import create_app

PASSWORD = "nac-password-123"
USERS = {"admin": ("admin", "DISKOMINFO"), "itsup": ("it_support", "DISKOMINFO"),
         "desk": ("helpdesk", "DISKOMINFO"), "rina": ("requester", "DINKES"),
         "budi": ("requester", "DISDIK")}


def seed(app_context: AppContext) -> None:
    """Three OPDs, one user per role of interest, and a default VLAN map."""
    actor = Actor.system("test")
    with app_context.db.session() as s:
        create_opd(s, actor, "DISKOMINFO", "Dinas Kominfo", is_operator=True)
        create_opd(s, actor, "DINKES", "Dinas Kesehatan")
        create_opd(s, actor, "DISDIK", "Dinas Pendidikan")
        for name, (role, opd) in USERS.items():
            create_user(s, actor, name, role=role, opd_code=opd, password=PASSWORD)
        set_vlan(s, actor, "DINKES", "staff", 110)
        set_vlan(s, actor, None, "staff", 100)
        set_vlan(s, actor, None, "printer", 120)


@pytest.fixture
def nac_app(app_context: AppContext) -> Flask:
    seed(app_context)
    return create_app({"TESTING": True}, context=app_context)


@pytest.fixture
def client(nac_app: Flask) -> FlaskClient:
    return nac_app.test_client()


@pytest.fixture
def tokens(app_context: AppContext, nac_app: Flask) -> dict[str, dict[str, str]]:
    """``Authorization`` headers per username."""
    out: dict[str, dict[str, Any]] = {}
    with app_context.db.session() as s:
        for name in USERS:
            out[name] = {"Authorization": f"Token {create_token(s, Actor.system('t'), name).key}"}
    return out
