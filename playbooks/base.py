"""What every playbook module and the runner share (the issue-6 playbook contract).

A playbook is a module ``playbooks/<name>.py`` with::

    NAME: str
    DESCRIPTION: str
    def select(host: Host) -> bool
    def render(host: Host, ctx: RenderContext) -> dict[str, str]   # layer -> candidate
    def verify(host: Host, ctx: RenderContext, devices: dict[str, NetworkDriver]) -> list[str]
    REPLACE: bool = False      # optional: replace instead of merge

Layers are NAPALM driver names: ``frr`` and ``linux`` are pushed (``playbooks.napalm_frr``,
``playbooks.napalm_linux``); ``ios``, ``eos``, ``junos``, ``ros`` are only rendered
(golden-file tests: those OSes cannot run here). The runner (playbooks/runner.py) loads
each layer's candidate, diffs, commits in dict order, verifies, and rolls back a host on
any failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from simpul.errors import SimpulError

if TYPE_CHECKING:
    from napalm.base import NetworkDriver
    from nornir.core.inventory import Host

    from simpul.db import Database
    from simpul.settings import Settings

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

# Layers the runner pushes to devices, and layers that are only rendered.
PUSHED_LAYERS = ("frr", "linux")
OFFLINE_LAYERS = ("ios", "eos", "junos", "ros")
LAYERS = PUSHED_LAYERS + OFFLINE_LAYERS

# Host statuses of a run, in the order the result table explains them.
STATUS_OK = "ok"                    # nothing to change (or dry-run without diff)
STATUS_CHANGED = "changed"          # committed and verified (or dry-run with a diff)
STATUS_FAILED = "failed"            # error before anything was committed / rollback failed
STATUS_ROLLED_BACK = "rolled-back"  # committed, then an error or failed verification undid it
STATUS_SKIPPED = "skipped"          # select() said no, or render() returned {}
STATUS_LOCKED = "locked"            # another run holds the device
STATUSES = (STATUS_OK, STATUS_CHANGED, STATUS_FAILED, STATUS_ROLLED_BACK, STATUS_SKIPPED,
            STATUS_LOCKED)
FAILED_STATUSES = (STATUS_FAILED, STATUS_ROLLED_BACK, STATUS_LOCKED)


class PlaybookError(SimpulError):
    """A playbook cannot be found, rendered or run as asked."""


class DeviceLockedError(PlaybookError):
    """Another run holds the device's lock."""

    http_status = 409


class Playbook(Protocol):
    """The shape of a playbook module (checked by playbooks.registry)."""

    NAME: str
    DESCRIPTION: str

    def select(self, host: Host) -> bool: ...

    def render(self, host: Host, ctx: RenderContext) -> dict[str, str]: ...

    def verify(self, host: Host, ctx: RenderContext,
               devices: dict[str, NetworkDriver]) -> list[str]: ...


@lru_cache(maxsize=1)
def template_environment() -> Environment:
    """Return the Jinja2 environment of playbooks/templates (strict: a typo is an error)."""
    return Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                       autoescape=False)


def render_template(platform: str, name: str, **variables: Any) -> str:
    """Render ``playbooks/templates/<platform>/<name>.j2`` with *variables*."""
    return template_environment().get_template(f"{platform}/{name}.j2").render(**variables)


@dataclass(frozen=True)
class RenderContext:
    """What render() and verify() may use besides the host.

    Inventory data is read with ``ctx.db.session()`` through inventory services/queries;
    ``host.data`` holds what inventory/nornir.py puts there (device_id, role, site, area,
    opd, platform, primary_ip, ...).
    """

    db: Database
    settings: Settings
    verify_timeout: float = 60.0
    work_order: int | None = None
    cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def template(self, platform: str, name: str, **variables: Any) -> str:
        """Render ``playbooks/templates/<platform>/<name>.j2`` (StrictUndefined)."""
        return render_template(platform, name, **variables)


def wait_until(check: Callable[[], list[str]], timeout: float, *,
               interval: float = 1.0) -> list[str]:
    """Call *check* until it returns [] or *timeout* seconds pass; return its last answer.

    For verify(): OSPF adjacencies and tunnels take seconds to come up after a commit.
    """
    deadline = time.monotonic() + timeout
    while True:
        problems = check()
        if not problems or time.monotonic() >= deadline:
            return problems
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))


def sudo_prefix(device: NetworkDriver) -> str:
    """``"sudo -n "`` when a Linux-layer driver runs privileged commands through sudo."""
    return "sudo -n " if getattr(device, "sudo", False) else ""
