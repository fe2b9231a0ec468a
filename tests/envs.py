"""Environment fragments shared by tests that start simpul processes."""

from __future__ import annotations

# Background listeners on any free port, so parallel `simpul up`s never collide.
QUIET_LISTENERS = {"SIMPUL_SYSLOG_UDP_PORT": "0", "SIMPUL_SYSLOG_TCP_PORT": "0",
                   "SIMPUL_SYSLOG_TLS_PORT": "off", "SIMPUL_RADIUS_ENABLED": "off",
                   "SIMPUL_FLOW_PORT": "0", "SIMPUL_TRAP_PORT": "0",
                   "SIMPUL_SNMP_ENABLED": "off", "SIMPUL_PROBES_ENABLED": "off",
                   "SIMPUL_ALERTS_ENABLED": "off"}
