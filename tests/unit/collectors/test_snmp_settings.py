"""SIMPUL_SNMP_* settings: defaults, v3 credentials, clear one-line errors."""

from __future__ import annotations

import pytest

from collectors.snmp.settings import load_snmp_settings
from collectors.snmp.targets import share_of, split_shares
from simpul.errors import ConfigError
from simpul.logging import redact


def test_defaults_are_v2c_local_with_closed_metrics() -> None:
    s = load_snmp_settings({})
    assert (s.credentials.version, s.port, s.mode, s.interval_s) == ("2c", 161, "local", 60.0)
    assert s.metrics_token == "" and s.metrics_allow == ()


def test_v3_auth_priv_from_the_environment_and_secrets_are_redacted() -> None:
    s = load_snmp_settings({"SIMPUL_SNMP_VERSION": "v3", "SIMPUL_SNMP_V3_USER": "simpul",
                            "SIMPUL_SNMP_V3_AUTH_KEY": "auth-secret-1",
                            "SIMPUL_SNMP_V3_PRIV_KEY": "priv-secret-2",
                            "SIMPUL_METRICS_ALLOW": "127.0.0.1, 10.10.30.0/24"})
    c = s.credentials
    assert (c.version, c.v3_auth_protocol, c.v3_priv_protocol) == ("3", "SHA", "AES")
    assert "priv-secret-2" not in repr(s) and "auth-secret-1" not in repr(s)
    assert "priv-secret-2" not in redact("key priv-secret-2 used")
    assert s.metrics_allow == ("127.0.0.1", "10.10.30.0/24")


@pytest.mark.parametrize(("env", "message"), [
    ({"SIMPUL_SNMP_VERSION": "1"}, "must be 2c or 3"),
    ({"SIMPUL_SNMP_VERSION": "3"}, "SNMPv3 needs"),
    ({"SIMPUL_SNMP_V3_AUTH_PROTOCOL": "SHA999"}, "SIMPUL_SNMP_V3_AUTH_PROTOCOL"),
    ({"SIMPUL_SNMP_TIMEOUT": "soon"}, "SIMPUL_SNMP_TIMEOUT"),
    ({"SIMPUL_SNMP_CONCURRENCY": "0"}, "below the minimum"),
    ({"SIMPUL_SNMP_MODE": "cluster"}, "local or celery"),
])
def test_bad_settings_are_one_clear_line(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_snmp_settings(env)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_shares_are_stable_and_cover_every_device() -> None:
    from collectors.snmp.poller import Target

    targets = [Target(device_id=i, name=f"d{i}", address="192.0.2.1") for i in range(1, 501)]
    groups = split_shares(targets, 4)
    assert sorted(t.device_id for g in groups for t in g) == list(range(1, 501))
    assert all(60 < len(g) < 190 for g in groups)  # roughly even
    assert all(share_of(t.device_id, 4) == n for n, g in enumerate(groups) for t in g)
