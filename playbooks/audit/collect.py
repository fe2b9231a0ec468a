"""Gather each device's evidence for the audit over SSH (Nornir, Netmiko).

Network OSes: the running config (the backup's Netmiko ``show``). Linux layer: one
SSH command that prints a bundle — effective sshd settings, snmpd, rsyslog, NTP,
nftables, the banner and the listening sockets — each section after a marker line.
The command of each section can be replaced with ``SIMPUL_AUDIT_LINUX_<SECTION>``
(``{name}`` is the device name): in the namespace lab every node keeps its daemons'
configs under ``/run/simpul-lab/nodes/<node>/``, not in ``/etc``.

FRR boxes' Linux layer is collected only when ``SIMPUL_DEVICE_SHELL_PORT`` names the
port of their Linux-shell sshd (their port 22 logs into vtysh).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field

import paramiko
from nornir.core import Nornir
from nornir.core.task import Result, Task

from playbooks.audit.parse import BUNDLE_MARK
from playbooks.backup.collect import platform_of, pull_configs

LINUX_SECTIONS: dict[str, str] = {
    "sshd": "cat /etc/ssh/sshd_config /etc/ssh/sshd_config.d/*.conf",
    "snmpd": "cat /etc/snmp/snmpd.conf /etc/snmp/snmpd.conf.d/*.conf",
    "rsyslog": "cat /etc/rsyslog.conf /etc/rsyslog.d/*.conf",
    "ntp": "cat /etc/chrony/chrony.conf /etc/chrony/conf.d/*.conf /etc/ntp.conf "
           "/etc/systemd/timesyncd.conf",
    "nftables": "nft list ruleset || cat /etc/nftables.conf /etc/nftables.d/*.nft",
    "banner": "cat /etc/issue.net",
    "listening": "ss -Htuln",
}
# simpul platform -> baseline layer checked on its running config
CONFIG_LAYER = {"frr": "frr", "ios": "ios", "iosxe": "ios", "eos": "eos", "junos": "junos",
                "routeros": "ros"}


@dataclass
class Evidence:
    """What was collected from one device."""

    name: str
    platform: str
    layers: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def bundle_command(name: str, env: Mapping[str, str] | None = None) -> str:
    """Return the shell command printing *name*'s Linux evidence bundle."""
    env = os.environ if env is None else env
    parts = []
    for section, default in LINUX_SECTIONS.items():
        command = env.get(f"SIMPUL_AUDIT_LINUX_{section.upper()}") or default
        command = command.replace("{name}", shlex.quote(name))
        parts.append(f"echo {shlex.quote(BUNDLE_MARK + section)}; ({command}) 2>/dev/null")
    return "; ".join(parts) + "; true"


def shell_port(env: Mapping[str, str] | None = None) -> int | None:
    """Return the Linux-shell SSH port of FRR boxes (``SIMPUL_DEVICE_SHELL_PORT``), if set."""
    raw = ((os.environ if env is None else env).get("SIMPUL_DEVICE_SHELL_PORT") or "").strip()
    return int(raw) if raw.isdigit() else None


def _bundle(task: Task, port: int | None, timeout: float) -> Result:
    """Run the bundle command over an SSH exec channel (no shell prompt, no echo)."""
    host = task.host
    name = str(host.data.get("device_name") or host.name)
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())  # same as Netmiko's default
    try:
        client.connect(host.hostname, port=port or host.port or 22, username=host.username,
                       password=host.password, timeout=min(timeout, 20.0),
                       banner_timeout=min(timeout, 20.0), auth_timeout=min(timeout, 20.0),
                       look_for_keys=False, allow_agent=False)
        _stdin, stdout, _stderr = client.exec_command(bundle_command(name), timeout=timeout)
        text = stdout.read().decode(errors="replace")
    finally:
        client.close()
    return Result(host=host, result=text)


def collect(nr: Nornir, *, timeout: float = 60.0) -> dict[str, Evidence]:
    """Return the evidence of every host of *nr* (hosts without a known layer are left out)."""
    found = {name: Evidence(name, platform_of(h)) for name, h in nr.inventory.hosts.items()
             if platform_of(h) in CONFIG_LAYER or platform_of(h) == "linux"}
    pulled, _ = pull_configs(nr.filter(filter_func=lambda h: platform_of(h) in CONFIG_LAYER),
                             timeout=timeout)
    for item in pulled:
        if item.text is not None:
            found[item.device].layers[CONFIG_LAYER[item.platform]] = item.text
        else:
            found[item.device].errors.append(f"running config: {item.error}")
    port = shell_port()
    for label, subset, use_port in (
            ("linux", nr.filter(filter_func=lambda h: platform_of(h) == "linux"), None),
            ("linux shell", nr.filter(filter_func=lambda h: platform_of(h) == "frr"), port)):
        if not subset.inventory.hosts or (label == "linux shell" and port is None):
            continue
        results = subset.run(task=_bundle, port=use_port, timeout=timeout, name="audit-bundle")
        for name, multi in results.items():
            if multi.failed:
                exc = multi[0].exception
                found[name].errors.append(f"{label}: {type(exc).__name__}: {exc}"[:300])
            else:
                found[name].layers["linux"] = str(multi[0].result)
    return found
