"""Enrichment registry, the static asset map, per-source counters, settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from siem.enrich import EnrichmentRegistry, StaticAssetMap, build_registry
from siem.errors import SiemError
from siem.normalise import to_nested
from siem.settings import load_siem_settings
from siem.stats import SourceStats
from simpul.errors import ConfigError
from simpul.settings import load_settings


def test_registry_without_enrichers_is_a_no_op() -> None:
    event = {"source.ip": "192.0.2.1"}
    assert EnrichmentRegistry().enrich(dict(event)) == event


def test_static_map_exact_and_longest_prefix(tmp_path: Path) -> None:
    path = tmp_path / "assets.json"
    path.write_text(json.dumps({
        "192.0.2.1": {"device": "core-1", "role": "core", "site": "DC", "opd": "DISKOMINFO",
                      "criticality": "high"},
        "198.51.100.0/24": {"site": "internet", "criticality": "low"},
        "198.51.100.0/28": {"site": "partner", "opd": "DINKES"},
    }))
    registry = build_registry(str(path))
    event = registry.enrich({"source.ip": "198.51.100.7", "destination.ip": "192.0.2.1",
                             "host.ip": "203.0.113.1"})
    assert event["source.asset.site"] == "partner"
    assert event["source.asset.opd"] == "DINKES"
    assert event["destination.asset.device"] == "core-1"
    assert event["destination.asset.criticality"] == "high"
    assert not any(k.startswith("host.asset") for k in event)


def test_static_map_cached_lookups_stay_right(monkeypatch: pytest.MonkeyPatch) -> None:
    """Repeated addresses (cached) give the same answer; a full cache starts over."""
    import siem.enrich

    monkeypatch.setattr(siem.enrich, "LOOKUP_CACHE_SIZE", 3)
    assets = StaticAssetMap({"10.0.0.0/8": {"site": "lan"}, "10.1.0.0/16": {"site": "b"}})
    for _ in range(3):
        for i in range(6):
            event = assets({"source.ip": f"10.1.0.{i}", "destination.ip": f"10.2.0.{i}",
                            "host.ip": "192.0.2.9", "observer.ip": "not an address"})
            assert event["source.asset.site"] == "b"
            assert event["destination.asset.site"] == "lan"
            assert not any(k.startswith(("host.asset", "observer.asset")) for k in event)
    assert len(assets._cache) <= 3
    event = assets({"source.ip": "10.1.0.1"})
    event["source.asset.site"] = "changed"  # an event's fields never leak into the map
    assert assets({"source.ip": "10.1.0.1"})["source.asset.site"] == "b"


def test_failing_enricher_keeps_the_event() -> None:
    def broken(event: dict) -> dict:
        raise RuntimeError("inventory down")

    registry = EnrichmentRegistry([broken, StaticAssetMap({"192.0.2.1": {"role": "core"}})])
    assert registry.enrich({"source.ip": "192.0.2.1"})["source.asset.role"] == "core"


def test_bad_asset_map_entry() -> None:
    with pytest.raises(SiemError, match="not an address"):
        StaticAssetMap({"core-1": {}})


def test_source_stats_deltas() -> None:
    stats = SourceStats()
    stats.received("192.0.2.1", "udp", 3, 300)
    stats.dropped("192.0.2.1", "udp", 2)
    first = stats.take_deltas()
    assert (first["192.0.2.1"].received, first["192.0.2.1"].dropped) == (3, 2)
    assert stats.take_deltas() == {}
    stats.processed("192.0.2.1", "udp", 2, 1)
    second = stats.take_deltas()
    assert (second["192.0.2.1"].received, second["192.0.2.1"].parsed,
            second["192.0.2.1"].unparsed) == (0, 2, 1)
    stats.restore(second)
    assert stats.take_deltas()["192.0.2.1"].parsed == 2
    assert stats.snapshot()["192.0.2.1"]["bytes"] == 300


def test_siem_settings_from_environment(tmp_path: Path) -> None:
    base = load_settings(env={}, data_dir=str(tmp_path))
    default = load_siem_settings(base, env={})
    assert (default.syslog_host, default.udp_port, default.tcp_port, default.tls_port) == (
        "127.0.0.1", 5514, 5514, 6514)
    assert default.spool_dir == tmp_path / "siem" / "spool"
    assert not default.tls_enabled
    custom = load_siem_settings(base, env={
        "SIMPUL_SYSLOG_HOST": "0.0.0.0", "SIMPUL_SYSLOG_UDP_PORT": "off",
        "SIMPUL_SYSLOG_TCP_PORT": "1514", "SIMPUL_SIEM_TAIL_FILES": "/var/log/a, /var/log/b",
        "SIMPUL_SYSLOG_TLS_CERT": "c.pem", "SIMPUL_SYSLOG_TLS_KEY": "k.pem"})
    assert (custom.syslog_host, custom.udp_port, custom.tcp_port) == ("0.0.0.0", None, 1514)
    assert custom.tail_files == ("/var/log/a", "/var/log/b")
    assert custom.tls_enabled
    with pytest.raises(ConfigError, match="SIMPUL_SYSLOG_TCP_PORT"):
        load_siem_settings(base, env={"SIMPUL_SYSLOG_TCP_PORT": "70000"})
    with pytest.raises(ConfigError, match="together"):
        load_siem_settings(base, env={"SIMPUL_SYSLOG_TLS_CERT": "c.pem"})


def test_to_nested() -> None:
    nested = to_nested({"source.ip": "192.0.2.1", "source.port": 22, "event.action": "x",
                        "@timestamp": "t"})
    assert nested == {"source": {"ip": "192.0.2.1", "port": 22}, "event": {"action": "x"},
                      "@timestamp": "t"}
