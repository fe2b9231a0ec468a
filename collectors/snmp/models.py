"""SNMP tables: per-device poll state, interfaces with their latest counters and rates,
raw and rolled-up rate series, oper-status changes, host resources and LLDP neighbours.

Series tables key rows by ``ts``, integer seconds since the epoch (UTC): rows are small,
roll-up bucketing is integer arithmetic on both SQLite and PostgreSQL, and retention is a
range delete on the primary key. Sizing for 500 devices x 50 interfaces at a 60 s cycle
is in ``collectors/snmp/README.md``.

Counters are unsigned 64-bit; SQL ``BIGINT`` is signed, so ``Counter64`` stores them in
two's complement and reads them back unsigned (exact on both databases).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from simpul.models.base import Base

_TWO_63 = 1 << 63
_TWO_64 = 1 << 64


class Counter64(TypeDecorator[int]):
    """An unsigned 64-bit counter stored exactly in a signed BIGINT."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        value = int(value) % _TWO_64
        return value - _TWO_64 if value >= _TWO_63 else value

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        value = int(value)
        return value + _TWO_64 if value < 0 else value


class SnmpDeviceState(Base):
    """What the last polls of one inventory device found: reachability and identity."""

    __tablename__ = "snmp_device_state"

    device_id: Mapped[int] = mapped_column(
        ForeignKey("dcim_device.id", ondelete="CASCADE"), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), default="")
    sys_name: Mapped[str] = mapped_column(String(255), default="")
    sys_descr: Mapped[str] = mapped_column(String(500), default="")
    sys_uptime_cs: Mapped[int | None] = mapped_column(BigInteger)
    reachable: Mapped[bool] = mapped_column(Boolean, default=False)
    last_poll_ts: Mapped[float | None] = mapped_column(Float)
    last_success_ts: Mapped[float | None] = mapped_column(Float)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    poll_seconds: Mapped[float | None] = mapped_column(Float)
    polled_by: Mapped[str] = mapped_column(String(255), default="")


class SnmpInterface(Base):
    """One ifIndex of one device: names, status, the last raw counters and latest rates."""

    __tablename__ = "snmp_interface"
    __table_args__ = (
        UniqueConstraint("device_id", "if_index", name="uq_snmp_interface_device_ifindex"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(
        ForeignKey("dcim_device.id", ondelete="CASCADE"), index=True)
    if_index: Mapped[int] = mapped_column(Integer)
    interface_id: Mapped[int | None] = mapped_column(
        ForeignKey("dcim_interface.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    descr: Mapped[str] = mapped_column(String(255), default="")
    alias: Mapped[str] = mapped_column(String(255), default="")
    if_type: Mapped[int | None] = mapped_column(Integer)
    speed_bps: Mapped[int | None] = mapped_column(BigInteger)
    admin_status: Mapped[str] = mapped_column(String(16), default="")
    oper_status: Mapped[str] = mapped_column(String(16), default="")
    last_change_ts: Mapped[float | None] = mapped_column(Float)
    counter_bits: Mapped[int] = mapped_column(Integer, default=64)
    in_octets: Mapped[int | None] = mapped_column(Counter64)
    out_octets: Mapped[int | None] = mapped_column(Counter64)
    in_errors: Mapped[int | None] = mapped_column(Counter64)
    out_errors: Mapped[int | None] = mapped_column(Counter64)
    in_discards: Mapped[int | None] = mapped_column(Counter64)
    out_discards: Mapped[int | None] = mapped_column(Counter64)
    counters_ts: Mapped[float | None] = mapped_column(Float)
    in_bps: Mapped[float | None] = mapped_column(Float)
    out_bps: Mapped[float | None] = mapped_column(Float)
    in_errors_ps: Mapped[float | None] = mapped_column(Float)
    out_errors_ps: Mapped[float | None] = mapped_column(Float)
    in_discards_ps: Mapped[float | None] = mapped_column(Float)
    out_discards_ps: Mapped[float | None] = mapped_column(Float)
    rate_ts: Mapped[float | None] = mapped_column(Float)


class SnmpInterfaceSample(Base):
    """One raw rate sample (one poll interval) of one interface."""

    __tablename__ = "snmp_if_sample"

    snmp_interface_id: Mapped[int] = mapped_column(
        ForeignKey("snmp_interface.id", ondelete="CASCADE"), primary_key=True)
    ts: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    interval_s: Mapped[float] = mapped_column(Float)
    in_bps: Mapped[float] = mapped_column(Float)
    out_bps: Mapped[float] = mapped_column(Float)
    in_errors_ps: Mapped[float] = mapped_column(Float, default=0.0)
    out_errors_ps: Mapped[float] = mapped_column(Float, default=0.0)
    in_discards_ps: Mapped[float] = mapped_column(Float, default=0.0)
    out_discards_ps: Mapped[float] = mapped_column(Float, default=0.0)


Index("ix_snmp_if_sample_ts", SnmpInterfaceSample.ts)


class SnmpInterfaceRollup(Base):
    """Averages (and peaks) of an interface's rates over a 300 s or 3600 s bucket."""

    __tablename__ = "snmp_if_rollup"

    resolution: Mapped[int] = mapped_column(Integer, primary_key=True)
    snmp_interface_id: Mapped[int] = mapped_column(
        ForeignKey("snmp_interface.id", ondelete="CASCADE"), primary_key=True)
    ts: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    samples: Mapped[int] = mapped_column(Integer)
    in_bps: Mapped[float] = mapped_column(Float)
    out_bps: Mapped[float] = mapped_column(Float)
    in_bps_max: Mapped[float] = mapped_column(Float)
    out_bps_max: Mapped[float] = mapped_column(Float)
    in_errors_ps: Mapped[float] = mapped_column(Float, default=0.0)
    out_errors_ps: Mapped[float] = mapped_column(Float, default=0.0)
    in_discards_ps: Mapped[float] = mapped_column(Float, default=0.0)
    out_discards_ps: Mapped[float] = mapped_column(Float, default=0.0)


Index("ix_snmp_if_rollup_ts", SnmpInterfaceRollup.resolution, SnmpInterfaceRollup.ts)


class SnmpStatusChange(Base):
    """An interface's oper-status moving (e.g. up -> down), when the poll first saw it."""

    __tablename__ = "snmp_if_status_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    snmp_interface_id: Mapped[int] = mapped_column(
        ForeignKey("snmp_interface.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[int] = mapped_column(
        ForeignKey("dcim_device.id", ondelete="CASCADE"), index=True)
    ts: Mapped[float] = mapped_column(Float, index=True)
    old_status: Mapped[str] = mapped_column(String(16), default="")
    new_status: Mapped[str] = mapped_column(String(16))


class SnmpHostSample(Base):
    """CPU, memory and fullest-disk use of one device at one poll."""

    __tablename__ = "snmp_host_sample"

    device_id: Mapped[int] = mapped_column(
        ForeignKey("dcim_device.id", ondelete="CASCADE"), primary_key=True)
    ts: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    cpu_pct: Mapped[float | None] = mapped_column(Float)
    mem_total_bytes: Mapped[int | None] = mapped_column(BigInteger)
    mem_used_bytes: Mapped[int | None] = mapped_column(BigInteger)
    mem_pct: Mapped[float | None] = mapped_column(Float)
    disk_max_pct: Mapped[float | None] = mapped_column(Float)
    load1: Mapped[float | None] = mapped_column(Float)


Index("ix_snmp_host_sample_ts", SnmpHostSample.ts)


class SnmpHostRollup(Base):
    """Averages and peaks of a device's host resources over a 300 s or 3600 s bucket."""

    __tablename__ = "snmp_host_rollup"

    resolution: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[int] = mapped_column(
        ForeignKey("dcim_device.id", ondelete="CASCADE"), primary_key=True)
    ts: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    samples: Mapped[int] = mapped_column(Integer)
    cpu_pct: Mapped[float | None] = mapped_column(Float)
    cpu_pct_max: Mapped[float | None] = mapped_column(Float)
    mem_pct: Mapped[float | None] = mapped_column(Float)
    mem_pct_max: Mapped[float | None] = mapped_column(Float)
    disk_max_pct: Mapped[float | None] = mapped_column(Float)


Index("ix_snmp_host_rollup_ts", SnmpHostRollup.resolution, SnmpHostRollup.ts)


class SnmpStorage(Base):
    """One storage area of a device (disk, RAM, swap) as last polled."""

    __tablename__ = "snmp_storage"

    device_id: Mapped[int] = mapped_column(
        ForeignKey("dcim_device.id", ondelete="CASCADE"), primary_key=True)
    descr: Mapped[str] = mapped_column(String(255), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="other")
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    used_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_ts: Mapped[float] = mapped_column(Float)


class SnmpLldpNeighbour(Base):
    """A neighbour one device hears on one local port (LLDP-MIB lldpRemTable)."""

    __tablename__ = "snmp_lldp_neighbour"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(
        ForeignKey("dcim_device.id", ondelete="CASCADE"), index=True)
    local_port_num: Mapped[int] = mapped_column(Integer)
    local_port: Mapped[str] = mapped_column(String(255), default="")
    remote_chassis_id: Mapped[str] = mapped_column(String(255), default="")
    remote_sys_name: Mapped[str] = mapped_column(String(255), default="")
    remote_port_id: Mapped[str] = mapped_column(String(255), default="")
    remote_port_descr: Mapped[str] = mapped_column(String(255), default="")
    remote_device_id: Mapped[int | None] = mapped_column(
        ForeignKey("dcim_device.id", ondelete="SET NULL"), index=True)
    updated_ts: Mapped[float] = mapped_column(Float)


__all__ = [
    "Counter64",
    "SnmpDeviceState",
    "SnmpHostRollup",
    "SnmpHostSample",
    "SnmpInterface",
    "SnmpInterfaceRollup",
    "SnmpInterfaceSample",
    "SnmpLldpNeighbour",
    "SnmpStatusChange",
    "SnmpStorage",
]
