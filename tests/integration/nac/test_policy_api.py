"""The rlm_rest policy API in-process: shared secret, decisions recorded, accounting sessions."""

from __future__ import annotations

import base64
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from nac.accounting import list_sessions, recent_decisions
from nac.register import create_device
from nac.rules import set_site_policy
from nac.settings import api_secret
from simpul.audit import Actor
from simpul.context import AppContext
from simpul.models.base import utcnow


def _rest(**attrs: str) -> dict:
    """A request body the way rlm_rest encodes it."""
    return {name.replace("_", "-"): {"type": "string", "value": [value]}
            for name, value in attrs.items()}


def _headers(app_context: AppContext) -> dict[str, str]:
    secret = api_secret(app_context.settings.data_dir)
    token = base64.b64encode(f"freeradius:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _register(app_context: AppContext) -> None:
    actor = Actor.system("test")
    with app_context.db.session() as s:
        create_device(s, actor, "02:00:5e:00:53:01", opd="DINKES")
        create_device(s, actor, "02:00:5e:00:53:02", opd="DINKES", device_type="printer")
        create_device(s, actor, "02:00:5e:00:53:03", opd="DINKES", status="blocked")
        create_device(s, actor, "02:00:5e:00:53:04", opd="DINKES",
                      expires_at=utcnow() - timedelta(minutes=1))
        create_device(s, actor, "02:00:5e:00:53:05", opd="DINKES", status="pending")


def _mab(client: FlaskClient, headers: dict[str, str], mac: str) -> tuple[int, dict]:
    response = client.post("/api/nac/radius/authorize", headers=headers, json=_rest(
        User_Name=mac, Calling_Station_Id=mac.upper().replace(":", "-"),
        NAS_IP_Address="192.0.2.1", NAS_Port_Id="Gi1/0/7"))
    return response.status_code, (response.get_json(silent=True) or {})


def test_policy_api_refuses_callers_without_the_secret(client: FlaskClient,
                                                      app_context: AppContext) -> None:
    body = _rest(User_Name="02:00:5e:00:53:01")
    assert client.post("/api/nac/radius/authorize", json=body).status_code == 401
    wrong = {"X-Simpul-Nac-Secret": "guess"}
    assert client.post("/api/nac/radius/authorize", json=body, headers=wrong).status_code == 401
    right = {"X-Simpul-Nac-Secret": api_secret(app_context.settings.data_dir)}
    assert client.post("/api/nac/radius/authorize", json=body, headers=right).status_code == 401
    # (401 here is the decision: unregistered MAC, with its reason)
    answer = client.post("/api/nac/radius/authorize", json=body, headers=right).get_json()
    assert answer == {"reply:Reply-Message": "unregistered MAC"}


def test_mab_decisions_and_their_records(nac_app: Flask, client: FlaskClient,
                                         app_context: AppContext) -> None:
    _register(app_context)
    headers = _headers(app_context)
    assert _mab(client, headers, "02:00:5e:00:53:01") == (200, {
        "control:Auth-Type": "Accept", "reply:Tunnel-Type": "VLAN",
        "reply:Tunnel-Medium-Type": "IEEE-802", "reply:Tunnel-Private-Group-Id": "110"})
    assert _mab(client, headers, "02:00:5e:00:53:02")[1][
        "reply:Tunnel-Private-Group-Id"] == "120"
    for mac, reason in (("02:00:5e:00:53:03", "device is blocked"),
                        ("02:00:5e:00:53:04", "registration expired"),
                        ("02:00:5e:00:53:05", "registration pending approval"),
                        ("02:00:5e:00:53:99", "unregistered MAC")):
        assert _mab(client, headers, mac) == (401, {"reply:Reply-Message": reason})
    with app_context.db.session() as s:
        set_site_policy(s, Actor.system("test"), None, "quarantine", 999)
    nac_app.extensions["nac_policy_cache"].invalidate()
    assert _mab(client, headers, "02:00:5e:00:53:99")[1][
        "reply:Tunnel-Private-Group-Id"] == "999"
    assert _mab(client, headers, "02:00:5e:00:53:03")[0] == 401  # blocked stays out
    nac_app.extensions["nac_decisions"].flush()
    with app_context.db.session() as s:
        rows = recent_decisions(s, limit=20)
        assert [(r.result, r.mac) for r in rows[:2]] == [
            ("reject", "02:00:5e:00:53:03"), ("quarantine", "02:00:5e:00:53:99")]
        assert len(rows) == 8 and rows[-1].vid == 110 and rows[-1].nas_port == "Gi1/0/7"
        assert len(recent_decisions(s, result="reject")) == 5


def test_accounting_opens_and_closes_sessions(client: FlaskClient,
                                              app_context: AppContext) -> None:
    _register(app_context)
    headers = _headers(app_context)
    assert _mab(client, headers, "02:00:5e:00:53:01")[0] == 200
    client.application.extensions["nac_decisions"].flush()
    common = {"Acct_Session_Id": "0000001A", "User_Name": "020000005301",
              "Calling_Station_Id": "02-00-5E-00-53-01", "NAS_IP_Address": "192.0.2.1",
              "NAS_Port_Id": "Gi1/0/7"}
    for status, extra in (("Start", {}), ("Interim-Update", {"Acct_Input_Octets": "500"}),
                          ("Stop", {"Acct_Input_Octets": "900", "Acct_Input_Gigawords": "1",
                                    "Acct_Terminate_Cause": "User-Request"})):
        answer = client.post("/api/nac/radius/accounting", headers=headers,
                             json=_rest(Acct_Status_Type=status, **common, **extra))
        assert answer.status_code == 204
    with app_context.db.session() as s:
        (row,) = list_sessions(s, mac="02:00:5e:00:53:01")
        assert (row.nas_ip, row.nas_port, row.vid) == ("192.0.2.1", "Gi1/0/7", 110)
        assert row.stopped_at is not None and row.input_octets == (1 << 32) + 900
        assert row.terminate_cause == "User-Request"
    staff = client.get("/api/nac/sessions/?mac=02:00:5e:00:53:01", headers={
        "Authorization": _token(app_context, "itsup")}).get_json()
    assert staff["count"] == 1 and staff["results"][0]["vlan"] == 110
    other = client.get("/api/nac/sessions/", headers={
        "Authorization": _token(app_context, "budi")}).get_json()
    assert other["count"] == 0  # DISDIK does not see DINKES's sessions


def _token(app_context: AppContext, user: str) -> str:
    from simpul.tokens import create_token

    with app_context.db.session() as s:
        return f"Token {create_token(s, Actor.system('t'), user).key}"
