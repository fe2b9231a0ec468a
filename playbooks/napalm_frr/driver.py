"""NAPALM driver for FRRouting, talking to vtysh over SSH.

The lab's routers (and any FRR box whose SSH login shell is ``vtysh``) look like Cisco
IOS to Netmiko: prompt ``core1#``, ``configure terminal``, ``exit``. Configuration goes
through NAPALM's candidate life-cycle: the candidate is kept here, ``compare_config``
computes the device's real delta against ``show running-config`` (playbooks/napalm_frr/
config.py, the frr-reload.py approach), ``commit_config`` sends exactly that delta and
keeps the pre-commit running config, and ``rollback`` computes and applies the delta back
to it, so the running config is byte-identical afterwards.

vtysh has no LLDP: ``get_lldp_neighbors`` reads LLDP-MIB over SNMP (lldpd's AgentX
subagent on the node), with the community from ``optional_args["snmp_community"]`` or
``SIMPUL_DEVICE_SNMP_COMMUNITY``.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from typing import Any

import paramiko
from loguru import logger
from napalm.base import NetworkDriver
from napalm.base.exceptions import (
    CommitError,
    ConnectionException,
    MergeConfigException,
    ReplaceConfigException,
)
from netmiko import ConnectHandler
from netmiko.exceptions import (
    ConfigInvalidException,
    NetmikoAuthenticationException,
    NetmikoBaseException,
)

from playbooks.napalm_frr import config as frrconfig
from simpul.logging import redact, register_secret

# vtysh answers a refused command with a line starting with "%" ("% Unknown command",
# "% Invalid input", "% [OSPF] ...") and a few plain-text refusals.
ERROR_PATTERN = r"(?m)^\s*%|Must remove previous|Can't find|not supported|Please remove"
UNKNOWN = -1.0
OPEN_ATTEMPTS = 3


class FRRDriver(NetworkDriver):
    """NAPALM driver for FRR over SSH (vtysh as the login shell)."""

    def __init__(self, hostname: str, username: str, password: str, timeout: int = 60,
                 optional_args: dict[str, Any] | None = None) -> None:
        self.hostname = hostname
        self.username = username
        self.password = password
        self.timeout = timeout
        self.optional_args = dict(optional_args or {})
        register_secret(password)
        self.port = int(self.optional_args.get("port", 22))
        self.device: Any = None
        self._candidate: str | None = None
        self._replace = False
        self._rollback_config: str | None = None
        self._lock = threading.Lock()

    # --- connection ------------------------------------------------------------------

    def open(self) -> None:
        """Open the SSH session (Netmiko cisco_ios: vtysh behaves like IOS).

        A connection closed before the SSH banner (a busy sshd) is retried twice.
        """
        last: BaseException | None = None
        for attempt in range(OPEN_ATTEMPTS):
            try:
                self.device = ConnectHandler(
                    device_type="cisco_ios", host=self.hostname, port=self.port,
                    username=self.username, password=self.password, timeout=self.timeout,
                    conn_timeout=min(self.timeout, 15), fast_cli=True,
                    secret=self.optional_args.get("secret", ""))
                return
            except NetmikoAuthenticationException as exc:
                last = exc
                break
            except (NetmikoBaseException, OSError, paramiko.SSHException) as exc:
                last = exc
                logger.bind(host=self.hostname).debug("SSH attempt {} failed: {}",
                                                      attempt + 1, redact(str(exc)))
                time.sleep(0.5 * (attempt + 1))
        text = str(last).splitlines()[0] if last is not None and str(last) else type(last).__name__
        raise ConnectionException(
            f"cannot reach {self.hostname}:{self.port} over SSH: {redact(text)}") from None

    def close(self) -> None:
        """Close the SSH session."""
        if self.device is not None:
            try:
                self.device.disconnect()
            finally:
                self.device = None

    def is_alive(self) -> dict[str, bool]:
        """Return whether the SSH session is usable."""
        return {"is_alive": bool(self.device and self.device.is_alive())}

    def _send(self, command: str) -> str:
        if self.device is None:
            raise ConnectionException(f"{self.hostname}: connection is not open")
        with self._lock:
            return str(self.device.send_command(command, read_timeout=self.timeout))

    def _json(self, command: str) -> Any:
        text = self._send(command)
        start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
        if start < 0:
            return {}
        return json.loads(text[start:])

    def cli(self, commands: list[str], encoding: str = "text") -> dict[str, str]:
        """Run show commands in vtysh; return each command's output."""
        if encoding != "text":
            raise NotImplementedError(f"{encoding} is not a supported encoding")
        return {command: self._send(command) for command in commands}

    # --- getters ---------------------------------------------------------------------

    def get_facts(self) -> dict[str, Any]:
        """Return vendor, version, hostname and interfaces (FRR knows no serial/model)."""
        version = self._send("show version")
        match = re.search(r"FRRouting (\S+) \((\S+)\)", version)
        interfaces = self._json("show interface json")
        hostname = match[2] if match else self.device.find_prompt().rstrip("#>")
        return {"uptime": UNKNOWN, "vendor": "FRRouting", "model": "FRR",
                "os_version": match[1] if match else "", "serial_number": "",
                "hostname": hostname, "fqdn": hostname,
                "interface_list": sorted(interfaces)}

    def get_interfaces(self) -> dict[str, dict[str, Any]]:
        """Return NAPALM's interface dict from ``show interface json``."""
        result = {}
        for name, data in self._json("show interface json").items():
            speed = data.get("speed")
            result[name] = {
                "is_up": data.get("operationalStatus") == "up",
                "is_enabled": data.get("administrativeStatus") == "up",
                "description": data.get("description", ""),
                "last_flapped": UNKNOWN,
                "speed": float(speed) if isinstance(speed, int | float) and speed > 0 else 0.0,
                "mtu": int(data.get("mtu", 0) or 0),
                "mac_address": data.get("hardwareAddress", ""),
            }
        return result

    def get_interfaces_ip(self) -> dict[str, dict[str, dict[str, dict[str, int]]]]:
        """Return the IPv4/IPv6 addresses of every interface."""
        result: dict[str, dict[str, dict[str, dict[str, int]]]] = {}
        for name, data in self._json("show interface json").items():
            for entry in data.get("ipAddresses", []):
                address, _, length = entry.get("address", "").partition("/")
                if not address:
                    continue
                family = "ipv6" if ":" in address else "ipv4"
                result.setdefault(name, {}).setdefault(family, {})[address] = {
                    "prefix_length": int(length or (128 if family == "ipv6" else 32))}
        return result

    def get_bgp_neighbors(self) -> dict[str, dict[str, Any]]:
        """Return BGP peers of the default VRF (``show ip bgp summary json``)."""
        summary = self._json("show bgp vrf all summary json")
        result: dict[str, dict[str, Any]] = {}
        for vrf, families in summary.items():
            name = "global" if vrf == "default" else vrf
            for family_key, data in families.items():
                if not isinstance(data, dict) or "peers" not in data:
                    continue
                family = "ipv6" if "ipv6" in family_key.lower() else "ipv4"
                entry = result.setdefault(name, {"router_id": data.get("routerId", ""),
                                                 "peers": {}})
                for address, peer in data["peers"].items():
                    up = peer.get("state") == "Established"
                    info = entry["peers"].setdefault(address, {
                        "local_as": int(data.get("as", 0)),
                        "remote_as": int(peer.get("remoteAs", 0)),
                        "remote_id": peer.get("remoteRouterId", ""),
                        "is_up": up,
                        "is_enabled": "Admin" not in str(peer.get("state", "")),
                        "description": peer.get("desc", ""),
                        "uptime": float(peer.get("peerUptimeMsec", 0)) / 1000,
                        "address_family": {}})
                    received = int(peer.get("pfxRcd", 0) or 0)
                    info["address_family"][family] = {
                        "received_prefixes": received, "accepted_prefixes": received,
                        "sent_prefixes": int(peer.get("pfxSnt", 0) or 0)}
        return result

    def get_lldp_neighbors(self) -> dict[str, list[dict[str, str]]]:
        """Return LLDP neighbours per local port, read from LLDP-MIB over SNMP."""
        from playbooks.napalm_frr.lldp import lldp_neighbors

        community = (self.optional_args.get("snmp_community")
                     or os.environ.get("SIMPUL_DEVICE_SNMP_COMMUNITY"))
        if not community:
            raise ConnectionException(
                "LLDP needs SNMP: set SIMPUL_DEVICE_SNMP_COMMUNITY (vtysh has no LLDP)")
        register_secret(community)
        return lldp_neighbors(self.hostname, community,
                              port=int(self.optional_args.get("snmp_port", 161)))

    def get_config(self, retrieve: str = "all", full: bool = False,
                   sanitized: bool = False, format: str = "text") -> dict[str, str]:
        """Return the running config (FRR's integrated config has no separate startup)."""
        running = self._send("show running-config") if retrieve in ("all", "running") else ""
        if sanitized:
            running = redact(running)
        return {"running": running, "startup": "",
                "candidate": self._candidate or "" if retrieve in ("all", "candidate") else ""}

    # --- candidate life-cycle --------------------------------------------------------

    def _load(self, filename: str | None, config: str | None, replace: bool) -> None:
        if (filename is None) == (config is None):
            error = ReplaceConfigException if replace else MergeConfigException
            raise error("give either filename or config")
        if filename is not None:
            with open(filename, encoding="utf-8") as handle:
                config = handle.read()
        self._candidate = config
        self._replace = replace

    def load_merge_candidate(self, filename: str | None = None,
                             config: str | None = None) -> None:
        """Keep *config* as the candidate; commit adds what the device lacks."""
        self._load(filename, config, replace=False)

    def load_replace_candidate(self, filename: str | None = None,
                               config: str | None = None) -> None:
        """Keep *config* as the candidate; commit also removes what it does not hold."""
        self._load(filename, config, replace=True)

    def _changes(self, running: str, target: str, replace: bool) -> list[frrconfig.Change]:
        return frrconfig.delta(frrconfig.FrrConfig.parse(running),
                               frrconfig.FrrConfig.parse(target), replace=replace)

    def compare_config(self) -> str:
        """Return the device's delta for the candidate ('' when it changes nothing)."""
        if self._candidate is None:
            return ""
        running = self._send("show running-config")
        return frrconfig.render_diff(self._changes(running, self._candidate, self._replace))

    def _apply(self, changes: list[frrconfig.Change]) -> None:
        if not changes:
            return
        cmds = frrconfig.commands(changes)
        with self._lock:
            try:
                self.device.send_config_set(cmds, error_pattern=ERROR_PATTERN,
                                            read_timeout=self.timeout)
            except ConfigInvalidException as exc:
                raise CommitError(redact(" ".join(str(exc).split())[:300])) from None
            finally:
                if self.device.check_config_mode():
                    self.device.exit_config_mode()

    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        """Apply the candidate's delta; on a refused command restore the pre-commit config.

        Raises:
            CommitError: a command was refused (the device is back where it was).
        """
        if revert_in is not None:
            raise NotImplementedError("commit confirm is not supported on FRR")
        if self._candidate is None:
            return
        before = self._send("show running-config")
        changes = self._changes(before, self._candidate, self._replace)
        self._rollback_config = before
        try:
            self._apply(changes)
        except CommitError as exc:
            logger.bind(host=self.hostname).warning("commit refused, restoring: {}", exc)
            self._restore(before)
            raise
        finally:
            self._candidate = None

    def discard_config(self) -> None:
        """Forget the candidate; the device is untouched."""
        self._candidate = None
        self._replace = False

    def _restore(self, config: str) -> None:
        # Twice at most: a removed context can leave a line that only a second pass sees.
        for _ in range(2):
            changes = self._changes(self._send("show running-config"), config, True)
            if not changes:
                return
            self._apply(changes)

    def rollback(self) -> None:
        """Restore the running config held before the last commit."""
        if self._rollback_config is None:
            raise CommitError(f"{self.hostname}: nothing to roll back")
        self._restore(self._rollback_config)
        self._rollback_config = None
