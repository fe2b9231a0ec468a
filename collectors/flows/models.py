"""Tables of the flow collector and the trap receiver.

Flow aggregates are stored per time bucket (``ts`` = bucket start, UNIX seconds, so
that any coarser step is plain integer arithmetic on SQLite and PostgreSQL alike) and
per *kind* of key, so that the row count grows with the number of hosts and services,
not with the number of conversations (which at 50,000 flows/s is most of the flows):

* ``s`` source rows: (exporter, source address, source OPD, destination OPD) — every
  flow is in exactly one ``s`` row, so totals, per-OPD traffic and volume series read
  these;
* ``d`` destination rows: (exporter, destination address, both OPDs);
* ``v`` service rows: (exporter, protocol, service port, both OPDs);
* ``c`` conversation rows: (exporter, source, destination, protocol, port, both OPDs),
  only the biggest conversations of each minute (``CONVERSATIONS_PER_MINUTE``).

Rows are appended, never updated: two flushes within one bucket simply add two rows,
and every query sums. The roll-up folds 1-minute rows into 1-hour rows
(``resolution``) so that retention can drop the fine rows early and keep the coarse
ones long.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from simpul.models.base import Base, utcnow

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a real bigint.
_BIGID = BigInteger().with_variant(Integer, "sqlite")

RES_MINUTE = 60
RES_HOUR = 3600
KIND_SOURCE, KIND_DESTINATION, KIND_SERVICE, KIND_CONVERSATION = "s", "d", "v", "c"


class FlowAggregate(Base):
    """Bytes, packets and flows of one key in one bucket, as seen by one exporter."""

    __tablename__ = "flow_aggregates"
    __table_args__ = (
        Index("ix_flow_aggregates_kind_res_ts", "kind", "resolution", "ts"),
        Index("ix_flow_aggregates_src_opd", "src_opd_id", "kind", "resolution", "ts"),
        Index("ix_flow_aggregates_dst_opd", "dst_opd_id", "kind", "resolution", "ts"),
        {"info": {"package": "flows"}},
    )

    id: Mapped[int] = mapped_column(_BIGID, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(1))
    resolution: Mapped[int] = mapped_column(Integer)
    ts: Mapped[int] = mapped_column(BigInteger)
    exporter: Mapped[str] = mapped_column(String(45))
    src_addr: Mapped[str] = mapped_column(String(45))
    dst_addr: Mapped[str] = mapped_column(String(45))
    protocol: Mapped[int] = mapped_column(SmallInteger)
    port: Mapped[int] = mapped_column(Integer)
    src_opd_id: Mapped[int | None] = mapped_column(ForeignKey("opd.id", ondelete="SET NULL"))
    dst_opd_id: Mapped[int | None] = mapped_column(ForeignKey("opd.id", ondelete="SET NULL"))
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    packets: Mapped[int] = mapped_column(BigInteger, default=0)
    flows: Mapped[int] = mapped_column(BigInteger, default=0)


class FlowExporter(Base):
    """Counters per exporter (address), so operators can see who sends and what fails."""

    __tablename__ = "flow_exporters"
    __table_args__ = ({"info": {"package": "flows"}},)

    address: Mapped[str] = mapped_column(String(45), primary_key=True)
    version: Mapped[int] = mapped_column(SmallInteger, default=0)
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    packets: Mapped[int] = mapped_column(BigInteger, default=0)
    records: Mapped[int] = mapped_column(BigInteger, default=0)
    malformed: Mapped[int] = mapped_column(BigInteger, default=0)
    no_template: Mapped[int] = mapped_column(BigInteger, default=0)
    # 1-in-N packet sampling applied to this exporter's newest records (1: unsampled) and
    # where N came from: header (v5), announced (v9/IPFIX options), configured; None
    # when nobody said the exporter samples.
    sampling_rate: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    sampling_source: Mapped[str | None] = mapped_column(String(16))


class TrapEvent(Base):
    """One received SNMP notification, with the device it came from when known."""

    __tablename__ = "trap_events"
    __table_args__ = (
        Index("ix_trap_events_received", "received_at", "id"),
        {"info": {"package": "flows"}},
    )

    id: Mapped[int] = mapped_column(_BIGID, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    source_addr: Mapped[str] = mapped_column(String(45))
    device_id: Mapped[int | None] = mapped_column(
        ForeignKey("dcim_device.id", ondelete="SET NULL"), index=True)
    device_name: Mapped[str] = mapped_column(String(64), default="")
    opd_id: Mapped[int | None] = mapped_column(
        ForeignKey("opd.id", ondelete="SET NULL"), index=True)
    version: Mapped[str] = mapped_column(String(4))
    security_name: Mapped[str] = mapped_column(String(64), default="")
    trap: Mapped[str] = mapped_column(String(64), index=True)
    trap_oid: Mapped[str] = mapped_column(String(128))
    if_index: Mapped[int | None] = mapped_column(Integer)
    if_name: Mapped[str] = mapped_column(String(64), default="")
    severity: Mapped[str] = mapped_column(String(16), default="info")
    message: Mapped[str] = mapped_column(String(500), default="")
    varbinds: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
