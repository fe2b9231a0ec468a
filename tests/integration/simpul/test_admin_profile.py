"""User administration and the profile page, through the browser-facing forms."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from simpul.audit import Actor, list_entries
from simpul.context import AppContext
from simpul.models import User
from simpul.tenancy import create_opd
from simpul.tokens import authenticate_token
from simpul.users import authenticate, create_user, get_user

PASSWORD = "form-password-123"


@pytest.fixture
def app(app_context: AppContext) -> Flask:
    actor = Actor.system("test")
    with app_context.db.session() as s:
        create_opd(s, actor, "DISKOMINFO", "Dinas Kominfo", is_operator=True)
        create_opd(s, actor, "DINKES", "Dinas Kesehatan")
        create_user(s, actor, "admin", role="admin", opd_code="DISKOMINFO", password=PASSWORD)
        create_user(s, actor, "rina", role="requester", opd_code="DINKES", password=PASSWORD)
    return create_app_for(app_context)


def create_app_for(app_context: AppContext) -> Flask:
    from webui import create_app

    return create_app({"TESTING": True}, context=app_context)


def csrf(client: FlaskClient, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)[1]


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    client.post("/login", data={"username": username, "password": PASSWORD,
                                "csrf_token": csrf(client, "/login")})
    return client


def test_admin_creates_and_edits_users(app: Flask, app_context: AppContext) -> None:
    client = signed_in(app, "admin")
    assert 'href="/admin/users"' in client.get("/").get_data(as_text=True)  # in the menu
    token = csrf(client, "/admin/users")
    created = client.post("/admin/users", data={
        "csrf_token": token, "username": "sari", "full_name": "Sari", "email": "",
        "role": "infrastructure", "opd": "DISKOMINFO", "password": "sari-password-1"})
    assert created.status_code == 302
    with app_context.db.session() as s:
        sari = get_user(s, "sari")
        assert sari is not None and sari.role == "infrastructure"
        sari_id = sari.id
    refused = client.post("/admin/users", data={
        "csrf_token": token, "username": "bad", "role": "noc", "opd": "DINKES", "password": ""})
    assert refused.status_code == 400
    assert "can only be requesters" in refused.get_data(as_text=True)
    edited = client.post(f"/admin/users/{sari_id}", data={
        "csrf_token": token, "role": "noc", "opd": "DISKOMINFO"})  # is_active unchecked
    assert edited.status_code == 302
    with app_context.db.session() as s:
        sari = s.get(User, sari_id)
        assert sari.role == "noc" and sari.is_active is False
        entry = list_entries(s, action="user.update")[0]
        assert entry.channel == "web" and entry.actor_name == "admin"
        assert entry.before["role"] == "infrastructure" and entry.after["is_active"] is False


def test_requester_cannot_open_admin(app: Flask) -> None:
    client = signed_in(app, "rina")
    assert client.get("/admin/users").status_code == 403
    assert client.post("/admin/users/1", data={"role": "admin"}).status_code in (400, 403)
    page = client.get("/").get_data(as_text=True)
    assert "/admin/users" not in page  # no menu entry either


def test_profile_token_shown_once_and_revocable(app: Flask, app_context: AppContext) -> None:
    client = signed_in(app, "rina")
    token = csrf(client, "/profile/")
    response = client.post("/profile/tokens", data={"csrf_token": token,
                                                     "description": "laporan"})
    assert response.status_code == 201
    key = re.search(r'<code id="new-key">([0-9a-f]{40})</code>', response.get_data(as_text=True))[1]
    again = client.get("/profile/").get_data(as_text=True)
    assert key not in again and key[:8] in again
    with app_context.db.session() as s:
        found = authenticate_token(s, key)
        assert found is not None and found[1].description == "laporan"
        token_id = found[1].id
    assert client.post(f"/profile/tokens/{token_id}/revoke",
                       data={"csrf_token": token}).status_code == 302
    with app_context.db.session() as s:
        assert authenticate_token(s, key) is None


def test_cannot_revoke_someone_elses_token(app: Flask, app_context: AppContext) -> None:
    from simpul.tokens import create_token

    with app_context.db.session() as s:
        admin_token = create_token(s, Actor.system("t"), "admin")
        admin_key, admin_token_id = admin_token.key, admin_token.token.id
    client = signed_in(app, "rina")
    token = csrf(client, "/profile/")
    assert client.post(f"/profile/tokens/{admin_token_id}/revoke",
                       data={"csrf_token": token}).status_code == 404
    with app_context.db.session() as s:
        assert authenticate_token(s, admin_key) is not None


def test_password_change_needs_current_password(app: Flask, app_context: AppContext) -> None:
    client = signed_in(app, "rina")
    token = csrf(client, "/profile/")
    wrong = client.post("/profile/password", data={
        "csrf_token": token, "current": "not-my-password", "new": "brand-new-pass-1",
        "confirm": "brand-new-pass-1"})
    assert wrong.status_code == 400 and "Kata sandi saat ini salah" in wrong.get_data(as_text=True)
    mismatch = client.post("/profile/password", data={
        "csrf_token": token, "current": PASSWORD, "new": "brand-new-pass-1",
        "confirm": "brand-new-pass-2"})
    assert mismatch.status_code == 400
    short = client.post("/profile/password", data={
        "csrf_token": token, "current": PASSWORD, "new": "short", "confirm": "short"})
    assert short.status_code == 400
    with app_context.db.session() as s:
        assert authenticate(s, "rina", PASSWORD) is not None  # unchanged so far
    done = client.post("/profile/password", data={
        "csrf_token": token, "current": PASSWORD, "new": "brand-new-pass-1",
        "confirm": "brand-new-pass-1"})
    assert done.status_code == 200
    with app_context.db.session() as s:
        assert authenticate(s, "rina", "brand-new-pass-1") is not None
        assert authenticate(s, "rina", PASSWORD) is None
