"""What the evaluators read: small value types and the MetricSource protocol.

The evaluators never query tables themselves: each asks a MetricSource for current
values (latest device/interface state, rates, host resources, per-OPD rates) or for a
series (anomaly baselines). ``collectors.alerts.adapters`` builds the real source from
the SNMP and flow collectors' query modules; tests use ``MemorySource``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Where:
    """Where an entity lives, for maintenance windows and OPD tenancy."""

    device: str = ""
    site: str = ""
    opd: str = ""  # OPD code
    service: str = ""


@dataclass(frozen=True)
class DeviceState:
    """Is a polled device answering?"""

    device: str
    reachable: bool
    where: Where = field(default_factory=Where)
    last_seen: datetime | None = None
    address: str = ""


@dataclass(frozen=True)
class InterfaceState:
    """Operational and administrative status of one interface."""

    device: str
    interface: str
    oper_up: bool
    admin_up: bool = True
    where: Where = field(default_factory=Where)
    alias: str = ""
    changed_at: datetime | None = None


@dataclass(frozen=True)
class InterfaceRate:
    """Current rates of one interface (bits/s and per-second error/discard counts)."""

    device: str
    interface: str
    in_bps: float
    out_bps: float
    speed_bps: float | None = None
    in_errors_ps: float = 0.0
    out_errors_ps: float = 0.0
    in_discards_ps: float = 0.0
    out_discards_ps: float = 0.0
    where: Where = field(default_factory=Where)


@dataclass(frozen=True)
class HostResources:
    """Latest CPU, memory and per-mount disk use in percent (None: not reported)."""

    device: str
    cpu_pct: float | None = None
    mem_pct: float | None = None
    disks: dict[str, float] = field(default_factory=dict)
    where: Where = field(default_factory=Where)


@dataclass(frozen=True)
class OpdRate:
    """An OPD's current internet traffic in bits/s (the larger direction)."""

    opd: str
    bps: float
    source: str = ""


@dataclass(frozen=True)
class SeriesRef:
    """A series worth baselining: interface rates, flow volumes per OPD."""

    key: str           # e.g. "if:core1:eth1:in" or "flow:DINKES"
    label: str         # what an operator reads: "core1 eth1 inbound"
    unit: str          # "bps"
    where: Where = field(default_factory=Where)


Point = tuple[datetime, float]


class MetricSource(Protocol):
    """Where evaluators get their numbers; every method may return nothing."""

    def devices(self, session: Session, now: datetime) -> Sequence[DeviceState]: ...

    def interfaces(self, session: Session, now: datetime) -> Sequence[InterfaceState]: ...

    def interface_rates(self, session: Session, now: datetime) -> Sequence[InterfaceRate]: ...

    def host_resources(self, session: Session, now: datetime) -> Sequence[HostResources]: ...

    def opd_rates(self, session: Session, now: datetime) -> Sequence[OpdRate]: ...

    def anomaly_series(self, session: Session, now: datetime) -> Sequence[SeriesRef]: ...

    def series(self, session: Session, key: str, since: datetime, until: datetime
               ) -> Sequence[Point]: ...


@dataclass
class MemorySource:
    """A MetricSource holding plain lists: for tests and for feeding values by hand."""

    device_states: list[DeviceState] = field(default_factory=list)
    interface_states: list[InterfaceState] = field(default_factory=list)
    rates: list[InterfaceRate] = field(default_factory=list)
    resources: list[HostResources] = field(default_factory=list)
    opd: list[OpdRate] = field(default_factory=list)
    series_refs: list[SeriesRef] = field(default_factory=list)
    points: dict[str, list[Point]] = field(default_factory=dict)

    def devices(self, session: Session, now: datetime) -> Sequence[DeviceState]:
        return self.device_states

    def interfaces(self, session: Session, now: datetime) -> Sequence[InterfaceState]:
        return self.interface_states

    def interface_rates(self, session: Session, now: datetime) -> Sequence[InterfaceRate]:
        return self.rates

    def host_resources(self, session: Session, now: datetime) -> Sequence[HostResources]:
        return self.resources

    def opd_rates(self, session: Session, now: datetime) -> Sequence[OpdRate]:
        return self.opd

    def anomaly_series(self, session: Session, now: datetime) -> Sequence[SeriesRef]:
        return self.series_refs

    def series(self, session: Session, key: str, since: datetime, until: datetime
               ) -> Sequence[Point]:
        return [(t, v) for t, v in self.points.get(key, []) if since <= t < until]
