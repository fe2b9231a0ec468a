"""Enrichment: add what simpul knows about the addresses in an event.

An enricher is any ``Callable[[Event], Event]``. The registry runs them in order and
isolates failures (an enricher that raises is logged and skipped, the event is kept).
The inventory lookup (device, role, site, OPD, criticality) plugs in here later; until
then a static map from ``SIMPUL_SIEM_ASSET_MAP`` (JSON: address or CIDR -> attributes)
or from tests does the same job.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from loguru import logger

from siem.errors import SiemError
from siem.normalise import Event

Enricher = Callable[[Event], Event]
ASSET_KEYS = ("device", "role", "site", "opd", "criticality")
_PREFIXES = ("source", "destination", "host", "observer")
_IP_KEYS = tuple((f"{prefix}.ip", prefix) for prefix in _PREFIXES)
LOOKUP_CACHE_SIZE = 65536


class EnrichmentRegistry:
    """An ordered list of enrichers applied to every event."""

    def __init__(self, enrichers: list[Enricher] | None = None) -> None:
        self._enrichers: list[Enricher] = list(enrichers or [])
        self._failed: set[str] = set()

    def register(self, enricher: Enricher) -> None:
        """Append *enricher*; it runs after those registered before it."""
        self._enrichers.append(enricher)

    def enrich(self, event: Event) -> Event:
        """Return *event* after every enricher (a no-op when none is registered)."""
        for enricher in self._enrichers:
            try:
                event = enricher(event)
            except Exception as exc:
                name = getattr(enricher, "__name__", repr(enricher))
                if name not in self._failed:  # once per enricher, not once per event
                    self._failed.add(name)
                    logger.error("enricher {} failed: {}", name, exc)
        return event


class StaticAssetMap:
    """Enrich addresses from a fixed map of address or CIDR to asset attributes.

    Adds ``<prefix>.asset.device/role/site/opd/criticality`` for ``source``,
    ``destination``, ``host`` and ``observer`` addresses; the most specific network wins.
    """

    __name__ = "static_asset_map"

    def __init__(self, mapping: Mapping[str, Mapping[str, Any]]) -> None:
        self._exact: dict[str, dict[str, Any]] = {}
        self._nets: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, dict[str, Any]]] = []
        for key, attrs in mapping.items():
            clean = {k: v for k, v in attrs.items() if k in ASSET_KEYS}
            try:
                net = ipaddress.ip_network(key, strict=False)
            except ValueError:
                raise SiemError(f"asset map: {key!r} is not an address or network") from None
            if net.num_addresses == 1:
                self._exact[str(net.network_address)] = clean
            else:
                self._nets.append((net, clean))
        self._nets.sort(key=lambda item: item[0].prefixlen, reverse=True)
        self._cache: dict[str, dict[str, Any] | None] = {}
        # (prefix, id of an attrs dict above) -> the event fields it adds; attrs live as
        # long as the map, so their ids are stable.
        self._fields: dict[tuple[str, int], dict[str, Any]] = {}

    @classmethod
    def from_file(cls, path: str | Path) -> StaticAssetMap:
        """Load a JSON object ``{"10.0.0.1": {"device": "core-1", ...}, "10.1.0.0/16": ...}``."""
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise SiemError(f"asset map {path} cannot be read: {exc}") from None
        if not isinstance(data, dict):
            raise SiemError(f"asset map {path} must be a JSON object")
        return cls(data)

    def lookup(self, address: str) -> dict[str, Any] | None:
        """Return the attributes for *address*, or None.

        Network matches are cached per address (bounded): parsing the address and
        walking the networks cost more than the rest of enrichment per event.
        """
        found = self._exact.get(address)
        if found is not None or not self._nets:
            return found
        cache = self._cache
        if address in cache:
            return cache[address]
        found = self._match(address)
        if len(cache) >= LOOKUP_CACHE_SIZE:
            cache.clear()
        cache[address] = found
        return found

    def _match(self, address: str) -> dict[str, Any] | None:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return None
        for net, attrs in self._nets:
            if ip.version == net.version and ip in net:
                return attrs
        return None

    def __call__(self, event: Event) -> Event:
        for ip_key, prefix in _IP_KEYS:
            address = event.get(ip_key)
            if not address:
                continue
            attrs = self.lookup(address)
            if attrs:
                fields = self._fields.get((prefix, id(attrs)))
                if fields is None:
                    fields = {f"{prefix}.asset.{key}": value for key, value in attrs.items()}
                    self._fields[(prefix, id(attrs))] = fields
                event.update(fields)
        return event


def build_registry(asset_map: str = "") -> EnrichmentRegistry:
    """Return the registry the service uses: the static map when one is configured."""
    registry = EnrichmentRegistry()
    if asset_map:
        registry.register(StaticAssetMap.from_file(asset_map))
    return registry
