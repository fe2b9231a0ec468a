"""The slowly changing policy facts, loaded whole and cached for a few seconds.

VLANs per OPD and role, site policies and the NAS-to-site map are small tables that
change rarely; loading them in three queries every few seconds keeps each RADIUS
decision to one indexed lookup of the MAC (plus the decision insert). Register entries
themselves are never cached: a block takes effect at the very next request.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.models import Vlan, VlanGroup
from nac.models import NacSitePolicy, NacVlanPolicy
from nac.nas import list_nas
from nac.policy import SitePolicy
from simpul.db import Database


@dataclass(frozen=True)
class PolicyData:
    """One consistent snapshot of the VLAN map, site policies and NAS sites."""

    # (opd_id, role) -> [(site_id or None, vid)], from the inventory's VLANs
    inventory_vlans: dict[tuple[int, str], list[tuple[int | None, int]]] = field(
        default_factory=dict)
    # (opd_key, role) -> vid, from nac_vlan_policy (opd_key 0: any OPD)
    policy_vlans: dict[tuple[int, str], int] = field(default_factory=dict)
    site_policies: dict[int, SitePolicy] = field(default_factory=dict)  # site_key -> policy
    nas_sites: dict[str, int | None] = field(default_factory=dict)  # NAS IP -> site id

    def vlan_for(self, opd_id: int | None, role: str, site_id: int | None) -> int | None:
        """The VLAN for an OPD and role at a site: inventory first, then the policy table."""
        if opd_id is None:
            return None
        candidates = self.inventory_vlans.get((opd_id, role), [])
        for wanted in (site_id, None):
            for cand_site, vid in candidates:
                if cand_site == wanted:
                    return vid
        if candidates:
            return candidates[0][1]
        return self.policy_vlans.get((opd_id, role), self.policy_vlans.get((0, role)))

    def site_policy(self, site_id: int | None) -> SitePolicy:
        """The NAS's site policy, else the default row, else reject."""
        if site_id is not None and site_id in self.site_policies:
            return self.site_policies[site_id]
        return self.site_policies.get(0, SitePolicy())


def load_policy_data(session: Session) -> PolicyData:
    """Read the whole policy snapshot (a handful of small queries)."""
    inventory: dict[tuple[int, str], list[tuple[int | None, int]]] = {}
    rows = session.execute(
        select(Vlan.opd_id, Vlan.role, VlanGroup.site_id, Vlan.vid)
        .outerjoin(VlanGroup, VlanGroup.id == Vlan.group_id)
        .where(Vlan.opd_id.is_not(None), Vlan.role != "", Vlan.status == "active")
        .order_by(Vlan.vid)).all()
    for opd_id, role, site_id, vid in rows:
        inventory.setdefault((opd_id, role.lower()), []).append((site_id, vid))
    policy = {(r.opd_key, r.role): r.vid for r in session.scalars(select(NacVlanPolicy))}
    sites = {r.site_key: SitePolicy(r.unknown_action, r.quarantine_vid)
             for r in session.scalars(select(NacSitePolicy))}
    nas = {n.ip: n.site_id for n in list_nas(session)}
    return PolicyData(inventory, policy, sites, nas)


class PolicyCache:
    """A PolicyData snapshot refreshed at most every *ttl* seconds, shared by threads."""

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self._data: PolicyData | None = None
        self._loaded = 0.0
        self._lock = threading.Lock()

    def get(self, session: Session) -> PolicyData:
        """Return the snapshot, reloading it through *session* when it is stale."""
        now = time.monotonic()
        if self._data is not None and now - self._loaded < self.ttl:
            return self._data
        with self._lock:
            if self._data is None or time.monotonic() - self._loaded >= self.ttl:
                self._data = load_policy_data(session)
                self._loaded = time.monotonic()
            return self._data

    def current(self, db: Database) -> PolicyData:
        """Like ``get``, opening a read session only when the snapshot must be reloaded."""
        if self._data is not None and time.monotonic() - self._loaded < self.ttl:
            return self._data
        with db.session(write=False) as session:
            return self.get(session)

    def invalidate(self) -> None:
        """Forget the snapshot (after a policy change in this process)."""
        with self._lock:
            self._data = None
