"""SNMP trap receiver on pysnmp 7's asyncio carrier: v2c communities and a v3 USM user.

The pysnmp engine runs in its own thread with its own event loop; each notification
is put on a queue and a second thread stores it (``trapevents.record_trap``), so the
database never holds up the UDP socket.

SNMPv3 notifications are authenticated with keys localised to the *sender's* engine ID
(RFC 3414), so a receiver must know each sender's engine ID. Like snmptrapd's
``createUser -e``, ``SIMPUL_TRAP_V3_ENGINE_IDS`` may list them; when it is empty, the
engine ID is read from each incoming v3 message and the user is added for it on first
sight. That learns nothing secret: the message must still authenticate (and decrypt)
with the configured pass phrases, or pysnmp drops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import socket
import threading
from typing import Any

from loguru import logger
from pyasn1.codec.ber import decoder as ber_decoder
from pysnmp.carrier.asyncio.dgram import udp, udp6
from pysnmp.entity import config, engine
from pysnmp.entity.rfc3413 import ntfrcv
from pysnmp.proto import rfc1902
from pysnmp.proto.mpmod.rfc3412 import SNMPv3Message
from pysnmp.proto.secmod.rfc3414.service import UsmSecurityParameters

from collectors.flows.settings import TrapSettings
from collectors.flows.trapevents import ReceivedTrap, record_trap
from simpul.db import Database
from simpul.errors import ConfigError
from simpul.logging import register_secret

AUTH = {"MD5": config.USM_AUTH_HMAC96_MD5, "SHA": config.USM_AUTH_HMAC96_SHA,
        "SHA224": config.USM_AUTH_HMAC128_SHA224, "SHA256": config.USM_AUTH_HMAC192_SHA256,
        "SHA384": config.USM_AUTH_HMAC256_SHA384, "SHA512": config.USM_AUTH_HMAC384_SHA512}
PRIV = {"DES": config.USM_PRIV_CBC56_DES, "3DES": config.USM_PRIV_CBC168_3DES,
        "AES": config.USM_PRIV_CFB128_AES, "AES192": config.USM_PRIV_CFB192_AES,
        "AES256": config.USM_PRIV_CFB256_AES}
MAX_LEARNT_ENGINES = 10_000
QUEUE_LIMIT = 10_000


def v3_engine_id(datagram: bytes) -> bytes | None:
    """Return the authoritative engine ID of an SNMPv3 message (None for v1/v2c/garbage)."""
    if len(datagram) < 8 or datagram[0] != 0x30:
        return None
    try:
        msg, _ = ber_decoder.decode(datagram, asn1Spec=SNMPv3Message())
        if int(msg["msgVersion"]) != 3:
            return None
        params, _ = ber_decoder.decode(bytes(msg["msgSecurityParameters"]),
                                       asn1Spec=UsmSecurityParameters())
        eid = bytes(params["msgAuthoritativeEngineId"])
    except Exception:
        return None
    return eid if 5 <= len(eid) <= 32 else None


class TrapReceiver:
    """The receiver service: ``start``/``stop`` for ``simpul up`` and the CLI."""

    name = "trap receiver"

    def __init__(self, db: Database | None, settings: TrapSettings) -> None:
        self.db = db
        self.settings = settings
        for secret in (settings.v3_auth_key, settings.v3_priv_key, *settings.communities):
            register_secret(secret)  # never shown in a log line, should one quote it
        self.sockets: list[socket.socket] = []
        self.received = 0
        self.dropped = 0
        self.stored = 0
        self.events: queue.Queue[ReceivedTrap | None] = queue.Queue(QUEUE_LIMIT)
        self._engine_ids: set[bytes] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._engine: engine.SnmpEngine | None = None
        self._threads: list[threading.Thread] = []
        self._ready = threading.Event()
        self._context: dict[str, Any] = {}

    @property
    def addresses(self) -> list[tuple[str, int]]:
        """The bound ``(host, port)`` pairs."""
        return [s.getsockname()[:2] for s in self.sockets]

    def bind(self) -> None:
        """Open the UDP sockets now, so that a busy port fails loudly at start."""
        if self.sockets or self.settings.port is None:
            return
        for host in self.settings.hosts:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_DGRAM)
            try:
                sock.bind((host, self.settings.port))
            except OSError as exc:
                sock.close()
                for s in self.sockets:
                    s.close()
                self.sockets = []
                raise ConfigError(f"trap receiver cannot listen on {host}:"
                                  f"{self.settings.port}: {exc.strerror}") from None
            self.sockets.append(sock)

    def start(self) -> None:
        """Bind and start the engine and the storing threads."""
        s = self.settings
        if s.port is None or (not s.communities and not s.v3_user):
            logger.info("trap receiver disabled (no port, or no community and no v3 user)")
            return
        self.bind()
        self._ready.clear()
        self._threads = [threading.Thread(target=self._engine_thread, name="trap-engine",
                                          daemon=True),
                         threading.Thread(target=self._store_loop, name="trap-writer",
                                          daemon=True)]
        for t in self._threads:
            t.start()
        if not self._ready.wait(10):
            raise ConfigError("trap receiver did not start within 10 s")
        logger.info("trap receiver listening on {} (v2c {}, v3 {})",
                    ", ".join(f"{h}:{p}" for h, p in self.addresses),
                    "on" if s.communities else "off", s.v3_user or "off")

    def stop(self) -> None:
        """Stop the engine, store what is queued, close the sockets."""
        loop = self._loop
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(loop.stop)
        with contextlib.suppress(queue.Full):
            self.events.put(None, timeout=5)
        for t in self._threads:
            t.join(timeout=15)
        self._threads = []
        for sock in self.sockets:
            sock.close()
        self.sockets = []

    # -- engine ----------------------------------------------------------------------
    def _add_user(self, snmp_engine: engine.SnmpEngine, engine_id: bytes) -> None:
        s = self.settings
        auth = AUTH[s.v3_auth_proto] if s.v3_auth_key else config.USM_AUTH_NONE
        priv = PRIV[s.v3_priv_proto] if s.v3_priv_key else config.USM_PRIV_NONE
        config.add_v3_user(snmp_engine, s.v3_user, auth, s.v3_auth_key or None, priv,
                           s.v3_priv_key or None,
                           securityEngineId=rfc1902.OctetString(engine_id))
        self._engine_ids.add(engine_id)

    def _configure(self, snmp_engine: engine.SnmpEngine) -> None:
        s = self.settings
        for i, community in enumerate(s.communities):
            config.add_v1_system(snmp_engine, f"simpul-trap-{i}", community)
        if s.v3_user:
            for eid in s.v3_engine_ids:
                self._add_user(snmp_engine, bytes.fromhex(eid))
        receiver = self

        class LearningUdp(udp.UdpAsyncioTransport):
            def datagram_received(self, datagram: bytes, addr: Any) -> None:
                receiver._learn(snmp_engine, datagram)
                super().datagram_received(datagram, addr)

        class LearningUdp6(udp6.Udp6AsyncioTransport):
            def datagram_received(self, datagram: bytes, addr: Any) -> None:
                receiver._learn(snmp_engine, datagram)
                super().datagram_received(datagram, addr)

        for i, sock in enumerate(self.sockets):
            if sock.family == socket.AF_INET6:
                domain = (*udp6.DOMAIN_NAME, i + 1)
                transport: Any = LearningUdp6(loop=self._loop)
            else:
                domain = (*udp.DOMAIN_NAME, i + 1)
                transport = LearningUdp(loop=self._loop)
            config.add_transport(snmp_engine, domain, transport.open_server_mode(sock=sock))

        def observe(_engine: Any, _point: str, variables: dict[str, Any], _ctx: Any) -> None:
            self._context = variables

        snmp_engine.observer.register_observer(observe, "rfc3412.receiveMessage:request")
        ntfrcv.NotificationReceiver(snmp_engine, self._on_notification)

    def _learn(self, snmp_engine: engine.SnmpEngine, datagram: bytes) -> None:
        self.received += 1
        s = self.settings
        if not s.v3_user or s.v3_engine_ids:
            return
        eid = v3_engine_id(datagram)
        if eid is None or eid in self._engine_ids or len(self._engine_ids) >= MAX_LEARNT_ENGINES:
            return
        try:
            self._add_user(snmp_engine, eid)
            logger.info("trap receiver: learnt SNMPv3 engine ID {}", eid.hex())
        except Exception as exc:
            logger.warning("trap receiver: cannot add engine ID {}: {}", eid.hex(), exc)

    def _on_notification(self, snmp_engine: engine.SnmpEngine, state_ref: Any,
                         _ctx_engine: Any, _ctx_name: Any, varbinds: Any, _cb: Any) -> None:
        try:
            _domain, address = snmp_engine.message_dispatcher.get_transport_info(state_ref)
            model = int(self._context.get("securityModel", 0) or 0)
            name = str(self._context.get("securityName", "") or "")
            trap = ReceivedTrap(
                source=str(address[0]), version="v3" if model == 3 else "v2c",
                security_name=name,
                varbinds=[(str(oid), _plain(val)) for oid, val in varbinds])
            self.events.put_nowait(trap)
        except queue.Full:
            self.dropped += 1
        except Exception as exc:
            logger.error("trap receiver: bad notification: {}", exc)

    def _engine_thread(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        snmp_engine = engine.SnmpEngine()
        self._engine = snmp_engine
        try:
            self._configure(snmp_engine)
            self._ready.set()
            loop.run_forever()
        except Exception as exc:
            logger.error("trap receiver stopped: {}", exc)
            self._ready.set()
        finally:
            with contextlib.suppress(Exception):
                snmp_engine.close_dispatcher()
            # Let pysnmp's timer task see its cancellation before the loop goes away.
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            with contextlib.suppress(Exception):
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()
            self._loop = None

    # -- writer ----------------------------------------------------------------------
    def _store_loop(self) -> None:
        while True:
            trap = self.events.get()
            if trap is None:
                break
            if self.db is None:
                continue
            try:
                record_trap(self.db, trap, to_siem=self.settings.siem)
                self.stored += 1
            except Exception as exc:
                logger.error("trap from {} not stored: {}", trap.source, exc)


def _plain(value: Any) -> Any:
    """Return a JSON-friendly Python value for a pysnmp varbind value."""
    tag = value.__class__.__name__
    if tag in ("ObjectIdentifier", "ObjectName"):
        return str(value)
    if tag == "IpAddress":
        return socket.inet_ntoa(bytes(value.asOctets()))
    if hasattr(value, "asOctets") and tag in ("OctetString", "DisplayString", "Opaque"):
        raw = bytes(value.asOctets())
        try:
            return raw.decode()
        except UnicodeDecodeError:
            return raw.hex()
    try:
        return int(value)
    except (TypeError, ValueError):
        return value.prettyPrint()
