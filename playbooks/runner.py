"""Running a playbook on the inventory: render, diff, commit, verify, roll back.

Phase 1 (Nornir, threaded, one task per host): lock the device, render the candidate per
layer, open that layer's NAPALM driver, load the candidate, compare. A dry-run discards
and reports the diffs. Otherwise the layers are committed in the order render() gave
them; an error rolls back the layers already committed on that host (the FRR driver
restores itself when a command is refused mid-commit).

Phase 2, once every host has committed (routing needs both ends of a link): verify()
per host, in parallel; a host whose verification fails is rolled back.

Every message leaving this module (events, diffs, errors) goes through
``simpul.logging.redact``: playbooks register their secrets (OSPF keys, PSKs), so a key
in a diff is shown as ``***`` in the terminal, the run record and the log.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import napalm
from loguru import logger
from nornir.core.inventory import Host
from nornir.core.task import Result, Task

import playbooks  # noqa: F401  (installs the napalm_frr/napalm_linux aliases)
from playbooks import locks, registry
from playbooks.base import (
    OFFLINE_LAYERS,
    STATUS_CHANGED,
    STATUS_FAILED,
    STATUS_LOCKED,
    STATUS_OK,
    STATUS_ROLLED_BACK,
    STATUS_SKIPPED,
    DeviceLockedError,
    PlaybookError,
    RenderContext,
)
from simpul.db import Database
from simpul.logging import redact
from simpul.settings import Settings

EventHandler = Callable[[str, str], None]
DEFAULT_VERIFY_TIMEOUT = 90.0


@dataclass
class HostResult:
    """What happened on one host."""

    host: str
    status: str = STATUS_OK
    changed: bool = False
    diffs: dict[str, str] = field(default_factory=dict)   # layer -> diff
    verification: list[str] = field(default_factory=list)  # failure messages
    verified: bool | None = None                           # None: not verified
    error: str = ""
    seconds: float = 0.0

    @property
    def diff(self) -> str:
        """All layers' diffs, each under a ``# layer`` header."""
        return "".join(f"# {layer}\n{text}" for layer, text in self.diffs.items() if text)

    @property
    def diff_lines(self) -> int:
        """Number of changed lines over all layers."""
        return sum(1 for text in self.diffs.values() for ln in text.splitlines()
                   if ln[:1] in "+-")

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-able summary."""
        return {"host": self.host, "status": self.status, "changed": self.changed,
                "diffs": self.diffs, "diff_lines": self.diff_lines,
                "verified": self.verified, "verification": self.verification,
                "error": self.error, "seconds": round(self.seconds, 2)}


@dataclass
class RunResult:
    """The outcome of one playbook run."""

    playbook: str
    dry_run: bool
    hosts: dict[str, HostResult] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        """True when any host failed, was rolled back or was locked."""
        return any(r.status in (STATUS_FAILED, STATUS_ROLLED_BACK, STATUS_LOCKED)
                   for r in self.hosts.values())

    @property
    def status(self) -> str:
        """``failed`` or ``ok`` for the run as a whole."""
        return "failed" if self.failed else "ok"


@dataclass
class _HostState:
    """Open drivers and commits of one host between the phases (runner-private)."""

    host: Host
    result: HostResult
    devices: dict[str, Any] = field(default_factory=dict)
    committed: list[str] = field(default_factory=list)
    lock: locks.DeviceLock | None = None
    started: float = field(default_factory=time.monotonic)


def _open_driver(host: Host, layer: str, timeout: int) -> Any:
    driver_class = napalm.get_network_driver(layer)
    params = host.get_connection_parameters("napalm")
    extras = dict(params.extras or {})
    device = driver_class(host.hostname, params.username or "", params.password or "",
                          timeout=timeout, optional_args=extras)
    device.open()
    return device


class Runner:
    """One run of one playbook over a Nornir inventory (see module doc)."""

    def __init__(self, playbook: str | ModuleType, ctx: RenderContext, *, dry_run: bool,
                 holder: str, on_event: EventHandler | None = None,
                 connect_timeout: int = 30) -> None:
        self.module = registry.get(playbook) if isinstance(playbook, str) else playbook
        self.name = str(self.module.NAME)
        self.ctx = ctx
        self.dry_run = dry_run
        self.holder = holder
        self.on_event = on_event
        self.connect_timeout = connect_timeout
        self.replace = bool(getattr(self.module, "REPLACE", False))
        self.states: dict[str, _HostState] = {}
        self._lock = threading.Lock()

    # --- events ----------------------------------------------------------------------

    def event(self, host: str, message: str) -> None:
        """Report progress of *host* (redacted) to the log and the caller."""
        message = redact(message)
        logger.bind(host=host, task=f"playbook.{self.name}").info("{}", message)
        if self.on_event is not None:
            try:
                self.on_event(host, message)
            except Exception as exc:  # a broken listener must not break the run
                logger.warning("event listener failed: {}", exc)

    # --- phase 1 ---------------------------------------------------------------------

    def _phase1(self, task: Task) -> Result:
        host = task.host
        state = _HostState(host=host, result=HostResult(host.name))
        with self._lock:
            self.states[host.name] = state
        try:
            self._prepare_and_commit(state)
        except Exception as exc:  # every failure is reported per host, never raised
            self._fail(state, exc)
        return Result(host=host, result=state.result.status)

    def _prepare_and_commit(self, state: _HostState) -> None:
        host, result = state.host, state.result
        candidates = {layer: text for layer, text in
                      self.module.render(host, self.ctx).items() if layer not in OFFLINE_LAYERS}
        if not candidates:
            result.status = STATUS_SKIPPED
            self.event(host.name, "nothing to configure")
            return
        try:
            state.lock = locks.acquire(self.ctx.settings.data_dir, host.name,
                                       holder=self.holder)
        except DeviceLockedError as exc:
            result.status = STATUS_LOCKED
            result.error = str(exc)
            self.event(host.name, f"refused: {exc}")
            return
        for layer, text in candidates.items():
            device = _open_driver(host, layer, self.connect_timeout)
            state.devices[layer] = device
            if self.replace:
                device.load_replace_candidate(config=text)
            else:
                device.load_merge_candidate(config=text)
            diff = redact(device.compare_config())
            result.diffs[layer] = diff
            count = sum(1 for ln in diff.splitlines() if ln[:1] in "+-")
            self.event(host.name, f"{layer}: {count} line(s) to change" if diff
                       else f"{layer}: no change")
        result.changed = any(result.diffs.values())
        if self.dry_run or not result.changed:
            for device in state.devices.values():
                device.discard_config()
            result.status = STATUS_CHANGED if result.changed else STATUS_OK
            return
        for layer, device in state.devices.items():
            if not result.diffs.get(layer):
                device.discard_config()
                continue
            state.committed.append(layer)  # a failed commit may have half-applied
            device.commit_config()
            self.event(host.name, f"{layer}: committed")
        result.status = STATUS_CHANGED

    def _fail(self, state: _HostState, exc: BaseException) -> None:
        result = state.result
        result.error = redact(" ".join(str(exc).split()) or type(exc).__name__)
        self.event(state.host.name, f"error: {result.error}")
        result.status = STATUS_ROLLED_BACK if self._rollback(state) else STATUS_FAILED

    def _rollback(self, state: _HostState) -> bool:
        """Undo the committed layers (reverse order); True when something was undone."""
        if not state.committed:
            return False
        ok = True
        for layer in reversed(state.committed):
            try:
                state.devices[layer].rollback()
                self.event(state.host.name, f"{layer}: rolled back")
            except Exception as exc:
                ok = False
                state.result.error += redact(f"; rollback of {layer} failed: {exc}")
                self.event(state.host.name, f"{layer}: ROLLBACK FAILED: {redact(str(exc))}")
        state.committed.clear()
        return ok

    # --- phase 2 ---------------------------------------------------------------------

    def _verify(self, state: _HostState) -> None:
        host, result = state.host, state.result
        try:
            problems = [redact(p) for p in
                        self.module.verify(host, self.ctx, dict(state.devices))]
        except Exception as exc:
            problems = [redact(f"verification error: {exc}")]
        result.verification = problems
        result.verified = not problems
        if not problems:
            self.event(host.name, "verified")
            return
        self.event(host.name, "verification failed: " + "; ".join(problems))
        if state.committed:
            result.status = STATUS_ROLLED_BACK if self._rollback(state) else STATUS_FAILED
        else:
            result.status = STATUS_FAILED

    # --- the run ---------------------------------------------------------------------

    def run(self, nr: Any) -> RunResult:
        """Run on the hosts of *nr* that the playbook selects; return per-host results."""
        started = time.monotonic()
        selected = nr.filter(filter_func=self.module.select)
        if not selected.inventory.hosts:
            raise PlaybookError(f"no host matches the filters for playbook {self.name!r}",
                                errors={"hosts": ["no host matches"]})
        names = sorted(selected.inventory.hosts)
        self.event("*", f"{self.name}: {len(names)} host(s){' (dry-run)' if self.dry_run else ''}"
                        f": {', '.join(names)}")
        try:
            selected.run(task=self._phase1, name=f"playbook {self.name}")
            to_verify = [s for s in self.states.values()
                         if s.result.status in (STATUS_OK, STATUS_CHANGED)]
            if not self.dry_run and to_verify:
                with ThreadPoolExecutor(max_workers=max(1, len(to_verify))) as pool:
                    list(pool.map(self._verify, to_verify))
        finally:
            for state in self.states.values():
                for device in state.devices.values():
                    try:
                        device.close()
                    except Exception as exc:
                        logger.debug("close failed on {}: {}", state.host.name, exc)
                if state.lock is not None:
                    state.lock.release()
                state.result.seconds = time.monotonic() - state.started
        result = RunResult(self.name, self.dry_run,
                           {n: self.states[n].result for n in sorted(self.states)},
                           time.monotonic() - started)
        self.event("*", f"{self.name}: {result.status} in {result.seconds:.1f} s")
        return result


def run_playbook(db: Database, settings: Settings, playbook: str | ModuleType, *,
                 hosts: Iterable[str] | str | None = None,
                 roles: Iterable[str] | str | None = None,
                 sites: Iterable[str] | str | None = None,
                 opds: Iterable[str] | str | None = None,
                 dry_run: bool = False, work_order: int | None = None,
                 verify_timeout: float = DEFAULT_VERIFY_TIMEOUT,
                 holder: str = "a playbook run", on_event: EventHandler | None = None,
                 num_workers: int = 20) -> RunResult:
    """Run *playbook* on the inventory hosts matching the filters (see module doc).

    Raises:
        PlaybookError: unknown playbook, or no host matches.
    """
    from inventory.nornir import init_nornir

    ctx = RenderContext(db=db, settings=settings, verify_timeout=verify_timeout,
                        work_order=work_order)
    runner = Runner(playbook, ctx, dry_run=dry_run, holder=holder, on_event=on_event)
    nr = init_nornir(db, hosts=hosts, roles=roles, sites=sites, opds=opds,
                     num_workers=num_workers)
    return runner.run(nr)
