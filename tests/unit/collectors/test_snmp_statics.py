"""When the poller re-reads interface names/aliases/speeds, and how it decodes them."""

from __future__ import annotations

import pytest
from pysnmp.proto.rfc1902 import Gauge32, Integer32, OctetString

from collectors.snmp import mibs
from collectors.snmp.poller import _interface_statics
from collectors.snmp.settings import load_snmp_settings
from collectors.snmp.statics import DeviceStatics, StaticsCache, refresh_reason
from simpul.errors import ConfigError


def cached(**kw: object) -> DeviceStatics:
    values: dict = {"uptime_cs": 10_000, "if_number": 3, "table_last_change": 0,
                    "interfaces": {}, "status_indexes": frozenset(), "polls": 1}
    values.update(kw)
    return DeviceStatics(**values)


def reason(statics: DeviceStatics | None, uptime: int | None = 16_000, if_number: int = 3,
           last_change: int | None = 0, every: int = 10) -> str:
    return refresh_reason(statics, uptime_cs=uptime, if_number=if_number,
                          table_last_change=last_change, every=every)


def test_reuse_until_every_n_polls() -> None:
    assert reason(None) == "first poll"
    assert reason(cached(polls=1)) == ""
    assert reason(cached(polls=9)) == ""
    assert reason(cached(polls=10)) == "every 10 polls"
    assert reason(cached(polls=1), every=1) == "every 1 polls"  # 1 = the old behaviour


def test_restart_and_interface_changes_force_a_refresh() -> None:
    assert reason(cached(), uptime=500) == "sysUpTime went back (restart)"
    assert reason(cached(), uptime=None) == ""  # agent without sysUpTime: no false alarm
    assert reason(cached(), if_number=4) == "ifNumber changed"
    assert reason(cached(), last_change=12_345) == "ifTableLastChange changed"
    assert reason(cached(table_last_change=None), last_change=None) == ""


def test_cache_is_per_device_address_and_port() -> None:
    cache = StaticsCache()
    cache.put((1, "10.0.0.1", 161), cached())
    assert cache.get((1, "10.0.0.1", 161)) is not None
    assert cache.get((1, "10.0.0.2", 161)) is None  # new address: read again
    cache.clear()
    assert len(cache) == 0


def test_interface_statics_decode_like_a_full_read() -> None:
    cols = {c: {} for c in mibs.IF_STATIC_COLUMNS}
    cols[mibs.IF_DESCR] = {(1,): OctetString(b"lo"), (2,): OctetString(b"eth0 Intel")}
    cols[mibs.IF_NAME] = {(2,): OctetString(b"eth0"), (3,): OctetString(b"\x00\x01")}
    cols[mibs.IF_ALIAS] = {(2,): OctetString(b"uplink ke Dinkes")}
    cols[mibs.IF_TYPE] = {(1,): Integer32(24), (2,): Integer32(6)}
    cols[mibs.IF_SPEED] = {(1,): Gauge32(10_000_000), (2,): Gauge32(4_294_967_295)}
    cols[mibs.IF_HIGH_SPEED] = {(1,): Gauge32(0), (2,): Gauge32(10_000)}
    cols[mibs.IF_DESCR][(5, 1)] = OctetString(b"not an ifIndex")
    got = _interface_statics(cols)
    assert list(got) == [1, 2, 3]
    assert got[1].name == "lo" and got[1].speed_bps == 10_000_000 and got[1].if_type == 24
    assert got[2].name == "eth0" and got[2].descr == "eth0 Intel"
    assert got[2].alias == "uplink ke Dinkes" and got[2].speed_bps == 10_000_000_000
    assert got[3].name == "00:01" and got[3].descr == "" and got[3].speed_bps is None


def test_static_every_setting() -> None:
    assert load_snmp_settings(env={}).static_every == 10
    assert load_snmp_settings(env={"SIMPUL_SNMP_STATIC_EVERY": "1"}).static_every == 1
    with pytest.raises(ConfigError, match="SIMPUL_SNMP_STATIC_EVERY"):
        load_snmp_settings(env={"SIMPUL_SNMP_STATIC_EVERY": "0"})
