"""LLDP neighbours from LLDP-MIB over SNMP v2c (lldpd's AgentX subagent answers it).

vtysh knows nothing of LLDP and the router's SSH session is vtysh, so the driver asks
the node's snmpd, where lldpd registers LLDP-MIB (lab: ``lldpd -x``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from simpul.aio import run_sync

# Port ids are often MAC addresses (lldpd's default subtype): names come from the
# port descriptions, which lldpd fills with the interface name.
LLDP_LOC_PORT_DESC = "1.0.8802.1.1.2.1.3.7.1.4"   # lldpLocPortDesc, by local port number
LLDP_REM_PORT_DESC = "1.0.8802.1.1.2.1.4.1.1.8"   # lldpRemPortDesc.time.port.index
LLDP_REM_SYS_NAME = "1.0.8802.1.1.2.1.4.1.1.9"    # lldpRemSysName.time.port.index


async def _walk(host: str, community: str, port: int, oid: str) -> dict[tuple[int, ...], str]:
    from pysnmp.hlapi.v3arch.asyncio import (
        CommunityData,
        ContextData,
        ObjectIdentity,
        ObjectType,
        SnmpEngine,
        UdpTransportTarget,
        walk_cmd,
    )

    engine = SnmpEngine()
    target = await UdpTransportTarget.create((host, port), timeout=2, retries=1)
    found: dict[tuple[int, ...], str] = {}
    prefix = tuple(int(x) for x in oid.split("."))
    async for error, status, _index, binds in walk_cmd(
            engine, CommunityData(community), target, ContextData(),
            ObjectType(ObjectIdentity(oid)), lexicographicMode=False):
        if error or status:
            break
        for name, value in binds:
            found[tuple(name)[len(prefix):]] = value.prettyPrint()
    engine.close_dispatcher()
    return found


async def _neighbors(host: str, community: str, port: int) -> dict[str, list[dict[str, str]]]:
    local, rem_ports, rem_names = await asyncio.gather(
        _walk(host, community, port, LLDP_LOC_PORT_DESC),
        _walk(host, community, port, LLDP_REM_PORT_DESC),
        _walk(host, community, port, LLDP_REM_SYS_NAME))
    result: dict[str, list[dict[str, str]]] = {}
    for index, name in rem_names.items():
        if len(index) < 3:
            continue
        local_port = local.get((index[1],), str(index[1]))
        result.setdefault(local_port, []).append(
            {"hostname": name, "port": rem_ports.get(index, "")})
    return result


def lldp_neighbors(host: str, community: str, *, port: int = 161) -> dict[str, Any]:
    """Return ``{local_port: [{"hostname", "port"}]}`` as NAPALM's get_lldp_neighbors."""
    return run_sync(_neighbors(host, community, port))
