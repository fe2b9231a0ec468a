"""Lab settings: lab-only defaults, overridable by ``SIMPUL_LAB_*`` environment variables.

These credentials exist only inside the lab's namespaces; they are documented in
``labs/README.md`` and are not secrets of any real network.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from labs.errors import LabError


@dataclass(frozen=True)
class LabSettings:
    """Where the lab keeps its state and what credentials its nodes accept."""

    state_dir: Path = Path("/run/simpul-lab")
    cache_dir: Path = Path("/var/cache/simpul-lab")
    prefix: str = "sl-"
    user: str = "simpul"
    password: str = "simpul-lab"
    snmp_community: str = "simpul-lab"
    snmpv3_user: str = "simpul"
    snmpv3_auth: str = "simpul-lab-auth"
    snmpv3_priv: str = "simpul-lab-priv"
    syslog_port: int = 5514
    netflow_port: int = 2055
    trap_port: int = 10162
    ready_timeout: float = 45.0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> LabSettings:
        """Read the settings from ``SIMPUL_LAB_*`` variables (defaults otherwise)."""
        env = dict(os.environ if env is None else env)

        def get(name: str, default: str) -> str:
            return env.get(f"SIMPUL_LAB_{name}", default)

        def port(name: str, default: int) -> int:
            value = get(name, str(default))
            if not value.isdigit() or not 0 < int(value) < 65536:
                raise LabError(f"SIMPUL_LAB_{name}={value!r} is not a port number")
            return int(value)

        base = cls()
        settings = cls(
            state_dir=Path(get("STATE_DIR", str(base.state_dir))),
            cache_dir=Path(get("CACHE_DIR", str(base.cache_dir))),
            user=get("USER", base.user),
            password=get("PASSWORD", base.password),
            snmp_community=get("SNMP_COMMUNITY", base.snmp_community),
            snmpv3_user=get("SNMPV3_USER", base.snmpv3_user),
            snmpv3_auth=get("SNMPV3_AUTH", base.snmpv3_auth),
            snmpv3_priv=get("SNMPV3_PRIV", base.snmpv3_priv),
            syslog_port=port("SYSLOG_PORT", base.syslog_port),
            netflow_port=port("NETFLOW_PORT", base.netflow_port),
            trap_port=port("TRAP_PORT", base.trap_port),
            ready_timeout=float(get("READY_TIMEOUT", str(base.ready_timeout))),
        )
        for name, value in (("SNMPV3_AUTH", settings.snmpv3_auth),
                            ("SNMPV3_PRIV", settings.snmpv3_priv)):
            if len(value) < 8:
                raise LabError(f"SIMPUL_LAB_{name} must be at least 8 characters (SNMPv3)")
        return settings

    def credentials(self) -> dict[str, str]:
        """Return the lab credentials as shown by ``simpul lab status``."""
        return {
            "ssh_user": self.user,
            "ssh_password": self.password,
            "snmp_community": self.snmp_community,
            "snmpv3_user": self.snmpv3_user,
            "snmpv3_auth_protocol": "SHA",
            "snmpv3_auth_password": self.snmpv3_auth,
            "snmpv3_priv_protocol": "AES",
            "snmpv3_priv_password": self.snmpv3_priv,
        }
