"""``run_backup``: pull every device's running config into the config repository.

One call = one run = at most one commit. A device whose config did not change leaves
its file untouched, so a run over an unchanged network makes no commit at all. A device
that cannot be reached keeps its last good file and is named in the run's summary.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from loguru import logger
from nornir.core import Nornir
from sqlalchemy import select

from playbooks.backup.collect import Pulled, pull_configs
from playbooks.backup.repo import ConfigRepo
from playbooks.backup.settings import BackupSettings, load_backup_settings
from playbooks.backup.volatile import clean_config
from playbooks.backup.worklink import find_work_orders
from simpul.context import AppContext
from simpul.models import Opd


@dataclass
class BackupRun:
    """The outcome of one backup run."""

    started: datetime
    commit: str | None = None
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    work_orders: dict[str, list[int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        """Return the one-line summary (the commit's subject)."""
        return (f"backup {self.started:%Y-%m-%d %H:%M} UTC: {len(self.changed)} changed, "
                f"{len(self.added)} added, {len(self.failed)} failed, "
                f"{len(self.unchanged)} unchanged")

    def message(self) -> str:
        """Return the commit message: the summary, then the devices by outcome."""
        lines = [self.summary(), ""]
        for name in self.changed:
            wos = ", ".join(f"WO-{i}" for i in self.work_orders.get(name, []))
            lines.append(f"changed: {name}" + (f" (work order {wos})" if wos else ""))
        lines += [f"added: {name}" for name in self.added]
        lines += [f"failed: {name}: {why}" for name, why in sorted(self.failed.items())]
        return "\n".join(lines).rstrip() + "\n"

    def as_dict(self) -> dict[str, object]:
        return {"started": self.started.isoformat(), "commit": self.commit,
                "added": self.added, "changed": self.changed, "unchanged": self.unchanged,
                "failed": self.failed, "skipped": self.skipped,
                "work_orders": self.work_orders, "summary": self.summary()}


def _last_commit_time(repo: ConfigRepo) -> datetime | None:
    out = repo.git("log", "-1", "--format=%cI", check=False).strip()
    return datetime.fromisoformat(out) if out else None


def store_configs(app: AppContext, repo: ConfigRepo, pulled: Iterable[Pulled],
                  opds: dict[str, str | None], *, mask_secrets: bool = True,
                  now: datetime | None = None) -> BackupRun:
    """Write pulled configs into *repo* and commit them as one run.

    Args:
        opds: device name → OPD code (for linking changes to work orders).
    """
    now = now or datetime.now(UTC)
    run = BackupRun(started=now)
    with repo.locked():
        since = _last_commit_time(repo) or now - timedelta(days=1)
        for item in pulled:
            if item.text is None:
                run.failed[item.device] = item.error or "failed"
                continue
            text = clean_config(item.text, item.platform, mask_secrets=mask_secrets)
            if not text.strip():
                run.failed[item.device] = "empty configuration returned"
                continue
            old = repo.read(item.device)
            if old == text:
                run.unchanged.append(item.device)
                continue
            (run.changed if old is not None else run.added).append(item.device)
            repo.write(item.device, text)
        if run.changed:
            run.work_orders = _link(app, {d: opds.get(d) for d in run.changed}, since, now)
        run.commit = repo.commit(run.message())
    log = logger.bind(task="backup")
    log.info("{}{}", run.summary(), f" (commit {run.commit[:10]})" if run.commit else "")
    return run


def _link(app: AppContext, codes: dict[str, str | None], since: datetime, until: datetime
          ) -> dict[str, list[int]]:
    with app.db.session(write=False) as session:
        ids = {o.code: o.id for o in session.scalars(select(Opd))}
        return find_work_orders(session, {d: ids.get(c or "") for d, c in codes.items()},
                                since, until)


def run_backup(app: AppContext, *, nr: Nornir | None = None,
               settings: BackupSettings | None = None,
               hosts: Iterable[str] | str | None = None,
               roles: Iterable[str] | str | None = None,
               sites: Iterable[str] | str | None = None,
               opds: Iterable[str] | str | None = None,
               progress: Callable[[str], None] | None = None) -> BackupRun:
    """Back up every (filtered) device's running config; return the run's outcome.

    Args:
        nr: a ready Nornir (default: the inventory plugin over *app*'s database).
        hosts, roles, sites, opds: inventory filters (as ``simpul run`` takes them).
        progress: called with one line per device as results arrive.
    """
    from inventory.nornir import init_nornir

    settings = settings or load_backup_settings(app.settings)
    if nr is None:
        nr = init_nornir(app.db, hosts=hosts, roles=roles, sites=sites, opds=opds,
                         num_workers=settings.workers)
    opd_of = {name: h.data.get("opd") for name, h in nr.inventory.hosts.items()}
    pulled, skipped = pull_configs(nr, timeout=settings.timeout)
    if progress:
        for item in pulled:
            progress(f"{item.device}: {'ok' if item.error is None else item.error}")
    run = store_configs(app, ConfigRepo(settings.repo_dir), pulled, opd_of,
                        mask_secrets=settings.mask_secrets)
    run.skipped = skipped
    return run


def diff_device(app: AppContext, device: str, rev: str | None = None, *,
                settings: BackupSettings | None = None) -> str:
    """Return the diff of *device*'s backed-up config: last change, or *rev* → newest."""
    settings = settings or load_backup_settings(app.settings)
    return ConfigRepo(settings.repo_dir).diff(device, rev)
