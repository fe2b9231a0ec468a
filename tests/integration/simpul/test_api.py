"""The JSON API: NetBox-style users/tokens endpoints, pages, errors, CSRF, OpenAPI."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from simpul.audit import Actor, list_entries
from simpul.context import AppContext
from simpul.tenancy import create_opd
from simpul.tokens import create_token
from simpul.users import create_user
from webui import create_app

PASSWORD = "api-password-123"


@pytest.fixture
def app(app_context: AppContext) -> Flask:
    actor = Actor.system("test")
    with app_context.db.session() as s:
        create_opd(s, actor, "DISKOMINFO", "Dinas Kominfo", is_operator=True)
        create_opd(s, actor, "DINKES", "Dinas Kesehatan")
        create_user(s, actor, "admin", role="admin", opd_code="DISKOMINFO", password=PASSWORD)
        create_user(s, actor, "rina", role="requester", opd_code="DINKES", password=PASSWORD)
    return create_app({"TESTING": True}, context=app_context)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def token_for(app_context: AppContext, username: str, **kw: Any) -> dict[str, str]:
    with app_context.db.session() as s:
        key = create_token(s, Actor.system("test"), username, **kw).key
    return {"Authorization": f"Token {key}"}


def test_openapi_document_is_valid_and_complete(app: Flask, client: FlaskClient) -> None:
    response = client.get("/api/openapi.json")  # public: clients fetch it before a token
    assert response.status_code == 200
    document = response.get_json()
    validate(document)
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "{id}" if m[1].endswith("id") else
                      "{" + m[1] + "}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, f"{method} {path} is not documented"


def test_admin_creates_user_through_api_and_it_is_audited(app_context: AppContext,
                                                          client: FlaskClient) -> None:
    headers = token_for(app_context, "admin")
    response = client.post("/api/users/users/", headers=headers, json={
        "username": "joko", "role": "requester", "opd": "DINKES",
        "password": "joko-password-1"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["username"] == "joko" and body["opd"] == "DINKES"
    assert "password" not in body and "password_hash" not in body
    with app_context.db.session() as s:
        entry = list_entries(s, action="user.create")[0]
        assert (entry.actor_name, entry.channel, entry.object_repr) == ("admin", "api", "joko")


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"username": "x1", "role": "wizard", "opd": "DINKES"}, 400, "role"),
        ({"username": "x2", "role": "noc", "opd": "DINKES"}, 400, "role"),
        ({"username": "rina", "role": "requester", "opd": "DINKES"}, 409, "username"),
        ({"username": "x3", "role": "requester"}, 400, "opd"),
        ({"username": "x4", "role": "requester", "opd": "DINKES", "shoe": 1}, 400, "shoe"),
        ({"username": "x5", "role": "requester", "opd": "NOWHERE"}, 404, "opd"),
    ],
)
def test_bad_user_payloads(app_context: AppContext, client: FlaskClient,
                           payload: dict[str, Any], status: int, field: str) -> None:
    headers = token_for(app_context, "admin")
    before = client.get("/api/users/users/", headers=headers).get_json()["count"]
    response = client.post("/api/users/users/", headers=headers, json=payload)
    assert response.status_code == status
    body = response.get_json()
    assert body["detail"] and field in body["errors"]
    assert client.get("/api/users/users/", headers=headers).get_json()["count"] == before


def test_non_json_body_is_refused(app_context: AppContext, client: FlaskClient) -> None:
    response = client.post("/api/users/users/", headers=token_for(app_context, "admin"),
                           data="username=x", content_type="text/plain")
    assert response.status_code == 400
    assert response.get_json()["detail"] == "request body must be a JSON object"


def test_requester_cannot_manage_users(app_context: AppContext, client: FlaskClient) -> None:
    headers = token_for(app_context, "rina")
    assert client.get("/api/users/users/", headers=headers).status_code == 403
    denied = client.post("/api/users/users/", headers=headers,
                         json={"username": "sneaky", "role": "admin", "opd": "DISKOMINFO"})
    assert denied.status_code == 403
    admin_id = client.get("/api/users/users/", headers=token_for(app_context, "admin")
                          ).get_json()["results"][0]["id"]
    assert client.get(f"/api/users/users/{admin_id}/", headers=headers).status_code == 403
    assert client.patch(f"/api/users/users/{admin_id}/", headers=headers,
                        json={"is_active": False}).status_code == 403


def test_pagination(app_context: AppContext, client: FlaskClient) -> None:
    with app_context.db.session() as s:
        for n in range(7):
            create_user(s, Actor.system("test"), f"user{n}", role="requester", opd_code="DINKES")
    headers = token_for(app_context, "admin")
    first = client.get("/api/users/users/?limit=4", headers=headers).get_json()
    assert first["count"] == 9 and len(first["results"]) == 4 and first["previous"] is None
    assert "limit=4" in first["next"] and "offset=4" in first["next"]
    second = client.get(first["next"], headers=headers).get_json()
    assert len(second["results"]) == 4 and second["previous"] is not None
    third = client.get(second["next"], headers=headers).get_json()
    assert len(third["results"]) == 1 and third["next"] is None
    names = [u["username"] for page in (first, second, third) for u in page["results"]]
    assert names == sorted(names) and len(set(names)) == 9
    bad = client.get("/api/users/users/?limit=5000", headers=headers)
    assert bad.status_code == 400 and "limit" in bad.get_json()["errors"]
    assert client.get("/api/users/users/?offset=-1", headers=headers).status_code == 400


def test_tokens_lifecycle(app_context: AppContext, client: FlaskClient) -> None:
    rina = token_for(app_context, "rina")
    created = client.post("/api/users/tokens/", headers=rina, json={"description": "script"})
    assert created.status_code == 201
    new = created.get_json()
    assert len(new["key"]) == 40 and new["user"] == "rina"
    listed = client.get("/api/users/tokens/", headers=rina).get_json()
    assert listed["count"] == 2 and all("key" not in t for t in listed["results"])
    new_headers = {"Authorization": f"Token {new['key']}"}
    assert client.get("/api/users/me", headers=new_headers).status_code == 200
    # rina may not mint tokens for others, nor see or revoke the admin's
    assert client.post("/api/users/tokens/", headers=rina,
                       json={"user": "admin"}).status_code == 403
    admin = token_for(app_context, "admin")
    admin_token_id = client.get("/api/users/tokens/", headers=admin).get_json()["results"][0]["id"]
    assert client.delete(f"/api/users/tokens/{admin_token_id}/", headers=rina).status_code == 404
    assert client.delete(f"/api/users/tokens/{new['id']}/", headers=rina).status_code == 204
    assert client.get("/api/users/me", headers=new_headers).status_code == 401
    bad_expiry = client.post("/api/users/tokens/", headers=rina, json={"expires": "tomorrow"})
    assert bad_expiry.status_code == 400 and "expires" in bad_expiry.get_json()["errors"]


def test_read_only_token_cannot_write(app_context: AppContext, client: FlaskClient) -> None:
    headers = token_for(app_context, "admin", write_enabled=False)
    assert client.get("/api/users/users/", headers=headers).status_code == 200
    response = client.post("/api/users/users/", headers=headers,
                           json={"username": "ro", "role": "requester", "opd": "DINKES"})
    assert response.status_code == 403
    assert response.get_json()["detail"] == "This API token is read-only."


def test_session_writes_need_csrf(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)[1]
    client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": csrf})
    # Sign-in starts a new session (no fixation), so pages after it carry a new token.
    dashboard = client.get("/").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', dashboard)[1]
    payload = {"username": "viaweb", "role": "requester", "opd": "DINKES"}
    refused = client.post("/api/users/users/", json=payload)
    assert refused.status_code == 400
    assert refused.get_json()["detail"].startswith("Formulir kedaluwarsa")
    # A bogus Authorization header does not switch the CSRF check off for a cookie session.
    sneaky = client.post("/api/users/users/", json=payload,
                         headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert sneaky.status_code == 400
    accepted = client.post("/api/users/users/", json=payload, headers={"X-CSRFToken": csrf})
    assert accepted.status_code == 201


def test_disabling_a_user_kills_their_tokens(app_context: AppContext,
                                             client: FlaskClient) -> None:
    rina = token_for(app_context, "rina")
    admin = token_for(app_context, "admin")
    users = client.get("/api/users/users/", headers=admin).get_json()["results"]
    rina_id = next(u["id"] for u in users if u["username"] == "rina")
    assert client.get("/api/users/me", headers=rina).status_code == 200
    patched = client.patch(f"/api/users/users/{rina_id}/", headers=admin,
                           json={"is_active": False})
    assert patched.status_code == 200 and patched.get_json()["is_active"] is False
    assert client.get("/api/users/me", headers=rina).status_code == 401
    bad = client.patch(f"/api/users/users/{rina_id}/", headers=admin, json={"is_active": "no"})
    assert bad.status_code == 400


def test_status_endpoint(app_context: AppContext, client: FlaskClient) -> None:
    body = client.get("/api/status/", headers=token_for(app_context, "rina")).get_json()
    assert body["database"]["pending"] == []
    assert "0002" in body["database"]["head"]
    assert body["simpul-version"] and body["python-version"].startswith("3.")


def test_token_clients_that_keep_cookies_stay_signed_in(app_context: AppContext,
                                                        client: FlaskClient) -> None:
    """requests.Session and browsers keep cookies; a Token header must still decide."""
    headers = token_for(app_context, "rina")
    for _ in range(3):  # the first response sets a session cookie (CSRF token)
        assert client.get("/", headers=headers).status_code == 200
        assert client.get("/api/users/me", headers=headers).get_json()["username"] == "rina"


def test_token_wins_over_a_signed_in_cookie(app_context: AppContext,
                                            client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)[1]
    client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": csrf})
    assert client.get("/api/users/me").get_json()["username"] == "admin"
    rina = token_for(app_context, "rina")
    assert client.get("/api/users/me", headers=rina).get_json()["username"] == "rina"
    bad = {"Authorization": "Token " + "f" * 40}
    assert client.get("/api/users/me", headers=bad).status_code == 401  # no cookie fall-back
    assert client.get("/api/users/me").get_json()["username"] == "admin"
