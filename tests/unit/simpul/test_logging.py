"""Secrets never reach a log sink, whatever shape they come in."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from loguru import logger

from simpul.logging import redact, register_secret, setup_logging


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("connecting to postgresql://simpul:Pa55word!@db:5432/simpul", "Pa55word!"),
        ("header Authorization: Token 0123456789abcdef0123", "0123456789abcdef0123"),
        ("login user=admin password=hunter2hunter2", "hunter2hunter2"),
        ('{"password": "s3cr3t-json"}', "s3cr3t-json"),
        ("snmp-server community PUBLIC-RW ro", "PUBLIC-RW"),
        ("radius secret: radiusKey99", "radiusKey99"),
        ("snmpv3 auth_key=authKey12345 priv_key=privKey12345", "privKey12345"),
    ],
)
def test_redact_hides_secret(line: str, secret: str) -> None:
    cleaned = redact(line)
    assert secret not in cleaned
    assert "***" in cleaned


def test_redact_keeps_ordinary_text() -> None:
    line = "interface eth1 up, 10.0.0.1/24, keyboard attached"
    assert redact(line) == line


def test_sinks_receive_redacted_messages(tmp_path: Path) -> None:
    json_file = tmp_path / "simpul.json"
    setup_logging("DEBUG", str(json_file), force=True)
    captured: list[str] = []
    sink_id = logger.add(lambda m: captured.append(str(m)), format="{message} {extra}")
    register_secret("registered-secret-123")
    try:
        logger.bind(url="sqlite://u:pw9999@h/x").info("device password=abc12345 and "
                                                        "registered-secret-123")
        logging.getLogger("netmiko").warning("stdlib password=fromstdlib99")
        logger.complete()
    finally:
        logger.remove(sink_id)
        setup_logging("INFO", force=True)
    text = "\n".join(captured)
    assert "abc12345" not in text and "registered-secret-123" not in text
    assert "pw9999" not in text
    assert "fromstdlib99" not in text and "stdlib password=***" in text
    records = [json.loads(line) for line in json_file.read_text().splitlines()]
    assert records, "the JSON file sink wrote nothing"
    assert all("abc12345" not in r["text"] for r in records)
