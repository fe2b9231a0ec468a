"""Nornir inventory plugin: hosts and groups from simpul's database.

``SimpulInventory`` (entry point ``nornir.plugins.inventory: SimpulInventory``) builds
one host per device: ``hostname`` from the primary management address (IPv4, else
IPv6, else the device name for DNS), ``platform`` the Netmiko device type of the
simpul platform, a ``napalm`` connection option with the NAPALM driver name, and
``data`` with the device's fields. Groups: ``site:<slug>``, ``opd:<CODE>``,
``role:<role>``, ``platform:<platform>``, in that order of precedence.

Credentials come only from the environment, never from the database or a file (see
inventory/README.md): ``SIMPUL_DEVICE_USERNAME``/``_PASSWORD``/``_SECRET`` as defaults,
``SIMPUL_DEVICE_<PLATFORM>_…`` per platform and ``SIMPUL_DEVICE_{SITE,OPD,ROLE}_<NAME>_…``
per group. Passwords are registered with the log redactor and never logged.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from loguru import logger
from nornir import InitNornir
from nornir.core import Nornir
from nornir.core.inventory import (
    ConnectionOptions,
    Defaults,
    Group,
    Groups,
    Host,
    Hosts,
    Inventory,
    ParentGroups,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.models import Device, DeviceType, IpAddress, Rack, Site
from simpul.db import Database
from simpul.logging import register_secret
from simpul.models import Opd
from simpul.settings import load_settings

# simpul platform -> Netmiko device type. Lab routers are FRR with vtysh as login shell,
# so Netmiko's Cisco IOS driver drives them unchanged.
NETMIKO_PLATFORMS = {
    "frr": "cisco_ios", "linux": "linux", "ios": "cisco_ios", "iosxe": "cisco_xe",
    "nxos": "cisco_nxos", "eos": "arista_eos", "junos": "juniper_junos",
    "routeros": "mikrotik_routeros", "vyos": "vyos",
}
# simpul platform -> NAPALM driver ("frr" is the driver the playbooks package provides).
NAPALM_DRIVERS = {
    "frr": "frr", "ios": "ios", "iosxe": "ios", "nxos": "nxos_ssh", "eos": "eos",
    "junos": "junos", "routeros": "ros", "vyos": "vyos",
}
ENV_PREFIX = "SIMPUL_DEVICE_"
GROUP_KINDS = ("site", "opd", "role", "platform")


def env_name(*parts: str) -> str:
    """Return the variable of a scope.

    ``("site", "dc-x", "USERNAME")`` → ``SIMPUL_DEVICE_SITE_DC_X_USERNAME``.
    """
    return ENV_PREFIX + "_".join(re.sub(r"[^A-Za-z0-9]+", "_", p).strip("_").upper()
                                 for p in parts if p)


@dataclass(frozen=True)
class Credentials:
    """Login values of one scope; None where the environment sets nothing."""

    username: str | None = None
    password: str | None = None
    secret: str | None = None

    def __repr__(self) -> str:  # never print a password, even in a traceback
        return f"Credentials(username={self.username!r}, password=***, secret=***)"


def credentials_from_env(env: Mapping[str, str], *scope: str) -> Credentials:
    """Return the credentials the environment sets for *scope* (empty scope: defaults)."""
    values = {key: env.get(env_name(*scope, key.upper())) or None
              for key in ("username", "password", "secret")}
    for key in ("password", "secret"):
        register_secret(values[key])
    return Credentials(**values)


def _group(name: str, creds: Credentials, data: dict[str, Any]) -> Group:
    extras = {"secret": creds.secret} if creds.secret else None
    options = {"netmiko": ConnectionOptions(extras=extras)} if extras else None
    return Group(name=name, username=creds.username, password=creds.password, data=data,
                 connection_options=options)


def _names(values: Iterable[str] | str | None) -> set[str] | None:
    """Return a filter set from a list or a comma-separated string (None: no filter)."""
    if values is None:
        return None
    if isinstance(values, str):
        values = values.split(",")
    found = {v.strip() for v in values if v and v.strip()}
    return found or None


class SimpulInventory:
    """Nornir inventory plugin reading devices from simpul's database.

    Args:
        db_url: database URL (default: simpul's settings, ``SIMPUL_DATABASE_URL``).
        session_factory: a callable returning a Session (tests, the web app).
        hosts, roles, sites, opds, platforms: keep only matching devices (lists or
            comma-separated strings); OPDs by code.
        env: the environment to read credentials from (default ``os.environ``).
    """

    def __init__(self, db_url: str | None = None, *,
                 session_factory: Callable[[], Session] | None = None,
                 hosts: Iterable[str] | str | None = None,
                 roles: Iterable[str] | str | None = None,
                 sites: Iterable[str] | str | None = None,
                 opds: Iterable[str] | str | None = None,
                 platforms: Iterable[str] | str | None = None,
                 env: Mapping[str, str] | None = None) -> None:
        self.db_url = db_url
        self.session_factory = session_factory
        self.filters = {"name": _names(hosts), "role": _names(roles), "site": _names(sites),
                        "opd": {o.upper() for o in _names(opds) or ()} or None,
                        "platform": _names(platforms)}
        self.env = os.environ if env is None else env

    def _rows(self) -> list[dict[str, Any]]:
        if self.session_factory is not None:
            with self.session_factory() as session:
                return _device_rows(session)
        database = Database(self.db_url or load_settings().database_url)
        try:
            with database.session(write=False) as session:
                return _device_rows(session)
        finally:
            database.dispose()

    def _keep(self, row: dict[str, Any]) -> bool:
        return all(wanted is None or row[key] in wanted for key, wanted in self.filters.items())

    def load(self) -> Inventory:
        """Return the Nornir inventory of the (filtered) devices."""
        rows = [r for r in self._rows() if self._keep(r)]
        groups = Groups()
        hosts = Hosts()
        for row in rows:
            parents = []
            for kind in GROUP_KINDS:
                value = row[kind]
                if not value:
                    continue
                name = f"{kind}:{value}"
                if name not in groups:
                    scope = (value,) if kind == "platform" else (kind, value)
                    groups[name] = _group(name, credentials_from_env(self.env, *scope),
                                          {"kind": kind, kind: value})
                parents.append(groups[name])
            options = {}
            if row["platform"] in NAPALM_DRIVERS:
                options["napalm"] = ConnectionOptions(platform=NAPALM_DRIVERS[row["platform"]])
            hosts[row["name"]] = Host(
                name=row["name"], hostname=row["hostname"],
                platform=NETMIKO_PLATFORMS.get(row["platform"], row["platform"] or None),
                groups=ParentGroups(parents), data={k: v for k, v in row.items()
                                                    if k not in ("name", "hostname")},
                connection_options=options)
        base = credentials_from_env(self.env)
        defaults = Defaults(username=base.username, password=base.password,
                            connection_options={"netmiko": ConnectionOptions(
                                extras={"secret": base.secret})} if base.secret else None)
        for host in hosts.values():
            host.defaults = defaults
        for group in groups.values():
            group.defaults = defaults
        logger.bind(task="inventory.nornir").debug(
            "nornir inventory: {} hosts, {} groups", len(hosts), len(groups))
        return Inventory(hosts=hosts, groups=groups, defaults=defaults)


def _device_rows(session: Session) -> list[dict[str, Any]]:
    """Return one plain mapping per device (everything the inventory needs, no ORM)."""
    sites = {s.id: s for s in session.scalars(select(Site))}
    opds = {o.id: o.code for o in session.scalars(select(Opd))}
    racks = {r.id: r.name for r in session.scalars(select(Rack))}
    types = {t.id: t.slug for t in session.scalars(select(DeviceType))}
    devices = session.scalars(select(Device).order_by(Device.name, Device.site_id)).all()
    primary_ids = [d.primary_ip4_id or d.primary_ip6_id for d in devices]
    addresses = {ip.id: ip.address.split("/")[0] for ip in session.scalars(
        select(IpAddress).where(IpAddress.id.in_([i for i in primary_ids if i])))}
    counts: dict[str, int] = {}
    for d in devices:
        counts[d.name] = counts.get(d.name, 0) + 1
    rows = []
    for d, ip_id in zip(devices, primary_ids, strict=True):
        site = sites[d.site_id]
        rows.append({
            "name": d.name if counts[d.name] == 1 else f"{site.slug}/{d.name}",
            "hostname": addresses.get(ip_id or 0, d.name), "device_id": d.id,
            "device_name": d.name, "role": d.role, "platform": d.platform,
            "site": site.slug, "area": site.area, "opd": opds.get(d.opd_id or 0),
            "status": d.status, "device_type": types.get(d.device_type_id),
            "serial": d.serial, "rack": racks.get(d.rack_id or 0), "position": d.position,
            "primary_ip": addresses.get(ip_id or 0),
        })
    return rows


def filter_nornir(nr: Nornir, *, hosts: Iterable[str] | str | None = None,
                  roles: Iterable[str] | str | None = None,
                  sites: Iterable[str] | str | None = None,
                  opds: Iterable[str] | str | None = None,
                  platforms: Iterable[str] | str | None = None) -> Nornir:
    """Return *nr* narrowed to hosts matching every given filter (lists or 'a,b')."""
    wanted = {"name": _names(hosts), "role": _names(roles), "site": _names(sites),
              "opd": {o.upper() for o in _names(opds) or ()} or None,
              "platform": _names(platforms)}

    def keep(host: Host) -> bool:
        values = {"name": host.name, **{k: host.data.get(k) for k in wanted if k != "name"}}
        return all(w is None or values[k] in w for k, w in wanted.items())

    return nr.filter(filter_func=keep)


def init_nornir(source: str | Database | Callable[[], Session] | None = None, *,
                hosts: Iterable[str] | str | None = None,
                roles: Iterable[str] | str | None = None,
                sites: Iterable[str] | str | None = None,
                opds: Iterable[str] | str | None = None,
                platforms: Iterable[str] | str | None = None,
                num_workers: int = 20, env: Mapping[str, str] | None = None) -> Nornir:
    """Return a ready Nornir (threaded runner) over simpul's devices.

    Args:
        source: a database URL, a ``Database``, a session factory, or None for the
            configured database.
        hosts, roles, sites, opds, platforms: filters (what ``--hosts/--role/--site/--opd``
            pass on).
        num_workers: threads of the runner.
    """
    options: dict[str, Any] = {"hosts": hosts, "roles": roles, "sites": sites, "opds": opds,
                               "platforms": platforms, "env": env}
    if isinstance(source, Database):
        options["session_factory"] = source.sessionmaker
    elif callable(source):
        options["session_factory"] = source
    else:
        options["db_url"] = source
    return InitNornir(
        runner={"plugin": "threaded", "options": {"num_workers": num_workers}},
        inventory={"plugin": "SimpulInventory", "options": options},
        logging={"enabled": False},
    )
