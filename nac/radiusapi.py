"""The four rlm_rest endpoints as one service, served by Flask and by the policy server.

``webui/nac/radius.py`` (inside the web app) and ``nac/policyserver.py`` (the dedicated
process ``simpul up`` starts for FreeRADIUS) both answer through ``RadiusEndpoints``, so
the shared-secret check, the transactions and the decision logging are the same code
whichever process FreeRADIUS talks to.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Callable
from typing import Any

from nac import decide
from nac.decisionlog import DecisionWriter
from nac.policydata import PolicyCache
from simpul.db import Database

Reply = tuple[int, dict[str, Any]]
ENDPOINTS = ("authorize", "authenticate", "post-auth", "accounting")
SECRET_HEADER = "X-Simpul-Nac-Secret"


def offered_secret(header: Callable[[str], str | None]) -> bytes:
    """The secret a caller presents: ``X-Simpul-Nac-Secret``, else the HTTP Basic password.

    The header wins because in the inner tunnel's ``authenticate`` rlm_rest puts the
    user's own credentials into Basic.
    """
    offered = (header(SECRET_HEADER) or "").encode()
    auth = header("Authorization") or ""
    if not offered and auth[:6].lower() == "basic ":
        try:
            offered = base64.b64decode(auth[6:], validate=True).partition(b":")[2]
        except ValueError:
            offered = b""
    return offered


def secret_matches(offered: bytes, secret: bytes) -> bool:
    """Constant-time comparison; an empty offer never matches."""
    return bool(offered) and hmac.compare_digest(offered, secret)


class RadiusEndpoints:
    """authorize / post-auth decide in a read-only session (no write lock, no commit per
    request; the record goes to the batching writer); authenticate and accounting write
    in a session of their own."""

    def __init__(self, db: Database, policy: PolicyCache, writer: DecisionWriter) -> None:
        self.db = db
        self.policy = policy
        self.writer = writer

    def call(self, endpoint: str, body: Any, result: str = "accept") -> Reply:
        """Answer one rlm_rest call; *body* is its parsed JSON, *result* post-auth's query."""
        attrs = decide.attributes(body)
        if endpoint == "authorize":  # the hot path: a pooled connection, no ORM session
            data = self.policy.current(self.db)
            with self.db.engine.connect() as conn:
                return decide.authorize(conn, data, attrs, self.writer.put)
        if endpoint == "post-auth":
            result = "reject" if result.lower() == "reject" else "accept"
            with self.db.session(write=False) as session:
                return decide.post_auth(session, self.policy.get(session), attrs, result,
                                        self.writer.put)
        if endpoint == "authenticate":
            with self.db.session() as session:
                return decide.authenticate(session, attrs)
        if endpoint == "accounting":
            with self.db.session() as session:
                return decide.accounting(session, attrs, self.writer.recent_vid)
        raise KeyError(endpoint)
