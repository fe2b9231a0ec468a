"""Logging: loguru configured once, with secrets redacted before any sink sees them.

Every sink goes through one patcher that scrubs passwords, tokens, SNMP communities,
keys and URL credentials, so a careless ``logger.info(f"... {url}")`` cannot leak one.
Standard-library loggers (Netmiko, Paramiko, Flask, SQLAlchemy) are routed into loguru.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from typing import Any

from loguru import logger

REDACTED = "***"
_SECRET_WORDS = (
    r"password|passwd|pass|secret|token|api[_-]?key|key|community|auth[_-]?key|priv[_-]?key"
    r"|authpass|privpass|credential"
)
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # scheme://user:password@host
    (re.compile(r"(?P<pre>[a-z][a-z0-9+.-]*://[^:/@\s]+:)(?P<val>[^@\s]+)(?P<post>@)", re.I), ""),
    # Authorization: Token abc / Bearer abc
    (re.compile(r"(?P<pre>\b(?:Token|Bearer)\s+)(?P<val>[A-Za-z0-9._~+/=-]{6,})(?P<post>)"), ""),
    # key=value, key: value, "key": "value"
    (
        re.compile(
            rf"(?P<pre>\b(?:{_SECRET_WORDS})\b[\"']?\s*[=:]\s*[\"']?)(?P<val>[^\s\"',;&]+)(?P<post>)",
            re.I,
        ),
        "",
    ),
    # snmp-server community X / community X
    (re.compile(r"(?P<pre>\bcommunity\s+)(?P<val>\S+)(?P<post>)", re.I), ""),
)
_known_secrets: set[str] = set()
_lock = threading.Lock()
_configured = False


def register_secret(value: str | None) -> None:
    """Redact this exact value wherever it appears in a log message from now on."""
    if value and len(value) >= 4:
        with _lock:
            _known_secrets.add(value)


def redact(text: str) -> str:
    """Return *text* with every recognisable secret replaced by ``***``."""
    for pattern, _ in _PATTERNS:
        text = pattern.sub(lambda m: f"{m['pre']}{REDACTED}{m['post']}", text)
    for value in sorted(_known_secrets, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    return text


def _patch(record: dict[str, Any]) -> None:
    record["message"] = redact(record["message"])
    for key, value in list(record["extra"].items()):
        if isinstance(value, str):
            record["extra"][key] = redact(value)
    if record["exception"] is not None:
        exc = record["exception"]
        if exc.value is not None and exc.value.args:
            exc.value.args = tuple(
                redact(a) if isinstance(a, str) else a for a in exc.value.args
            )


class _InterceptHandler(logging.Handler):
    """Send standard-library log records to loguru, keeping level and origin."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        frame, depth = logging.currentframe(), 2
        while frame is not None and frame.f_code.co_filename == logging.__file__:
            frame = frame.f_back
            depth += 1
        origin = record.name
        logger.patch(lambda r: r.update(name=origin)).opt(  # type: ignore[call-arg]
            depth=depth, exception=record.exc_info
        ).log(level, record.getMessage())


CONSOLE_FORMAT = (
    "<green>{time:YYYY-MM-DD HH:mm:ss}</green> <level>{level: <7}</level> "
    "<cyan>{name}</cyan> {message}"
)


def setup_logging(
    level: str = "INFO", json_file: str | None = None, *, force: bool = False
) -> None:
    """Configure loguru sinks once per process (the CLI entry and the app factory call this)."""
    global _configured
    with _lock:
        if _configured and not force:
            return
        logger.remove()
        logger.configure(patcher=_patch)  # type: ignore[arg-type]
        logger.add(sys.stderr, level=level.upper(), format=CONSOLE_FORMAT, backtrace=False,
                   diagnose=False)
        if json_file:
            logger.add(json_file, level=level.upper(), serialize=True, enqueue=True,
                       backtrace=False, diagnose=False, rotation="50 MB", retention=10)
        logging.basicConfig(handlers=[_InterceptHandler()], level=0, force=True)
        for noisy in ("paramiko", "netmiko", "urllib3", "waitress.queue", "alembic"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        _configured = True
