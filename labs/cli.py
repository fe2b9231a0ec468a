"""``simpul lab``: bring the lab up and down, inspect it, run commands and traffic in it."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from loguru import logger

from labs import DEFAULT_TOPOLOGY, clab, render
from labs.errors import LabError
from labs.netns import NetnsLab
from labs.settings import LabSettings
from labs.state import load_state
from labs.topology import inventory_yaml, load_topology

F = TypeVar("F", bound=Callable[..., Any])
REPO_ROOT = Path(__file__).resolve().parent.parent


def _errors(func: F) -> F:
    """Turn lab errors into one line without a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except LabError as exc:
            raise click.ClickException(str(exc)) from exc
        except KeyboardInterrupt:
            raise click.ClickException("interrupted") from None

    return wrapper  # type: ignore[return-value]


def _backend(topology_path: str | None = None) -> NetnsLab | clab.ClabLab:
    settings = LabSettings.from_env()
    if topology_path is None:
        state = load_state(settings.state_dir)
        topology_path = state.topology if state else str(DEFAULT_TOPOLOGY)
    topology = load_topology(topology_path)
    wanted = os.environ.get("SIMPUL_LAB_BACKEND", "auto")
    if wanted not in ("auto", "netns", "clab"):
        raise LabError("SIMPUL_LAB_BACKEND must be auto, netns or clab")
    if wanted == "clab" or (wanted == "auto" and clab.available()):
        return clab.ClabLab(topology, settings)
    return NetnsLab(topology, settings)


@click.group()
def lab() -> None:
    """Run the province lab (containerlab, or network namespaces without Docker)."""


@lab.command()
@click.argument("topology", required=False, type=click.Path(dir_okay=False))
@_errors
def up(topology: str | None) -> None:
    """Bring the lab up (idempotent); TOPOLOGY defaults to the province lab."""
    started = time.monotonic()
    backend = _backend(topology or str(DEFAULT_TOPOLOGY))
    _state, already = backend.up()
    name = backend.topology.name if backend.topology else "lab"
    count = len(backend.topology.nodes) if backend.topology else 0
    if already:
        click.echo(f"lab {name} is already up ({count} nodes)")
    else:
        click.echo(f"lab {name} up: {count} nodes in {time.monotonic() - started:.1f}s "
                   f"({backend.backend})")


@lab.command()
@_errors
def down() -> None:
    """Stop every lab process and remove its namespaces, links, bridges and files."""
    backend = _backend()
    removed = backend.down()
    click.echo(f"lab down: {removed['processes']} processes stopped, {removed['netns']} "
               f"namespaces and {removed['links']} host links removed")


@lab.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_errors
def status(as_json: bool) -> None:
    """Show every node, its management address, state and the lab credentials."""
    rows = _backend().status()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['name']:<10} {row['role']:<13} {row['mgmt_ipv4']:<15} "
                   f"{row['state']:<8} {','.join(row['services'])}")
    if rows:
        c = rows[0]["credentials"]
        click.echo(f"ssh {c['ssh_user']}/{c['ssh_password']}  snmp v2c {c['snmp_community']}"
                   f"  v3 {c['snmpv3_user']} (SHA/AES)")


@lab.command(name="exec", context_settings={"ignore_unknown_options": True})
@click.argument("node")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@_errors
def exec_(node: str, command: tuple[str, ...]) -> None:
    """Run COMMAND inside NODE (e.g. `lab exec core1 -- vtysh -N core1`)."""
    argv = _backend().exec_argv(node, list(command))
    sys.exit(subprocess.call(argv))


@lab.command()
@click.argument("node")
@_errors
def ssh(node: str) -> None:
    """Open an SSH session to NODE's management address as the lab user."""
    backend = _backend()
    target = backend.topology.node(node) if backend.topology else None
    settings = LabSettings.from_env()
    if target is None:
        raise LabError("no topology")
    click.echo(f"password: {settings.password}", err=True)
    os.execvp("ssh", ["ssh", "-o", "StrictHostKeyChecking=no", "-o",
                      "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                      f"{settings.user}@{target.mgmt_ipv4}"])


@lab.command()
@click.argument("src")
@click.argument("dst")
@click.option("--seconds", default=3.0, show_default=True, type=click.FloatRange(0.5, 300))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_errors
def traffic(src: str, dst: str, seconds: float, as_json: bool) -> None:
    """Send iperf3 TCP traffic from SRC to DST (server in DST, client in SRC)."""
    backend = _backend()
    if not isinstance(backend, NetnsLab):
        raise LabError("traffic is implemented for the namespace backend")
    result = backend.traffic(src, dst, seconds)
    if as_json:
        click.echo(json.dumps(result))
    else:
        click.echo(f"{src} -> {dst} ({result['target']}): "
                   f"{result['sent_bps'] / 1e6:.1f} Mbit/s sent, "
                   f"{result['received_bps'] / 1e6:.1f} Mbit/s received over {seconds:g}s")


@lab.command(name="render")
@click.argument("topology", required=False, type=click.Path(dir_okay=False))
@_errors
def render_(topology: str | None) -> None:
    """Write configs/<node>/ beside TOPOLOGY (for containerlab) from its labels."""
    topo = load_topology(topology or DEFAULT_TOPOLOGY)
    base = topo.path.parent / "configs"
    for node in topo.nodes.values():
        for name, text in render.clab_files(topo, node).items():
            path = base / node.name / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    click.echo(f"wrote {base}")


@lab.command(name="inventory")
@click.argument("topology", required=False, type=click.Path(dir_okay=False))
@click.option("--output", type=click.Path(dir_okay=False), help="Default inventory/lab/NAME.yml")
@_errors
def inventory_(topology: str | None, output: str | None) -> None:
    """Write the lab's source-of-truth data (sites, devices, links, prefixes) as YAML."""
    topo = load_topology(topology or DEFAULT_TOPOLOGY)
    path = Path(output) if output else REPO_ROOT / "inventory" / "lab" / f"{topo.name}.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(inventory_yaml(topo))
    click.echo(f"wrote {path}")


if __name__ == "__main__":
    logger.remove()
    logger.add(sys.stderr, level=os.environ.get("SIMPUL_LOG_LEVEL", "INFO"))
    lab()
