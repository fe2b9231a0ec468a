"""The security baseline's values: ``SIMPUL_BASELINE_*`` environment variables over defaults.

One policy feeds both sides: the ``baseline`` playbook renders it into device config,
and ``simpul audit`` checks running configs against it (and renders the remediation
for a failed rule from the same templates). Defaults fit the lab; a real network sets
its management subnet, SIEM and NTP addresses.

``SIMPUL_BASELINE_SSH_PORT``        SSH port (non-standard; default 22022)
``SIMPUL_BASELINE_MGMT_SUBNETS``    comma-separated management prefixes (172.20.20.0/24)
``SIMPUL_BASELINE_SYSLOG_HOST``/``_PORT``  the SIEM's syslog receiver (172.20.20.1, 5514)
``SIMPUL_BASELINE_NTP_SERVERS``     comma-separated NTP servers (172.20.20.1)
``SIMPUL_BASELINE_SNMP_USER``       SNMPv3 user (simpul); keys ``SIMPUL_BASELINE_SNMP_AUTH``
                                    and ``SIMPUL_BASELINE_SNMP_PRIV`` (secrets, env only)
``SIMPUL_BASELINE_IDLE_MINUTES``    idle session timeout (5)
``SIMPUL_BASELINE_BANNER``          login banner text
``SIMPUL_BASELINE_SERVICE_PORTS``   extra ports a server may listen on, per device name or
                                    role: ``web=tcp/80,tcp/443;mail=tcp/25;proxy=tcp/3128``
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from simpul.errors import ConfigError
from simpul.logging import register_secret

DEFAULT_BANNER = ("Authorised access only. Activity is logged and monitored. / "
                  "Hanya untuk pengguna yang berwenang. Aktivitas dicatat dan dipantau.")
DEFAULT_SERVICE_PORTS = "web=tcp/80,tcp/443;mail=tcp/25;proxy=tcp/3128;radius=udp/1812,udp/1813"
SECRET_PLACEHOLDER = "<set SIMPUL_BASELINE_SNMP_{}>"


@dataclass(frozen=True)
class Port:
    """A listening port a service needs (``tcp/80``)."""

    proto: str
    number: int

    def __str__(self) -> str:
        return f"{self.proto}/{self.number}"


@dataclass(frozen=True)
class BaselinePolicy:
    """What the security baseline requires of every device."""

    ssh_port: int = 22022
    mgmt_subnets: tuple[str, ...] = ("172.20.20.0/24",)
    syslog_host: str = "172.20.20.1"
    syslog_port: int = 5514
    ntp_servers: tuple[str, ...] = ("172.20.20.1",)
    snmp_user: str = "simpul"
    snmp_auth: str = field(default="", repr=False)
    snmp_priv: str = field(default="", repr=False)
    idle_minutes: int = 5
    banner: str = DEFAULT_BANNER
    service_ports: dict[str, tuple[Port, ...]] = field(default_factory=dict)

    def networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [ipaddress.ip_network(s, strict=False) for s in self.mgmt_subnets]

    def in_mgmt(self, address: str) -> bool:
        """Return whether *address* (or prefix) lies inside a management subnet."""
        try:
            net = ipaddress.ip_network(address.strip(), strict=False)
        except ValueError:
            return False
        return any(net.version == m.version and net.subnet_of(m)  # type: ignore[arg-type]
                   for m in self.networks())

    def ports_for(self, name: str, role: str | None = None) -> tuple[Port, ...]:
        """Return the service ports device *name* (or its *role*) may listen on."""
        return self.service_ports.get(name) or self.service_ports.get(role or "") or ()

    def without_secrets(self) -> BaselinePolicy:
        """Return a copy whose SNMP keys are placeholders (for reports and remediation)."""
        return replace(self, snmp_auth=SECRET_PLACEHOLDER.format("AUTH"),
                       snmp_priv=SECRET_PLACEHOLDER.format("PRIV"))


def parse_service_ports(text: str) -> dict[str, tuple[Port, ...]]:
    """Parse ``web=tcp/80,tcp/443;mail=tcp/25``.

    Raises:
        ConfigError: a malformed entry.
    """
    found: dict[str, tuple[Port, ...]] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        name, _, ports = part.partition("=")
        parsed = []
        for item in filter(None, (p.strip() for p in ports.split(","))):
            proto, _, number = item.partition("/")
            if proto not in ("tcp", "udp") or not number.isdigit() or not 0 < int(number) < 65536:
                raise ConfigError(f"SIMPUL_BASELINE_SERVICE_PORTS: bad port {item!r} "
                                  "(expected tcp/N or udp/N)")
            parsed.append(Port(proto, int(number)))
        if not name.strip():
            raise ConfigError(f"SIMPUL_BASELINE_SERVICE_PORTS: {part!r} has no name")
        found[name.strip()] = tuple(parsed)
    return found


def _list(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    return tuple(p.strip() for p in raw.split(",") if p.strip())


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ConfigError(f"{name}: {raw!r} is not a number in {low}..{high}")
    return int(raw)


def load_policy(env: Mapping[str, str] | None = None) -> BaselinePolicy:
    """Return the baseline policy of this process.

    Raises:
        ConfigError: a bad port, prefix or number.
    """
    env = os.environ if env is None else env
    ssh_port = _int(env, "SIMPUL_BASELINE_SSH_PORT", 22022, 1, 65535)
    if ssh_port == 22:
        raise ConfigError("SIMPUL_BASELINE_SSH_PORT: the baseline requires a non-standard port")
    subnets = _list(env, "SIMPUL_BASELINE_MGMT_SUBNETS", ("172.20.20.0/24",))
    for subnet in subnets:
        try:
            ipaddress.ip_network(subnet, strict=False)
        except ValueError:
            raise ConfigError(f"SIMPUL_BASELINE_MGMT_SUBNETS: {subnet!r} is not a prefix") from None
    auth, priv = env.get("SIMPUL_BASELINE_SNMP_AUTH", ""), env.get("SIMPUL_BASELINE_SNMP_PRIV", "")
    register_secret(auth or None)
    register_secret(priv or None)
    return BaselinePolicy(
        ssh_port=ssh_port,
        mgmt_subnets=tuple(str(ipaddress.ip_network(s, strict=False)) for s in subnets),
        syslog_host=env.get("SIMPUL_BASELINE_SYSLOG_HOST") or "172.20.20.1",
        syslog_port=_int(env, "SIMPUL_BASELINE_SYSLOG_PORT", 5514, 1, 65535),
        ntp_servers=_list(env, "SIMPUL_BASELINE_NTP_SERVERS", ("172.20.20.1",)),
        snmp_user=env.get("SIMPUL_BASELINE_SNMP_USER") or "simpul",
        snmp_auth=auth, snmp_priv=priv,
        idle_minutes=_int(env, "SIMPUL_BASELINE_IDLE_MINUTES", 5, 1, 60),
        banner=env.get("SIMPUL_BASELINE_BANNER") or DEFAULT_BANNER,
        service_ports=parse_service_ports(
            env.get("SIMPUL_BASELINE_SERVICE_PORTS", DEFAULT_SERVICE_PORTS)))
