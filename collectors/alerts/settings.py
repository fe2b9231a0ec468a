"""Alert settings: ``SIMPUL_ALERT_*`` and ``SIMPUL_SMTP_*`` environment variables over defaults.

The helpdesk sends mail through Flask config ``HELPDESK_SMTP_HOST``/``_PORT``; alerts are
sent from the background engine, outside any Flask app, so they read ``SIMPUL_SMTP_*``
(the same relay can serve both). The SMTP password is only ever read from the
environment and never logged.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from simpul.errors import ConfigError

_OFF = ("0", "off", "no", "false", "disabled")


@dataclass(frozen=True)
class SmtpSettings:
    """The mail relay alerts go through (no host: e-mail disabled)."""

    host: str = ""
    port: int = 25
    sender: str = "simpul-alerts@localhost"
    user: str = ""
    password: str = field(default="", repr=False)
    starttls: bool = False
    timeout: float = 10.0


@dataclass(frozen=True)
class AlertSettings:
    """How often to evaluate, which rules, where notifications go."""

    enabled: bool = True
    interval_s: float = 30.0
    rules_file: str = ""
    webhooks: tuple[str, ...] = ()
    email_to: tuple[str, ...] = ()
    webhook_timeout: float = 5.0
    siem: bool = True
    smtp: SmtpSettings = field(default_factory=SmtpSettings)


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"setting {name}: {raw!r} is not a number") from None
    if value <= 0:
        raise ConfigError(f"setting {name}: {value:g} must be above 0")
    return value


def _list(env: dict[str, str], name: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in env.get(name, "").split(",") if p.strip())


def load_alert_settings(env: dict[str, str] | None = None) -> AlertSettings:
    """Read the alert and SMTP settings from the environment."""
    env = dict(os.environ if env is None else env)
    webhooks = _list(env, "SIMPUL_ALERT_WEBHOOK_URLS")
    for url in webhooks:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"setting SIMPUL_ALERT_WEBHOOK_URLS: {url!r} is not an http(s) URL")
    smtp = SmtpSettings(
        host=env.get("SIMPUL_SMTP_HOST", "").strip(),
        port=int(_float(env, "SIMPUL_SMTP_PORT", 25)),
        sender=env.get("SIMPUL_SMTP_FROM", "").strip() or "simpul-alerts@localhost",
        user=env.get("SIMPUL_SMTP_USER", "").strip(),
        password=env.get("SIMPUL_SMTP_PASSWORD", ""),
        starttls=env.get("SIMPUL_SMTP_STARTTLS", "no").strip().lower() not in _OFF,
        timeout=_float(env, "SIMPUL_SMTP_TIMEOUT", 10.0))
    return AlertSettings(
        enabled=env.get("SIMPUL_ALERTS_ENABLED", "yes").strip().lower() not in _OFF,
        interval_s=_float(env, "SIMPUL_ALERT_INTERVAL", 30.0),
        rules_file=env.get("SIMPUL_ALERT_RULES", "").strip(),
        webhooks=webhooks, email_to=_list(env, "SIMPUL_ALERT_EMAIL_TO"),
        webhook_timeout=_float(env, "SIMPUL_ALERT_WEBHOOK_TIMEOUT", 5.0),
        siem=env.get("SIMPUL_ALERT_SIEM", "yes").strip().lower() not in _OFF, smtp=smtp)
