"""Demo probes for the lab's DC services, reached over the management network.

The host only reaches the lab through 172.20.20.0/24 (labs/README.md); web, mail and
proxy listen on all their addresses, so their management addresses are probed. The
proxy is checked end to end: an HTTP request through tinyproxy to the web server's DC
address (both sit on the DC segment, so this needs no routing).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from collectors.probes.models import Probe
from collectors.probes.service import create_probe, get_probe
from simpul.audit import Actor
from simpul.tenancy import get_opd, get_operator

LAB_PROBES: list[dict[str, Any]] = [
    {"name": "lab-web-http", "service": "web", "kind": "http",
     "target": "http://172.20.20.51/", "device": "web", "site": "dc-diskominfo",
     "expect": {"status": 200, "contains": "simpul lab web server"}},
    {"name": "lab-web-icmp", "service": "web", "kind": "icmp", "target": "172.20.20.51",
     "device": "web", "site": "dc-diskominfo"},
    {"name": "lab-mail-smtp", "service": "mail", "kind": "smtp", "target": "172.20.20.52",
     "port": 25, "device": "mail", "site": "dc-diskominfo"},
    {"name": "lab-proxy-tcp", "service": "proxy", "kind": "tcp", "target": "172.20.20.53",
     "port": 3128, "device": "proxy", "site": "dc-diskominfo"},
    {"name": "lab-proxy-http", "service": "proxy", "kind": "http",
     "target": "http://10.10.20.10/", "device": "proxy", "site": "dc-diskominfo",
     "expect": {"status": 200, "contains": "simpul lab web server",
                "proxy": "172.20.20.53:3128"}},
]


def seed_lab_probes(session: Session, actor: Actor, *, interval_s: int = 30) -> list[Probe]:
    """Create the lab probes that do not exist yet (owned by the operator OPD)."""
    operator = get_opd(session, "DISKOMINFO") or get_operator(session)
    created = []
    for spec in LAB_PROBES:
        if get_probe(session, spec["name"]) is not None:
            continue
        created.append(create_probe(session, actor, opd=operator.code if operator else None,
                                    interval_s=interval_s, timeout_s=3.0, **spec))
    return created
