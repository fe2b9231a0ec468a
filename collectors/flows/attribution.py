"""Which OPD an address belongs to: longest-prefix match on the inventory's prefixes.

A prefix's OPD is its own ``opd_id``, else the OPD of its site; prefixes with neither
are ignored, so a more specific unowned prefix (a /31 link) never hides the OPD of the
block around it. The table is a dict per prefix length, so a lookup is at most 33 (IPv4)
or 129 (IPv6) dict probes, and answers are cached per address.
"""

from __future__ import annotations

import ipaddress
import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.models import Prefix, Site
from simpul.db import Database

MAX_CACHE = 200_000


class OpdResolver:
    """Address → OPD id, loaded from the inventory and refreshed on demand."""

    def __init__(self, prefixes: list[tuple[str, int]] | None = None) -> None:
        self._v4: dict[int, dict[int, int]] = {}
        self._v6: dict[int, dict[int, int]] = {}
        self._cache: dict[str, int | None] = {}
        self.loaded_at = 0.0
        if prefixes:
            self._build(prefixes)

    def _build(self, prefixes: list[tuple[str, int]]) -> None:
        v4: dict[int, dict[int, int]] = {}
        v6: dict[int, dict[int, int]] = {}
        for text, opd_id in prefixes:
            try:
                net = ipaddress.ip_network(text, strict=False)
            except ValueError:
                continue
            table = v4 if net.version == 4 else v6
            table.setdefault(net.prefixlen, {})[int(net.network_address)] = opd_id
        self._v4 = dict(sorted(v4.items(), reverse=True))
        self._v6 = dict(sorted(v6.items(), reverse=True))
        self._cache = {}
        self.loaded_at = time.monotonic()

    @staticmethod
    def load_prefixes(session: Session) -> list[tuple[str, int]]:
        """Return ``(prefix, opd_id)`` for every inventory prefix that has an OPD."""
        stmt = (select(Prefix.prefix, Prefix.opd_id, Site.opd_id)
                .outerjoin(Site, Site.id == Prefix.site_id))
        out = []
        for prefix, own, site_opd in session.execute(stmt):
            opd = own if own is not None else site_opd
            if opd is not None:
                out.append((prefix, int(opd)))
        return out

    def refresh(self, db: Database) -> None:
        """Reload the prefixes from the inventory."""
        with db.session(write=False) as session:
            self._build(self.load_prefixes(session))

    def lookup(self, address: str) -> int | None:
        """Return the OPD id owning *address*, or None."""
        if address in self._cache:
            return self._cache[address]
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return None
        value = int(ip)
        bits = 32 if ip.version == 4 else 128
        found = None
        for length, table in (self._v4 if ip.version == 4 else self._v6).items():
            mask = ((1 << bits) - 1) ^ ((1 << (bits - length)) - 1)
            opd = table.get(value & mask)
            if opd is not None:
                found = opd
                break
        if len(self._cache) >= MAX_CACHE:
            self._cache.clear()
        self._cache[address] = found
        return found
