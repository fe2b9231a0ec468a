"""The lab's state file: every namespace, link, bridge, mount and process it created."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATE_FILE = "state.json"


@dataclass
class Process:
    """A process the lab started, tracked by PID."""

    node: str
    name: str
    pid: int
    pidfile: str | None = None

    def alive(self) -> bool:
        """True while the PID exists and is not a zombie."""
        return pid_alive(self.pid)


@dataclass
class LabState:
    """What one ``lab up`` built; written as JSON under the state directory."""

    lab: str
    topology: str
    backend: str = "netns"
    phase: str = "building"
    started: float = 0.0
    ready_seconds: float | None = None
    netns: list[str] = field(default_factory=list)
    bridges: list[str] = field(default_factory=list)
    veths: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    processes: list[Process] = field(default_factory=list)

    def node_processes(self, node: str) -> list[Process]:
        """Return the processes tracked for *node*."""
        return [p for p in self.processes if p.node == node]

    def to_json(self) -> str:
        """Serialise to JSON text."""
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LabState:
        """Build from the JSON mapping written by :meth:`to_json`."""
        data = dict(data)
        data["processes"] = [Process(**p) for p in data.get("processes", [])]
        return cls(**data)


def state_path(state_dir: Path) -> Path:
    """Return the state file path under *state_dir*."""
    return state_dir / STATE_FILE


def load_state(state_dir: Path) -> LabState | None:
    """Return the saved state, or None when there is none (or it is unreadable)."""
    try:
        return LabState.from_dict(json.loads(state_path(state_dir).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def save_state(state_dir: Path, state: LabState) -> None:
    """Write *state* atomically."""
    state_dir.mkdir(parents=True, exist_ok=True)
    tmp = state_path(state_dir).with_suffix(".tmp")
    tmp.write_text(state.to_json())
    os.replace(tmp, state_path(state_dir))


def pid_alive(pid: int) -> bool:
    """True when *pid* runs (zombies count as dead)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            stat = fh.read()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")
