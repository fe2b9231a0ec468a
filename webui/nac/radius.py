"""The policy API for FreeRADIUS (rlm_rest): authorize, authenticate, post-auth, accounting."""

from __future__ import annotations

import atexit
import base64
import hmac
import threading
from typing import Any

from flask import current_app, jsonify, request
from loguru import logger

from nac import decide
from nac.decisionlog import DecisionWriter
from nac.policydata import PolicyCache
from nac.settings import api_secret, load_nac_settings
from simpul.errors import AuthError
from webui.extensions import app_context, commit, db_session
from webui.nac import bp
from webui.openapi import spec

_WRITER_LOCK = threading.Lock()



def _secret() -> bytes:
    cached = current_app.extensions.get("nac_api_secret")
    if cached is None:
        cached = api_secret(app_context().settings.data_dir).encode()
        current_app.extensions["nac_api_secret"] = cached
    return cached


def check_radius_secret() -> None:
    """Refuse any caller that does not present the shared secret (401 = reject)."""
    offered = request.headers.get("X-Simpul-Nac-Secret", "").encode()
    auth = request.headers.get("Authorization", "")
    if not offered and auth[:6].lower() == "basic ":
        try:
            offered = base64.b64decode(auth[6:], validate=True).partition(b":")[2]
        except ValueError:
            offered = b""
    if not offered or not hmac.compare_digest(offered, _secret()):
        # Every RADIUS request is rejected until this is fixed: say so where ops look.
        logger.warning("nac: policy API call from {} without the right shared secret "
                       "(check SIMPUL_NAC_API_SECRET for FreeRADIUS)", request.remote_addr)
        raise AuthError("the NAC policy API needs the shared secret")


def _policy(session: Any) -> Any:
    cache = current_app.extensions.get("nac_policy_cache")
    if cache is None:
        ttl = load_nac_settings(app_context().settings).policy_ttl
        cache = current_app.extensions.setdefault("nac_policy_cache", PolicyCache(ttl))
    return cache.get(session)


def _sink() -> DecisionWriter:
    writer = current_app.extensions.get("nac_decisions")
    if writer is None:
        with _WRITER_LOCK:
            writer = current_app.extensions.get("nac_decisions")
            if writer is None:
                writer = DecisionWriter(app_context().db)
                atexit.register(writer.close)
                current_app.extensions["nac_decisions"] = writer
    return writer


def _decide(handler: Any, *args: Any) -> Any:
    """Run a read-only decision in its own session: no write lock, no commit per request
    (the decision record goes to the batching writer)."""
    with app_context().db.session(write=False) as session:
        status, body = handler(session, _policy(session), _attrs(), *args, _sink().put)
    if status == 204:
        return "", 204
    return jsonify(body), status


def _attrs() -> dict[str, str]:
    return decide.attributes(request.get_json(silent=True))


def _answer(reply: tuple[int, dict[str, Any]]) -> Any:
    status, body = reply
    commit()
    if status == 204:
        return "", 204
    return jsonify(body), status


RADIUS_REQUEST = {"type": "object", "description": "rlm_rest JSON: {attribute: {type, value: "
                  "[..]}}", "additionalProperties": True}
RADIUS_REPLY = {"type": "object", "description": "rlm_rest JSON: {list:attribute: value}",
                "additionalProperties": True}


@bp.route("/api/nac/radius/authorize", methods=["POST"])
@spec.operation("/api/nac/radius/authorize", "POST", tag="nac-radius", public=True,
                summary="MAB decision for FreeRADIUS (200 Accept+VLAN, 401 Reject); "
                        "shared secret", request=RADIUS_REQUEST, response=RADIUS_REPLY)
def radius_authorize() -> Any:
    """Decide a MAB request."""
    return _decide(decide.authorize)


@bp.route("/api/nac/radius/authenticate", methods=["POST"])
@spec.operation("/api/nac/radius/authenticate", "POST", tag="nac-radius", public=True,
                summary="Check an EAP-TTLS/PAP user's password (204 ok, 401 reject)",
                request=RADIUS_REQUEST, status=204)
def radius_authenticate() -> Any:
    """Verify an 802.1X user's password against simpul's users."""
    return _answer(decide.authenticate(db_session(), _attrs()))


@bp.route("/api/nac/radius/post-auth", methods=["POST"])
@spec.operation("/api/nac/radius/post-auth", "POST", tag="nac-radius", public=True,
                summary="802.1X decision after authentication (200 VLAN, 403 reject)",
                request=RADIUS_REQUEST, response=RADIUS_REPLY,
                parameters=[{"name": "result", "in": "query", "schema": {"type": "string"}}])
def radius_post_auth() -> Any:
    """Give an authenticated user its OPD's VLAN, or record a failed authentication."""
    result = "reject" if request.args.get("result", "").lower() == "reject" else "accept"
    return _decide(decide.post_auth, result)


@bp.route("/api/nac/radius/accounting", methods=["POST"])
@spec.operation("/api/nac/radius/accounting", "POST", tag="nac-radius", public=True,
                summary="Accounting Start/Interim/Stop into sessions (204)",
                request=RADIUS_REQUEST, status=204)
def radius_accounting() -> Any:
    """Record an accounting packet."""
    return _answer(decide.accounting(db_session(), _attrs(), _sink().recent_vid))


