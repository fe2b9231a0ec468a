"""Helpdesk settings from ``SIMPUL_HELPDESK_*`` and ``SIMPUL_SMTP_*`` over defaults.

The same variables configure the web process and the escalation job of ``simpul up``,
so an operator sets the regency's domain, the SLA table and the mail relay once. The
Flask test mapping may still override them (``HELPDESK_*`` keys) for one app.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from simpul.errors import ConfigError
from webui.helpdesk.domains import REGENCY_DOMAIN
from webui.helpdesk.notify import Mailer
from webui.helpdesk.services import HelpdeskConfig
from webui.helpdesk.sla import sla_table


def _sla_overrides(raw: str) -> dict[str, float]:
    """Parse ``type:priority=hours,...`` (e.g. ``pengaduan:high=2,domain:normal=48``)."""
    table: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        key, sep, hours = item.partition("=")
        try:
            table[key.strip()] = float(hours)
        except ValueError:
            sep = ""
        if not sep:
            raise ConfigError(f"SIMPUL_HELPDESK_SLA_HOURS: {item!r} is not type:priority=hours")
    return table


def load_helpdesk_config(env: Mapping[str, str] | None = None,
                         overrides: Mapping[str, Any] | None = None) -> HelpdeskConfig:
    """Return the helpdesk configuration; *overrides* are Flask ``HELPDESK_*`` keys.

    Raises:
        ConfigError: a malformed SLA table, port or unknown type:priority.
    """
    env = os.environ if env is None else env
    over = overrides or {}

    def pick(flask_key: str, env_key: str, default: Any) -> Any:
        if flask_key in over:
            return over[flask_key]
        return env.get(env_key, default)

    sla_raw = pick("HELPDESK_SLA_HOURS", "SIMPUL_HELPDESK_SLA_HOURS", "")
    sla = sla_raw if isinstance(sla_raw, Mapping) else _sla_overrides(str(sla_raw))
    port_raw = pick("HELPDESK_SMTP_PORT", "SIMPUL_SMTP_PORT", 25)
    try:
        port = int(port_raw)
        table = sla_table(sla)
    except ValueError as exc:
        raise ConfigError(f"helpdesk settings: {exc}") from None
    if not 0 < port < 65536:
        raise ConfigError(f"SIMPUL_SMTP_PORT: {port} is not a TCP port")
    return HelpdeskConfig(
        regency_domain=str(pick("HELPDESK_REGENCY_DOMAIN", "SIMPUL_HELPDESK_REGENCY_DOMAIN",
                                REGENCY_DOMAIN)),
        sla=table,
        mailer=Mailer(host=str(pick("HELPDESK_SMTP_HOST", "SIMPUL_SMTP_HOST", "")), port=port,
                      sender=str(pick("HELPDESK_MAIL_FROM", "SIMPUL_SMTP_FROM",
                                      "helpdesk@localhost"))))
