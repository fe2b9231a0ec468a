"""The SNMP poller: many devices at once on pysnmp 7's asyncio API, each within its budget.

One ``SnmpEngine`` serves every device; a semaphore bounds how many are in flight. Each
device gets its own per-request timeout and retries, and the whole device poll a deadline,
so a dead or slow agent costs only its own slot, never the others' time. Tables are
walked column-parallel with GETBULK (several columns per request, as snmp_exporter does),
numeric OIDs only, no MIB lookups.

The static columns (interface names, aliases, types, speeds; storage descriptions) are
read on a device's first poll and then only at a static refresh (``statics.py``); the
counters and statuses every cycle. Requests go through pysnmp's command generators
directly, with prebuilt varbinds: the high-level ``bulk_cmd`` resolves every request
varbind against a MIB view (about 10 % of a poll's CPU) although the OIDs are numeric.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from loguru import logger
from pysnmp.entity.rfc3413 import cmdgen
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
    usm3DESEDEPrivProtocol,
    usmAesCfb128Protocol,
    usmAesCfb256Protocol,
    usmDESPrivProtocol,
    usmHMAC192SHA256AuthProtocol,
    usmHMAC384SHA512AuthProtocol,
    usmHMACMD5AuthProtocol,
    usmHMACSHAAuthProtocol,
)
from pysnmp.hlapi.v3arch.asyncio.lcd import CommandGeneratorLcdConfigurator
from pysnmp.proto.rfc1902 import Null, ObjectName

from collectors.snmp import mibs
from collectors.snmp.mibs import OID
from collectors.snmp.settings import SnmpCredentials, SnmpSettings
from collectors.snmp.statics import (
    DeviceStatics,
    InterfaceStatics,
    StaticsCache,
    refresh_reason,
)

_AUTH = {"SHA": usmHMACSHAAuthProtocol, "SHA256": usmHMAC192SHA256AuthProtocol,
         "SHA512": usmHMAC384SHA512AuthProtocol, "MD5": usmHMACMD5AuthProtocol}
_PRIV = {"AES": usmAesCfb128Protocol, "AES256": usmAesCfb256Protocol,
         "DES": usmDESPrivProtocol, "3DES": usm3DESEDEPrivProtocol}
_NO_VALUE = ("NoSuchObject", "NoSuchInstance", "EndOfMibView", "Null")
# Shares its target/credential tables with pysnmp's own hlapi (they are keyed by class).
_LCD = CommandGeneratorLcdConfigurator()
_NULL = Null("")


class PollError(Exception):
    """One device could not be polled (timeout, auth failure, agent error)."""


@dataclass(frozen=True)
class Target:
    """One device to poll: where, how, and how its interface names map to the inventory."""

    device_id: int
    name: str
    address: str
    port: int = 161
    credentials: SnmpCredentials = field(default_factory=SnmpCredentials)
    interface_ids: dict[str, int] = field(default_factory=dict, hash=False, compare=False)


@dataclass
class InterfaceReading:
    """One ifIndex as read in one poll."""

    if_index: int
    name: str = ""
    descr: str = ""
    alias: str = ""
    if_type: int | None = None
    speed_bps: int | None = None
    admin_status: str = ""
    oper_status: str = ""
    counter_bits: int = 64
    in_octets: int | None = None
    out_octets: int | None = None
    in_errors: int | None = None
    out_errors: int | None = None
    in_discards: int | None = None
    out_discards: int | None = None


@dataclass
class StorageReading:
    """A storage area: descr, kind (ram, disk, virtual...), size and used bytes."""

    descr: str
    kind: str
    size_bytes: int
    used_bytes: int


@dataclass
class HostReading:
    """CPU, memory and disk use read in one poll (None where the agent lacks the MIB)."""

    cpu_pct: float | None = None
    mem_total_bytes: int | None = None
    mem_used_bytes: int | None = None
    load1: float | None = None
    disk_max_pct: float | None = None
    storages: list[StorageReading] = field(default_factory=list)

    @property
    def mem_pct(self) -> float | None:
        if not self.mem_total_bytes or self.mem_used_bytes is None:
            return None
        return 100.0 * self.mem_used_bytes / self.mem_total_bytes


@dataclass
class LldpReading:
    """One remote system heard on one local port."""

    local_port_num: int
    local_port: str
    remote_chassis_id: str
    remote_sys_name: str
    remote_port_id: str
    remote_port_descr: str


@dataclass
class PollResult:
    """Everything one poll of one device produced (or why it failed)."""

    target: Target
    ok: bool
    started: float
    ts: float = 0.0
    duration_s: float = 0.0
    error: str = ""
    sys_uptime_cs: int | None = None
    sys_name: str = ""
    sys_descr: str = ""
    interfaces: list[InterfaceReading] = field(default_factory=list)
    host: HostReading | None = None
    lldp: list[LldpReading] | None = None
    # Why this poll read the static columns ("first poll", "every 10 polls", ...), or ""
    # when they came from the poller's cache.
    static_refresh: str = ""


def _text(value: Any) -> str:
    """Render an OctetString as text when printable, else as colon-separated hex."""
    try:
        raw = bytes(value.asOctets())
    except AttributeError:
        return str(value.prettyPrint())
    try:
        text = raw.decode("utf-8")
        if text.isprintable():
            return text
    except UnicodeDecodeError:
        pass
    return ":".join(f"{b:02x}" for b in raw)


def _opt_text(value: Any) -> str:
    return "" if value is None else _text(value)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _has_value(value: Any) -> bool:
    return type(value).__name__ not in _NO_VALUE


def _interface_statics(cols: dict[OID, dict[OID, Any]]) -> dict[int, InterfaceStatics]:
    """Decode the static IF-MIB columns: one entry per ifIndex (those with ifDescr or ifName).

    The name falls back to ifDescr; the speed is ifHighSpeed (Mb/s) when non-zero, else
    ifSpeed (b/s).
    """
    descrs, names = cols[mibs.IF_DESCR], cols[mibs.IF_NAME]
    aliases, types = cols[mibs.IF_ALIAS], cols[mibs.IF_TYPE]
    highs, lows = cols[mibs.IF_HIGH_SPEED], cols[mibs.IF_SPEED]
    out: dict[int, InterfaceStatics] = {}
    for idx in sorted(descrs.keys() | names.keys()):
        if len(idx) != 1:
            continue
        descr = _opt_text(descrs.get(idx))
        high = _int(highs.get(idx))
        out[idx[0]] = InterfaceStatics(
            name=_opt_text(names.get(idx)) or descr, descr=descr,
            alias=_opt_text(aliases.get(idx)), if_type=_int(types.get(idx)),
            speed_bps=high * 1_000_000 if high else _int(lows.get(idx)))
    return out


class SnmpPoller:
    """Poll targets concurrently; one instance per process and event loop."""

    def __init__(self, settings: SnmpSettings) -> None:
        self.settings = settings
        self.engine = SnmpEngine()
        self._auth_cache: dict[SnmpCredentials, Any] = {}
        self._socket_tuned = False
        self.statics = StaticsCache()

    def close(self) -> None:
        """Release the engine's sockets."""
        try:
            self.engine.close_dispatcher()
        except Exception as exc:  # closing twice or never opened
            logger.debug("closing SNMP engine: {}", exc)

    def _auth(self, creds: SnmpCredentials) -> Any:
        found = self._auth_cache.get(creds)
        if found is None:
            if creds.version == "3":
                found = UsmUserData(creds.v3_user, creds.v3_auth_key, creds.v3_priv_key,
                                    authProtocol=_AUTH[creds.v3_auth_protocol],
                                    privProtocol=_PRIV[creds.v3_priv_protocol])
            else:
                found = CommunityData(creds.community, mpModel=1)
            self._auth_cache[creds] = found
        return found

    async def poll_all(self, targets: Sequence[Target], *,
                       with_lldp: bool = True) -> list[PollResult]:
        """Poll every target, at most ``concurrency`` at a time; results in target order."""
        sem = asyncio.Semaphore(self.settings.concurrency)

        async def one(target: Target) -> PollResult:
            async with sem:
                return await self.poll_device(target, with_lldp=with_lldp)

        return list(await asyncio.gather(*(one(t) for t in targets)))

    async def poll_device(self, target: Target, *, with_lldp: bool = True) -> PollResult:
        """Poll one device within its deadline; never raises for device problems."""
        started = time.time()
        t0 = time.perf_counter()
        result = PollResult(target=target, ok=False, started=started)
        deadline = max(self.settings.interval_s * 0.9,
                       self.settings.timeout_s * (self.settings.retries + 1) + 1.0)
        try:
            await asyncio.wait_for(self._poll(target, result, with_lldp), timeout=deadline)
            result.ok = True
        except PollError as exc:
            result.error = str(exc)
        except TimeoutError:
            result.error = f"poll did not finish within {deadline:.1f} s"
        except Exception as exc:  # an agent's malformed answer must not stop the others
            logger.opt(exception=exc).warning("polling {} failed", target.name)
            result.error = f"{type(exc).__name__}: {exc}"
        result.duration_s = time.perf_counter() - t0
        if not result.ts:
            result.ts = time.time()
        return result

    async def _poll(self, target: Target, result: PollResult, with_lldp: bool) -> None:
        auth = self._auth(target.credentials)
        transport = await UdpTransportTarget.create(
            (target.address, target.port), timeout=self.settings.timeout_s,
            retries=self.settings.retries)
        system = await self.get(auth, transport, mibs.SYSTEM_SCALARS)
        result.sys_uptime_cs = _int(system.get(mibs.SYS_UPTIME))
        result.sys_name = _text(system[mibs.SYS_NAME]) if mibs.SYS_NAME in system else ""
        result.sys_descr = _text(system[mibs.SYS_DESCR]) if mibs.SYS_DESCR in system else ""
        if not self._socket_tuned:
            self._tune_socket()
        key = (target.device_id, target.address, target.port)
        cached = self.statics.get(key)
        if_number = _int(system.get(mibs.IF_NUMBER))
        last_change = _int(system.get(mibs.IF_TABLE_LAST_CHANGE))
        reason = refresh_reason(cached, uptime_cs=result.sys_uptime_cs, if_number=if_number,
                                table_last_change=last_change,
                                every=max(1, self.settings.static_every))
        result.interfaces, statics = await self.read_interfaces(
            auth, transport, None if reason else cached)
        result.ts = time.time()
        if statics is not cached:
            reason = reason or "ifIndex set changed"
            statics.uptime_cs, statics.if_number = result.sys_uptime_cs, if_number
            statics.table_last_change = last_change
        result.static_refresh = reason
        if self.settings.host_resources:
            result.host = await self.read_host(auth, transport, statics,
                                               refresh=statics is not cached)
        if with_lldp:
            result.lldp = await self.read_lldp(auth, transport)
        # Only a complete poll updates the cache: a failed one is retried from the old state.
        statics.uptime_cs = result.sys_uptime_cs
        statics.polls += 1
        self.statics.put(key, statics)

    def _tune_socket(self) -> None:
        """Give the engine's UDP socket a large receive buffer.

        Many agents answering GETBULKs at once can overrun the default ~200 kB buffer;
        a dropped datagram costs a whole timeout and a retry.
        """
        self._socket_tuned = True
        try:
            transports = self.engine.transport_dispatcher._AbstractTransportDispatcher__transports
            for transport in transports.values():
                sock = transport.transport.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        except (AttributeError, OSError) as exc:  # internal layout changed: keep the default
            logger.debug("could not enlarge the SNMP socket buffer: {}", exc)

    # --- protocol helpers ----------------------------------------------------------------

    async def _request(self, auth: Any, transport: Any, oids: Iterable[OID],
                       max_repetitions: int | None) -> tuple[Any, Any, Any, Any]:
        """Send one GET (or GETBULK when *max_repetitions* is given); return pysnmp's answer.

        The same calls as pysnmp's ``get_cmd``/``bulk_cmd`` with ``lookupMib=False``,
        minus the per-request MIB resolution of the request varbinds.
        """
        addr_name, _params = _LCD.configure(self.engine, auth, transport, b"")
        varbinds = [(ObjectName(o), _NULL) for o in oids]
        future: asyncio.Future[tuple[Any, Any, Any, Any]] = \
            asyncio.get_running_loop().create_future()

        def done(_engine: Any, _handle: Any, err: Any, status: Any, index: Any, binds: Any,
                 _ctx: Any) -> None:
            if not future.done():
                future.set_result((err, status, index, binds))

        if max_repetitions is None:
            cmdgen.GetCommandGenerator().send_varbinds(
                self.engine, addr_name, None, b"", varbinds, done, None)
        else:
            cmdgen.BulkCommandGenerator().send_varbinds(
                self.engine, addr_name, None, b"", 0, max_repetitions, varbinds, done, None)
        return await future

    async def get(self, auth: Any, transport: Any, oids: Iterable[OID]) -> dict[OID, Any]:
        """GET scalars; missing ones are left out of the answer."""
        err, status, index, binds = await self._request(auth, transport, oids, None)
        if err:
            raise PollError(str(err))
        if status:
            raise PollError(f"agent error {status.prettyPrint()} at {index}")
        return {name.asTuple(): value for name, value in binds if _has_value(value)}

    async def walk(self, auth: Any, transport: Any,
                   columns: Sequence[OID]) -> dict[OID, dict[OID, Any]]:
        """Walk *columns* side by side with GETBULK; return column -> {index suffix: value}."""
        out: dict[OID, dict[OID, Any]] = {c: {} for c in columns}
        current: dict[OID, OID] = {c: c for c in columns}
        reps = max(1, self.settings.max_repetitions)
        while current:
            cols = list(current)
            err, status, index, binds = await self._request(
                auth, transport, [current[c] for c in cols], reps)
            if err:
                raise PollError(str(err))
            if status:
                raise PollError(f"agent error {status.prettyPrint()} at {index}")
            if not binds:
                break
            done: set[OID] = set()
            last: dict[OID, OID] = {}
            width = len(cols)
            lengths = [len(c) for c in cols]
            targets = [out[c] for c in cols]
            for i, (name, value) in enumerate(binds):
                pos = i % width
                col = cols[pos]
                if col in done:
                    continue
                oid = name.asTuple()
                n = lengths[pos]
                if oid[:n] != col or type(value).__name__ in _NO_VALUE:
                    done.add(col)
                    continue
                targets[pos][oid[n:]] = value
                last[col] = oid
            for col in cols:
                if col in done or col not in last or last[col] <= current[col]:
                    del current[col]
                else:
                    current[col] = last[col]
        return out

    # --- MIB readers ---------------------------------------------------------------------

    async def read_interfaces(
            self, auth: Any, transport: Any, cached: DeviceStatics | None = None,
    ) -> tuple[list[InterfaceReading], DeviceStatics]:
        """Read IF-MIB: status and 64-bit octets (32-bit where HC is missing) every time;
        names, alias, type and speed only when *cached* is None or the ifIndex set changed.

        Returns the readings and the statics they used (*cached* itself when reused, so
        ``is`` tells whether the static columns were read).
        """
        static: dict[OID, dict[OID, Any]] | None = None
        if cached is None:
            static = await self.walk(auth, transport, mibs.IF_STATIC_COLUMNS)
        cols = await self.walk(auth, transport, mibs.IF_COUNTER_COLUMNS)
        status_indexes = frozenset(cols[mibs.IF_OPER_STATUS])
        if cached is not None and status_indexes != cached.status_indexes:
            static = await self.walk(auth, transport, mibs.IF_STATIC_COLUMNS)
        if static is None and cached is not None:
            statics = cached
        else:
            assert static is not None
            statics = DeviceStatics(uptime_cs=None, if_number=None, table_last_change=None,
                                    interfaces=_interface_statics(static),
                                    status_indexes=status_indexes)
        hc_in = cols[mibs.IF_HC_IN_OCTETS]
        if any((i,) not in hc_in for i in statics.interfaces):
            cols.update(await self.walk(auth, transport, mibs.IF_COLUMNS_32))

        admin, oper = cols[mibs.IF_ADMIN_STATUS], cols[mibs.IF_OPER_STATUS]
        hc_out = cols[mibs.IF_HC_OUT_OCTETS]
        in_err, out_err = cols[mibs.IF_IN_ERRORS], cols[mibs.IF_OUT_ERRORS]
        in_disc, out_disc = cols[mibs.IF_IN_DISCARDS], cols[mibs.IF_OUT_DISCARDS]
        lo_in, lo_out = cols.get(mibs.IF_IN_OCTETS, {}), cols.get(mibs.IF_OUT_OCTETS, {})
        status = mibs.IF_STATUS
        readings = []
        for if_index, st in statics.interfaces.items():
            idx = (if_index,)
            r = InterfaceReading(if_index, st.name, st.descr, st.alias, st.if_type,
                                 st.speed_bps,
                                 status.get(_int(admin.get(idx)) or 0, ""),
                                 status.get(_int(oper.get(idx)) or 0, ""))
            if idx in hc_in:
                r.in_octets = _int(hc_in[idx])
                r.out_octets = _int(hc_out.get(idx))
            else:
                r.counter_bits = 32
                r.in_octets = _int(lo_in.get(idx))
                r.out_octets = _int(lo_out.get(idx))
            r.in_errors = _int(in_err.get(idx))
            r.out_errors = _int(out_err.get(idx))
            r.in_discards = _int(in_disc.get(idx))
            r.out_discards = _int(out_disc.get(idx))
            readings.append(r)
        return readings, statics

    async def read_host(self, auth: Any, transport: Any, statics: DeviceStatics | None = None,
                        *, refresh: bool = True) -> HostReading:
        """Read HOST-RESOURCES-MIB and UCD-SNMP-MIB: CPU, memory, disks.

        hrStorageType/Descr/Units come from *statics* unless *refresh* is set, there are
        none yet, or the storage indexes changed; they are then read and kept there.
        """
        host = HostReading()
        hr = await self.walk(auth, transport, (mibs.HR_PROCESSOR_LOAD,
                                               *mibs.HR_STORAGE_DYNAMIC_COLUMNS,
                                               mibs.UCD_DSK_PERCENT))
        indexes = frozenset(hr[mibs.HR_STORAGE_SIZE])
        known = None if statics is None or refresh else statics.storage
        if known is None or (statics is not None and indexes != statics.storage_indexes):
            known = await self.walk(auth, transport, mibs.HR_STORAGE_STATIC_COLUMNS)
            if statics is not None:
                statics.storage, statics.storage_indexes = known, indexes
        hr.update(known)
        loads = [v for v in (_int(x) for x in hr[mibs.HR_PROCESSOR_LOAD].values()) if v is not None]
        if loads:
            host.cpu_pct = sum(loads) / len(loads)
        ram = None
        disk_pcts: list[float] = []
        for idx, descr in hr[mibs.HR_STORAGE_DESCR].items():
            kind = mibs.HR_STORAGE_KINDS.get(tuple(hr[mibs.HR_STORAGE_TYPE].get(idx, ())), "other")
            units = _int(hr[mibs.HR_STORAGE_UNITS].get(idx)) or 1
            size = (_int(hr[mibs.HR_STORAGE_SIZE].get(idx)) or 0) * units
            used = (_int(hr[mibs.HR_STORAGE_USED].get(idx)) or 0) * units
            storage = StorageReading(_text(descr)[:255], kind, size, used)
            host.storages.append(storage)
            if kind == "ram":
                ram = storage
            if kind == "disk" and size:
                disk_pcts.append(100.0 * used / size)
        disk_pcts += [float(v) for v in (_int(x) for x in hr[mibs.UCD_DSK_PERCENT].values())
                      if v is not None]
        if disk_pcts:
            host.disk_max_pct = max(disk_pcts)
        ucd = await self.get(auth, transport, mibs.UCD_SCALARS)
        total = _int(ucd.get(mibs.UCD_MEM_TOTAL_REAL))
        avail = _int(ucd.get(mibs.UCD_MEM_AVAIL_REAL))
        if total and avail is not None:
            buffers = _int(ucd.get(mibs.UCD_MEM_BUFFER)) or 0
            cached = _int(ucd.get(mibs.UCD_MEM_CACHED)) or 0
            host.mem_total_bytes = total * 1024
            host.mem_used_bytes = max(0, total - avail - buffers - cached) * 1024
        elif ram is not None and ram.size_bytes:
            host.mem_total_bytes, host.mem_used_bytes = ram.size_bytes, ram.used_bytes
        idle = _int(ucd.get(mibs.UCD_SS_CPU_IDLE))
        if host.cpu_pct is None and idle is not None:
            host.cpu_pct = float(100 - idle)
        load = ucd.get(mibs.UCD_LOAD1)
        if load is not None:
            try:
                host.load1 = float(_text(load))
            except ValueError:
                host.load1 = None
        return host

    async def read_lldp(self, auth: Any, transport: Any) -> list[LldpReading]:
        """Read LLDP-MIB's remote table (with local port names); empty when not served."""
        loc = await self.walk(auth, transport, (mibs.LLDP_LOC_PORT_ID, mibs.LLDP_LOC_PORT_DESC))
        rem = await self.walk(auth, transport, (mibs.LLDP_REM_CHASSIS_ID, mibs.LLDP_REM_PORT_ID,
                                                mibs.LLDP_REM_PORT_DESC, mibs.LLDP_REM_SYS_NAME))
        out = []
        for idx, chassis in rem[mibs.LLDP_REM_CHASSIS_ID].items():
            if len(idx) < 3:
                continue
            port_num = idx[1]
            local = loc[mibs.LLDP_LOC_PORT_DESC].get((port_num,)) or \
                loc[mibs.LLDP_LOC_PORT_ID].get((port_num,))

            def col(c: OID, i: OID = idx) -> str:
                value = rem[c].get(i)
                return _text(value)[:255] if value is not None else ""

            out.append(LldpReading(port_num, _text(local)[:255] if local is not None else "",
                                   _text(chassis)[:255], col(mibs.LLDP_REM_SYS_NAME),
                                   col(mibs.LLDP_REM_PORT_ID), col(mibs.LLDP_REM_PORT_DESC)))
        return out
