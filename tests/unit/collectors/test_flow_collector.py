"""The collector's datagram handling without a database, and the flow/trap settings."""

from __future__ import annotations

import socket
import struct
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.flows.collector import FlowCollector
from collectors.flows.settings import load_flow_settings, load_trap_settings
from simpul.errors import ConfigError


def _v9(now: int) -> bytes:
    tpl = struct.pack("!HHHH", 0, 4 + 4 + 4 * 5, 256, 5) + b"".join(
        struct.pack("!HH", t, n) for t, n in [(8, 4), (12, 4), (4, 1), (1, 4), (2, 4)])
    data = struct.pack("!HH", 256, 4 + 17) + struct.pack("!IIBII", 0xC0000201, 0xC6336401,
                                                         17, 1500, 3)
    return struct.pack("!HHIIII", 9, 2, 1000, now, 0, 0) + tpl + data


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=8))
def test_handle_never_raises_and_counts(datagrams: list[bytes]) -> None:
    col = FlowCollector(None, load_flow_settings({"SIMPUL_FLOW_PORT": "0"}))
    now = int(time.time())
    col.handle(_v9(now), "192.0.2.9", now=now)
    for d in datagrams:
        col.handle(d, "192.0.2.9", now=now)
    col.handle(_v9(now), "192.0.2.9", now=now)
    assert col.stats.packets + col.stats.malformed == len(datagrams) + 2
    assert col.stats.records >= 2


def test_reader_thread_survives_garbage_over_udp() -> None:
    col = FlowCollector(None, load_flow_settings({"SIMPUL_FLOW_PORT": "0"}))
    col.start()
    try:
        port = col.addresses[0][1]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for payload in (b"", b"\x00\x0a" + b"\xff" * 40, b"\x00\x05\x00\x01", _v9(
                    int(time.time()))):
                s.sendto(payload, ("127.0.0.1", port))
        deadline = time.monotonic() + 5
        while col.stats.records < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert col.stats.records == 1
        assert col.stats.malformed == 3
    finally:
        col.stop()


def test_flow_settings() -> None:
    s = load_flow_settings({"SIMPUL_FLOW_HOSTS": "127.0.0.1, 172.20.20.1",
                            "SIMPUL_FLOW_PORT": "off"})
    assert s.hosts == ("127.0.0.1", "172.20.20.1") and s.port is None
    assert load_flow_settings({}).port == 2055
    with pytest.raises(ConfigError, match="SIMPUL_FLOW_PORT"):
        load_flow_settings({"SIMPUL_FLOW_PORT": "70000"})
    with pytest.raises(ConfigError, match="SIMPUL_FLOW_FLUSH_S"):
        load_flow_settings({"SIMPUL_FLOW_FLUSH_S": "soon"})


def test_trap_settings_keep_secrets_out_of_repr() -> None:
    s = load_trap_settings({"SIMPUL_TRAP_V3_USER": "simpul",
                            "SIMPUL_TRAP_V3_AUTH_KEY": "auth-secret-1",
                            "SIMPUL_TRAP_V3_PRIV_KEY": "priv-secret-1",
                            "SIMPUL_TRAP_COMMUNITIES": "c1,c2"})
    assert s.port == 10162 and s.hosts == ("127.0.0.1",) and s.communities == ("c1", "c2")
    assert "secret" not in repr(s) and "c1" not in repr(s)
    with pytest.raises(ConfigError, match="at least 8"):
        load_trap_settings({"SIMPUL_TRAP_V3_AUTH_KEY": "short"})
    with pytest.raises(ConfigError, match="needs SIMPUL_TRAP_V3_AUTH_KEY"):
        load_trap_settings({"SIMPUL_TRAP_V3_PRIV_KEY": "priv-secret-1"})
    with pytest.raises(ConfigError, match="AUTH_PROTO"):
        load_trap_settings({"SIMPUL_TRAP_V3_AUTH_PROTO": "CRC32"})
    with pytest.raises(ConfigError, match="engine ID"):
        load_trap_settings({"SIMPUL_TRAP_V3_ENGINE_IDS": "xyz"})
