"""The policy API for FreeRADIUS (rlm_rest) inside the web app.

``simpul up`` points FreeRADIUS at the dedicated policy server (``nac.policyserver``);
these routes answer the same calls through the same ``nac.radiusapi`` service for
deployments that set ``SIMPUL_RADIUS_API_URL`` to the web app, and for tests.
"""

from __future__ import annotations

import atexit
import threading
from typing import Any

from flask import current_app, jsonify, request
from loguru import logger

from nac.decisionlog import DecisionWriter
from nac.policydata import PolicyCache
from nac.radiusapi import RadiusEndpoints, offered_secret, secret_matches
from nac.settings import api_secret, load_nac_settings
from simpul.errors import AuthError
from webui.extensions import app_context
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
    if not secret_matches(offered_secret(request.headers.get), _secret()):
        # Every RADIUS request is rejected until this is fixed: say so where ops look.
        logger.warning("nac: policy API call from {} without the right shared secret "
                       "(check SIMPUL_NAC_API_SECRET for FreeRADIUS)", request.remote_addr)
        raise AuthError("the NAC policy API needs the shared secret")


def _policy() -> PolicyCache:
    cache = current_app.extensions.get("nac_policy_cache")
    if cache is None:
        ttl = load_nac_settings(app_context().settings).policy_ttl
        cache = current_app.extensions.setdefault("nac_policy_cache", PolicyCache(ttl))
    return cache


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


def _call(endpoint: str, result: str = "accept") -> Any:
    """Answer through the same service as the dedicated policy server (nac.radiusapi)."""
    endpoints = RadiusEndpoints(app_context().db, _policy(), _sink())
    status, body = endpoints.call(endpoint, request.get_json(silent=True), result)
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
    return _call("authorize")


@bp.route("/api/nac/radius/authenticate", methods=["POST"])
@spec.operation("/api/nac/radius/authenticate", "POST", tag="nac-radius", public=True,
                summary="Check an EAP-TTLS/PAP user's password (204 ok, 401 reject)",
                request=RADIUS_REQUEST, status=204)
def radius_authenticate() -> Any:
    """Verify an 802.1X user's password against simpul's users."""
    return _call("authenticate")


@bp.route("/api/nac/radius/post-auth", methods=["POST"])
@spec.operation("/api/nac/radius/post-auth", "POST", tag="nac-radius", public=True,
                summary="802.1X decision after authentication (200 VLAN, 403 reject)",
                request=RADIUS_REQUEST, response=RADIUS_REPLY,
                parameters=[{"name": "result", "in": "query", "schema": {"type": "string"}}])
def radius_post_auth() -> Any:
    """Give an authenticated user its OPD's VLAN, or record a failed authentication."""
    return _call("post-auth", request.args.get("result", ""))


@bp.route("/api/nac/radius/accounting", methods=["POST"])
@spec.operation("/api/nac/radius/accounting", "POST", tag="nac-radius", public=True,
                summary="Accounting Start/Interim/Stop into sessions (204)",
                request=RADIUS_REQUEST, status=204)
def radius_accounting() -> Any:
    """Record an accounting packet."""
    return _call("accounting")


