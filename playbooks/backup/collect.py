"""Pull running configs from devices: Nornir (threaded) → Netmiko ``send_command``.

Lab routers are FRR with vtysh as login shell, driven by Netmiko's ``cisco_ios``
driver. (The project's NAPALM FRR driver offers ``get_config`` too; the backup keeps
to one Netmiko ``show`` per device, which is all it needs and what every platform has.)
"""

from __future__ import annotations

from dataclasses import dataclass

from loguru import logger
from nornir.core import Nornir
from nornir.core.inventory import ConnectionOptions, Host
from nornir.core.task import Result, Task

from playbooks.backup.volatile import CONFIG_COMMANDS


@dataclass(frozen=True)
class Pulled:
    """What one device gave: its raw config, or the reason it could not."""

    device: str
    platform: str
    text: str | None = None
    error: str | None = None


def platform_of(host: Host) -> str:
    """Return the simpul platform of *host* (``frr``, ``ios``, ``linux`` …)."""
    return str(host.data.get("platform") or host.platform or "")


def _show_config(task: Task, read_timeout: float) -> Result:
    command = CONFIG_COMMANDS[platform_of(task.host)]
    conn = task.host.get_connection("netmiko", task.nornir.config)
    text = conn.send_command(command, read_timeout=read_timeout, strip_prompt=True,
                             strip_command=True)
    return Result(host=task.host, result=text)


def _short(exc: BaseException | None) -> str:
    if exc is None:
        return "failed"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".strip().rstrip(":")[:300]


def pull_configs(nr: Nornir, *, timeout: float = 60.0) -> tuple[list[Pulled], list[str]]:
    """Return the pulled configs of every host with a config command, and the skipped hosts."""
    wanted = nr.filter(filter_func=lambda h: platform_of(h) in CONFIG_COMMANDS)
    skipped = sorted(set(nr.inventory.hosts) - set(wanted.inventory.hosts))
    for host in wanted.inventory.hosts.values():
        extras = dict(host.get_connection_parameters("netmiko").extras or {})
        extras.setdefault("conn_timeout", min(timeout, 20.0))
        extras.setdefault("fast_cli", False)
        host.connection_options["netmiko"] = ConnectionOptions(extras=extras)
    results = wanted.run(task=_show_config, read_timeout=timeout, name="backup")
    pulled: list[Pulled] = []
    for name, multi in sorted(results.items()):
        host = wanted.inventory.hosts[name]
        if multi.failed:
            error = _short(multi[0].exception)
            logger.bind(host=name, task="backup").warning("backup of {} failed: {}", name, error)
            pulled.append(Pulled(name, platform_of(host), error=error))
        else:
            pulled.append(Pulled(name, platform_of(host), text=str(multi[0].result)))
    wanted.close_connections(on_good=True, on_failed=True)
    return pulled, skipped
