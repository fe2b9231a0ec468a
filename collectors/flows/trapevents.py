"""From a received SNMP notification to a stored trap event and a SIEM event.

The receiver hands over plain values (``ReceivedTrap``); this module names the trap,
finds the sending device in the inventory (by the address it sent from, or the
``snmpTrapAddress`` varbind a relay adds), stores a ``TrapEvent`` and passes a
normalised event to the SIEM's event store (``event.category`` network, ``observer`` =
the device).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from loguru import logger
from sqlalchemy import select
from sqlalchemy.orm import Session

from collectors.flows.models import TrapEvent
from inventory.addressing import to_hex
from inventory.models import Device, Interface, IpAddress, Site
from simpul.db import Database
from simpul.plugins import optional_import

SNMP_TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
SNMP_TRAP_ADDRESS = "1.3.6.1.6.3.18.1.3.0"
IF_INDEX = "1.3.6.1.2.1.2.2.1.1."
IF_DESCR = "1.3.6.1.2.1.2.2.1.2."
IF_ADMIN = "1.3.6.1.2.1.2.2.1.7."
IF_OPER = "1.3.6.1.2.1.2.2.1.8."
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1."

# name, ECS event.action, syslog-scale severity (0 emergency … 7 debug), outcome
GENERIC_TRAPS: dict[str, tuple[str, str, int, str]] = {
    "1.3.6.1.6.3.1.1.5.1": ("coldStart", "device_cold_start", 5, "unknown"),
    "1.3.6.1.6.3.1.1.5.2": ("warmStart", "device_warm_start", 5, "unknown"),
    "1.3.6.1.6.3.1.1.5.3": ("linkDown", "interface_down", 3, "failure"),
    "1.3.6.1.6.3.1.1.5.4": ("linkUp", "interface_up", 5, "success"),
    "1.3.6.1.6.3.1.1.5.5": ("authenticationFailure", "snmp_authentication_failure", 4,
                            "failure"),
}
SEVERITY_NAMES = {3: "error", 4: "warning", 5: "notice", 6: "info"}
IF_OPER_STATUS = {1: "up", 2: "down", 3: "testing", 4: "unknown", 5: "dormant",
                  6: "notPresent", 7: "lowerLayerDown"}


@dataclass
class ReceivedTrap:
    """What the receiver learned from one notification."""

    source: str
    version: str
    security_name: str
    varbinds: list[tuple[str, Any]]
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class DeviceRef:
    """The inventory device a trap came from."""

    id: int
    name: str
    role: str
    site: str
    opd_id: int | None


def find_device(session: Session, address: str) -> DeviceRef | None:
    """Return the device that has *address* on an interface or as its primary IP."""
    import ipaddress

    try:
        key = to_hex(int(ipaddress.ip_address(address)))
    except ValueError:
        return None
    base = (select(Device.id, Device.name, Device.role, Site.slug, Device.opd_id, Site.opd_id)
            .join(Site, Site.id == Device.site_id))
    row = session.execute(
        base.join(Interface, Interface.device_id == Device.id)
        .join(IpAddress, IpAddress.interface_id == Interface.id)
        .where(IpAddress.ip_hex == key).limit(1)).first()
    if row is None:
        row = session.execute(
            base.join(IpAddress, IpAddress.id == Device.primary_ip4_id)
            .where(IpAddress.ip_hex == key).limit(1)).first()
    if row is None:
        return None
    dev_id, name, role, site, dev_opd, site_opd = row
    return DeviceRef(dev_id, name, role, site, dev_opd if dev_opd is not None else site_opd)


def _text(value: Any) -> Any:
    if isinstance(value, bytes):
        try:
            return value.decode()
        except UnicodeDecodeError:
            return value.hex()
    return value


def describe(trap: ReceivedTrap) -> dict[str, Any]:
    """Return the trap's name, OID, interface and message from its varbinds."""
    vb = {oid: _text(v) for oid, v in trap.varbinds}
    oid = str(vb.get(SNMP_TRAP_OID, ""))
    name, action, severity, outcome = GENERIC_TRAPS.get(
        oid, (oid or "unknown", "snmp_trap", 6, "unknown"))
    if_index = None
    if_name = ""
    for key, value in vb.items():
        if key.startswith(IF_INDEX):
            if_index = int(value)
        elif key.startswith(IF_NAME) or (key.startswith(IF_DESCR) and not if_name):
            if_name = str(value)
    if if_index is None:
        for key in vb:
            if key.startswith((IF_OPER, IF_ADMIN)):
                if_index = int(key.rsplit(".", 1)[1])
                break
    return {"name": name, "oid": oid, "action": action, "severity": severity,
            "outcome": outcome, "if_index": if_index, "if_name": if_name, "varbinds": vb}


def link_status(info: dict[str, Any]) -> str | None:
    """Return the oper status a linkDown/linkUp trap reports ("up", "down", ...), or None
    for other traps and link traps that name no interface.

    The ifOperStatus varbind wins when present (a linkDown may carry "lowerLayerDown");
    otherwise the trap's kind says it.
    """
    if info["name"] not in ("linkDown", "linkUp") or info["if_index"] is None:
        return None
    oper = info["varbinds"].get(f"{IF_OPER}{info['if_index']}")
    try:
        return IF_OPER_STATUS[int(oper)]
    except (TypeError, ValueError, KeyError):
        return "down" if info["name"] == "linkDown" else "up"


def _message(info: dict[str, Any], device: str, source: str) -> str:
    where = device or source
    if info["if_index"] is not None:
        iface = f" ifIndex {info['if_index']}" + (f" ({info['if_name']})" if info["if_name"]
                                                   else "")
        return f"{info['name']} on {where}{iface}"
    return f"{info['name']} from {where}"


def siem_event(trap: ReceivedTrap, info: dict[str, Any], device: DeviceRef | None,
               opd_code: str | None, message: str) -> dict[str, Any]:
    """Return the normalised (flat ECS-style) SIEM event for a trap."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"trap|{trap.source}|{trap.received_at.isoformat()}|".encode())
    digest.update(json.dumps(info["varbinds"], sort_keys=True, default=str).encode())
    event: dict[str, Any] = {
        "@timestamp": trap.received_at, "event.created": trap.received_at,
        "event.id": digest.hexdigest(), "event.kind": "event", "event.module": "snmp",
        "event.dataset": "snmp.trap", "event.action": info["action"],
        "event.category": ["network"], "event.type": ["info"],
        "event.severity": info["severity"], "event.outcome": info["outcome"],
        "event.code": info["oid"], "message": message,
        "observer.ip": trap.source, "observer.type": "network", "host.ip": trap.source,
        "network.protocol": "snmp", "snmp.trap.name": info["name"],
        "snmp.trap.oid": info["oid"], "snmp.version": trap.version,
        "related.ip": [trap.source], "tags": ["snmp_trap"],
    }
    if device is not None:
        event.update({"observer.name": device.name, "host.name": device.name,
                      "observer.asset.device": device.name,
                      "observer.asset.role": device.role,
                      "observer.asset.site": device.site})
        if opd_code:
            event["observer.asset.opd"] = opd_code
    if info["if_index"] is not None:
        event["observer.ingress.interface.id"] = str(info["if_index"])
        if info["if_name"]:
            event["observer.ingress.interface.name"] = info["if_name"]
    return event


def hand_to_siem(db: Database, event: dict[str, Any]) -> bool:
    """Store *event* through the SIEM's event store; False when the SIEM is not installed."""
    store = optional_import("siem.store")
    writer = optional_import("siem.writer")
    if store is None or writer is None:
        return False
    raw = json.dumps({k: v for k, v in event.items() if k.startswith("snmp.")}
                     | {"message": event["message"]}, default=str)
    row = store.event_row(event, raw, "utf8", store.new_row_ids(1)[0])
    writer.store_rows(db, [row])
    return True


def record_trap(db: Database, trap: ReceivedTrap, *, to_siem: bool = True) -> TrapEvent:
    """Store *trap* as a TrapEvent (and hand it to the SIEM); return the stored row."""
    info = describe(trap)
    vb = info["varbinds"]
    relayed = vb.get(SNMP_TRAP_ADDRESS)
    with db.session() as session:
        device = find_device(session, trap.source)
        if device is None and relayed:
            device = find_device(session, str(relayed))
        opd_code = None
        if device is not None and device.opd_id is not None:
            from simpul.models.tenancy import Opd

            opd = session.get(Opd, device.opd_id)
            opd_code = opd.code if opd else None
        message = _message(info, device.name if device else "", trap.source)
        row = TrapEvent(
            received_at=trap.received_at, source_addr=trap.source,
            device_id=device.id if device else None, device_name=device.name if device else "",
            opd_id=device.opd_id if device else None, version=trap.version,
            security_name=trap.security_name[:64] if trap.version == "v3" else "",
            trap=info["name"][:64], trap_oid=info["oid"][:128], if_index=info["if_index"],
            if_name=info["if_name"][:64],
            severity=SEVERITY_NAMES.get(info["severity"], "info"), message=message[:500],
            varbinds={k: v if isinstance(v, int | float | str) else str(v)
                      for k, v in vb.items()})
        session.add(row)
        session.flush()
        session.expunge(row)
        status = link_status(info)
        if device is not None and status is not None:
            snmp_store = optional_import("collectors.snmp.store")
            if snmp_store is not None:
                snmp_store.apply_link_trap(session, device.id, info["if_index"], status,
                                           trap.received_at.timestamp())
    logger.info("trap {} ({})", message, trap.version)
    if to_siem:
        try:
            hand_to_siem(db, siem_event(trap, info, device, opd_code, message))
        except Exception as exc:  # the trap is stored; the SIEM copy is best effort
            logger.error("trap not handed to the SIEM: {}", exc)
    return row
