"""The containerlab backend, used only where a Docker engine answers and containerlab exists.

It deploys the same ``.clab.yml``: containerlab binds ``configs/<node>/`` into the
containers and runs each node's ``setup.sh``. Management daemons (sshd, snmpd, rsyslog,
lldpd) are whatever the node images run; the namespace backend is the one CI uses.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

from labs.errors import LabError
from labs.settings import LabSettings
from labs.topology import Topology


def available() -> bool:
    """True when ``docker info`` succeeds and ``containerlab`` is on PATH."""
    if shutil.which("containerlab") is None or shutil.which("docker") is None:
        return False
    try:
        proc = subprocess.run(["docker", "info"], capture_output=True, timeout=15)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


class ClabLab:
    """Drive containerlab for one topology."""

    backend = "clab"

    def __init__(self, topology: Topology, settings: LabSettings) -> None:
        self.topology = topology
        self.settings = settings

    def _clab(self, *args: str, timeout: float = 600) -> str:
        proc = subprocess.run(["containerlab", *args, "-t", str(self.topology.path)],
                              capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            lines = (proc.stderr or proc.stdout).strip().splitlines()
            raise LabError(f"containerlab {args[0]} failed: {lines[-1] if lines else ''}")
        return proc.stdout

    def containers(self) -> dict[str, dict[str, Any]]:
        """Return containerlab's view of the lab's containers, by node name."""
        try:
            data = json.loads(self._clab("inspect", "--format", "json", timeout=60) or "{}")
        except (LabError, ValueError):
            return {}
        rows = data.get("containers", []) if isinstance(data, dict) else []
        if isinstance(data, dict) and not rows:
            rows = [c for v in data.values() if isinstance(v, list) for c in v]
        prefix = f"clab-{self.topology.name}-"
        return {str(c.get("name", "")).removeprefix(prefix): c for c in rows}

    def up(self) -> tuple[None, bool]:
        """Deploy unless every node already runs."""
        running = self.containers()
        if running and all(n in running for n in self.topology.nodes):
            return None, True
        self._clab("deploy", "--reconfigure")
        return None, False

    def down(self) -> dict[str, int]:
        """Destroy the lab and its containerlab directory."""
        self._clab("destroy", "--cleanup")
        return {"netns": 0, "links": 0, "processes": 0}

    def status(self) -> list[dict[str, Any]]:
        """Return one row per node, like the namespace backend."""
        running = self.containers()
        rows = []
        for node in self.topology.nodes.values():
            state = str(running.get(node.name, {}).get("state", "")).lower()
            rows.append({
                "name": node.name, "kind": node.kind, "role": node.role,
                "platform": node.platform, "site": node.site, "opd": node.opd,
                "mgmt_ipv4": str(node.mgmt_ipv4),
                "state": "running" if state == "running" else "stopped",
                "services": [], "netns": None,
                "credentials": self.settings.credentials(),
            })
        return rows

    def exec_argv(self, node: str, argv: list[str]) -> list[str]:
        """Return ``docker exec`` for *argv* in *node*'s container."""
        self.topology.node(node)
        return ["docker", "exec", "-it", f"clab-{self.topology.name}-{node}", *argv]
