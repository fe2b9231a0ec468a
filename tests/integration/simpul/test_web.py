"""The web shell: sign-in, CSRF, token API, tenancy-aware identity, headers, languages."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from simpul.audit import Actor
from simpul.context import AppContext
from simpul.db import Database
from simpul.settings import load_settings
from simpul.tenancy import create_opd
from simpul.tokens import create_token
from simpul.users import create_user
from webui import create_app

PASSWORD = "web-password-123"


@pytest.fixture
def app(app_context: AppContext) -> Flask:
    actor = Actor.system("test")
    with app_context.db.session() as s:
        create_opd(s, actor, "DISKOMINFO", "Dinas Kominfo", is_operator=True)
        create_opd(s, actor, "DINKES", "Dinas Kesehatan")
        create_user(s, actor, "admin", role="admin", opd_code="DISKOMINFO", password=PASSWORD,
                    full_name="Admin Kominfo")
        create_user(s, actor, "rina", role="requester", opd_code="DINKES", password=PASSWORD)
    return create_app({"TESTING": True}, context=app_context)


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as c:
        yield c


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(client: FlaskClient, username: str, password: str = PASSWORD, **kw: str):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token}, **kw)


def test_pages_require_sign_in(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 302 and "/login?next=/" in response.location
    api = client.get("/api/users/me")
    assert api.status_code == 401
    assert api.get_json() == {"detail": "Harus masuk terlebih dahulu.", "errors": {}}


def test_sign_in_and_out(client: FlaskClient) -> None:
    response = login(client, "admin")
    assert response.status_code == 302 and response.location == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Selamat datang, Admin Kominfo" in page
    assert "user.create" in page  # Diskominfo staff see recent changes
    assert re.search(r"<td>\d{4}-\d\d-\d\d \d\d:\d\d WIB</td>", page)  # local time, labelled
    token = csrf_from(page)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_and_missing_csrf_are_refused(client: FlaskClient) -> None:
    bad = login(client, "admin", "not-the-password")
    assert bad.status_code == 401 and "Nama pengguna atau kata sandi salah" in bad.get_data(
        as_text=True)
    no_csrf = client.post("/login", data={"username": "admin", "password": PASSWORD})
    assert no_csrf.status_code == 400
    assert client.get("/").status_code == 302  # still signed out


def test_repeated_failures_lock_the_account_for_that_address(client: FlaskClient) -> None:
    for _ in range(5):
        assert login(client, "rina", "wrong-password-0").status_code == 401
    locked = login(client, "rina")  # even the right password is refused now
    assert locked.status_code == 429


def test_open_redirect_is_blocked(client: FlaskClient) -> None:
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login?next=//evil.example/x", data={
        "username": "admin", "password": PASSWORD, "csrf_token": token})
    assert response.location == "/"


def test_requester_does_not_see_other_opds_changes(client: FlaskClient) -> None:
    login(client, "rina")
    page = client.get("/").get_data(as_text=True)
    assert "DINKES" in page and "user.create" not in page


def test_token_api(app: Flask, app_context: AppContext, client: FlaskClient) -> None:
    with app_context.db.session() as s:
        key = create_token(s, Actor.system("test"), "rina").key
    response = client.get("/api/users/me", headers={"Authorization": f"Token {key}"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["username"] == "rina" and body["opd"]["code"] == "DINKES"
    assert body["auth"] == "token" and body["opd"]["operator"] is False
    bad = client.get("/api/users/me", headers={"Authorization": "Token " + "0" * 40})
    assert bad.status_code == 401 and set(bad.get_json()) == {"detail", "errors"}


def test_security_headers_and_cookie_flags(client: FlaskClient) -> None:
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    login_response = login(client, "admin")
    cookie = login_response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    html = client.get("/").get_data(as_text=True)
    assert "<script>" not in html and " onclick=" not in html


def test_language_switch(client: FlaskClient) -> None:
    assert "Masuk" in client.get("/login").get_data(as_text=True)
    english = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "Sign in" in english.get_data(as_text=True)
    token = csrf_from(client.get("/login").get_data(as_text=True))
    client.post("/lang/en", data={"csrf_token": token, "next": "/login"})
    assert "Sign in" in client.get("/login").get_data(as_text=True)


def test_healthz_reports_database_down(tmp_path) -> None:
    from tests.pgcluster import free_port

    url = f"postgresql://nobody@127.0.0.1:{free_port()}/none"
    settings = load_settings(env={}, data_dir=str(tmp_path), database_url=url,
                             secret_key="k" * 32)
    app = create_app({"TESTING": True},
                     context=AppContext(settings=settings, db=Database(url)))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body == {"status": "degraded", "version": body["version"],
                    "database": {"status": "down"}}  # no host or error text for anonymous


def test_healthz_details_for_signed_in_users(client: FlaskClient) -> None:
    anonymous = client.get("/healthz").get_json()
    assert anonymous["database"] == {"status": "ok"}
    login(client, "admin")
    detailed = client.get("/healthz").get_json()["database"]
    assert detailed["status"] == "ok" and detailed["revision"] and detailed["head"]
    assert detailed["backend"] in ("sqlite", "postgresql") and detailed["latency_ms"] >= 0


def test_every_ui_string_is_translated() -> None:
    from pathlib import Path

    from babel.messages.pofile import read_po

    import webui

    po = Path(webui.__file__).parent / "translations" / "id" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as fh:
        catalog = read_po(fh)
    missing = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    assert missing == []
    assert po.with_suffix(".mo").stat().st_mtime >= po.stat().st_mtime - 1
