"""``run_ansible``: run an Ansible playbook of ``playbooks/ansible/`` through ansible-runner.

What ``simpul run --ansible NAME`` calls. The inventory is simpul's own Ansible export
(``simpul inventory export --ansible``), narrowed with the same filters as a Nornir run
(``--hosts/--role/--site/--opd`` become ``--limit``). Credentials never touch the disk:
the inventory reads them from the environment at run time (``SIMPUL_DEVICE_USERNAME`` /
``_PASSWORD``) through an ``env`` lookup. The baseline's values (``SIMPUL_BASELINE_*``)
are passed as ``simpul_*`` variables, so Ansible and the ``baseline`` playbook agree.

Events stream to ``on_event(host, message)`` as ansible-runner reports them; the result
has the runner's shape (``RunResult`` of ``HostResult``), so the CLI and the web UI show
one table for both kinds of run. A task's report text (``simpul-report: ...`` debug
messages, e.g. the patch status) is kept in the host's ``diffs["report"]``.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from loguru import logger

from playbooks.audit.policy import BaselinePolicy, load_policy
from playbooks.base import (
    STATUS_CHANGED,
    STATUS_FAILED,
    STATUS_OK,
    STATUS_SKIPPED,
    PlaybookError,
)
from playbooks.runner import HostResult, RunResult
from simpul.db import Database
from simpul.logging import redact

ANSIBLE_DIR = Path(__file__).resolve().parent / "ansible"
EventHandler = Callable[[str, str], None]
REPORT_PREFIX = "simpul-report: "
# Credentials from the environment of the ansible-playbook process, never written down.
CREDENTIAL_VARS = {
    "ansible_user": "{{ lookup('ansible.builtin.env', 'SIMPUL_DEVICE_USERNAME') }}",
    "ansible_password": "{{ lookup('ansible.builtin.env', 'SIMPUL_DEVICE_PASSWORD') }}",
}

# Ansible's fastest SSH settings (multiplexed connections), no host-key prompts.
ANSIBLE_ENV = {
    "ANSIBLE_HOST_KEY_CHECKING": "False", "ANSIBLE_RETRY_FILES_ENABLED": "False",
    "ANSIBLE_SSH_ARGS": "-o ControlMaster=auto -o ControlPersist=60s "
                        "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
}


def _path() -> str:
    """Return PATH with this Python's bin first: ansible-playbook of the venv, found even
    when the venv is not activated."""
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


def ansible_names() -> list[str]:
    """Return the Ansible playbooks shipped in ``playbooks/ansible/``."""
    return sorted(p.stem for p in ANSIBLE_DIR.glob("*.yml"))


def playbook_path(name: str, directory: Path = ANSIBLE_DIR) -> Path:
    """Return the file of Ansible playbook *name*.

    Raises:
        PlaybookError: no such playbook.
    """
    path = directory / f"{name}.yml"
    if not name.replace("-", "").replace("_", "").isalnum() or not path.is_file():
        known = ", ".join(ansible_names()) or "none"
        raise PlaybookError(f"unknown Ansible playbook {name!r}; known: {known}",
                            errors={"playbook": ["unknown Ansible playbook"]})
    return path


def policy_vars(policy: BaselinePolicy) -> dict[str, Any]:
    """Return the baseline values as Ansible variables (no secrets)."""
    return {"simpul_ssh_port": policy.ssh_port, "simpul_mgmt_subnets": list(policy.mgmt_subnets),
            "simpul_syslog_host": policy.syslog_host, "simpul_syslog_port": policy.syslog_port,
            "simpul_ntp_servers": list(policy.ntp_servers),
            "simpul_idle_minutes": policy.idle_minutes, "simpul_banner": policy.banner}


def build_inventory(db: Database, hosts: list[str]) -> dict[str, Any]:
    """Return simpul's Ansible inventory with the credentials lookup and only *hosts*."""
    from inventory.export import export_ansible

    with db.session(write=False) as session:
        inventory = export_ansible(session)
    wanted = set(hosts)
    root = inventory["all"]
    root["hosts"] = {h: v for h, v in root["hosts"].items() if h in wanted}
    for group in root["children"].values():
        group["hosts"] = {h: None for h in group.get("hosts", {}) if h in wanted}
    root["vars"] = {**CREDENTIAL_VARS, "ansible_host_key_checking": False}
    return inventory


def _selected_hosts(db: Database, **filters: Any) -> list[str]:
    from inventory.nornir import init_nornir

    nr = init_nornir(db, env={}, **filters)
    return sorted(name.replace("/", "-") for name in nr.inventory.hosts)


class _Collector:
    """Turn ansible-runner events into per-host results and streamed messages."""

    def __init__(self, hosts: list[str], on_event: EventHandler | None) -> None:
        self.results = {h: HostResult(h, status=STATUS_SKIPPED) for h in hosts}
        self.on_event = on_event
        self.reports: dict[str, list[str]] = {}

    def emit(self, host: str, message: str) -> None:
        message = redact(message)
        logger.bind(host=host, task="ansible").info("{}", message)
        if self.on_event is not None:
            try:
                self.on_event(host, message)
            except Exception as exc:  # a broken listener must not break the run
                logger.warning("event listener failed: {}", exc)

    def __call__(self, event: dict[str, Any]) -> bool:
        kind = event.get("event", "")
        data = event.get("event_data") or {}
        host = data.get("host") or ""
        task = data.get("task") or ""
        res = data.get("res") or {}
        if kind == "runner_on_ok":
            msg = res.get("msg")
            if isinstance(msg, str) and msg.startswith(REPORT_PREFIX):
                self.reports.setdefault(host, []).append(msg[len(REPORT_PREFIX):])
                self.emit(host, f"{task}: {msg[len(REPORT_PREFIX):]}")
            else:
                self.emit(host, f"{task}: {'changed' if res.get('changed') else 'ok'}")
        elif kind in ("runner_on_failed", "runner_on_unreachable"):
            if kind == "runner_on_failed" and data.get("ignore_errors"):
                return True
            why = res.get("msg") or res.get("stderr") or "failed"
            result = self.results.setdefault(host, HostResult(host))
            result.error = redact(f"{task}: {str(why).strip().splitlines()[0][:300]}")
            self.emit(host, f"{task}: {'unreachable' if 'unreachable' in kind else 'failed'}"
                            f" — {result.error}")
        elif kind == "runner_on_skipped":
            self.emit(host, f"{task}: skipped")
        return True  # keep the event in the artifacts

    def finish(self, stats: Mapping[str, Mapping[str, int]] | None, seconds: float) -> None:
        stats = stats or {}
        for host, result in self.results.items():
            failed = stats.get("failures", {}).get(host, 0) or stats.get("dark", {}).get(host, 0)
            changed = stats.get("changed", {}).get(host, 0)
            seen = host in stats.get("processed", {})
            result.changed = bool(changed)
            result.status = (STATUS_FAILED if failed else STATUS_CHANGED if changed
                             else STATUS_OK if seen else STATUS_SKIPPED)
            if failed and not result.error:
                result.error = "failed"
            if host in self.reports:
                result.diffs["report"] = "\n".join(self.reports[host]) + "\n"
            result.seconds = seconds


def run_ansible(db: Database, name: str, *, hosts: Iterable[str] | str | None = None,
                roles: Iterable[str] | str | None = None,
                sites: Iterable[str] | str | None = None,
                opds: Iterable[str] | str | None = None,
                check: bool = False, extravars: Mapping[str, Any] | None = None,
                on_event: EventHandler | None = None, forks: int = 20,
                policy: BaselinePolicy | None = None,
                playbook_dir: Path = ANSIBLE_DIR) -> RunResult:
    """Run Ansible playbook *name* on the matching inventory hosts.

    Args:
        check: Ansible check mode (``--check --diff``): report, change nothing.
        extravars: extra variables (e.g. ``simpul_become: false``); never credentials.
        on_event: called with (host, message) for every task result as it happens.

    Raises:
        PlaybookError: unknown playbook, or no host matches the filters.
    """
    import ansible_runner

    path = playbook_path(name, playbook_dir)
    selected = _selected_hosts(db, hosts=hosts, roles=roles, sites=sites, opds=opds)
    if not selected:
        raise PlaybookError("no inventory host matches the filters",
                            errors={"hosts": ["no match"]})
    collector = _Collector(selected, on_event)
    private = Path(tempfile.mkdtemp(prefix="simpul-ansible-"))
    started = time.monotonic()
    try:
        (private / "inventory").mkdir()
        (private / "inventory" / "hosts.yml").write_text(
            yaml.safe_dump(build_inventory(db, selected), sort_keys=False))
        variables = {**policy_vars(policy or load_policy()), **(extravars or {})}
        collector.emit("*", f"ansible {name}: {len(selected)} host(s)"
                            f"{' (check mode)' if check else ''}")
        runner = ansible_runner.run(
            private_data_dir=str(private), playbook=str(path), limit=",".join(selected),
            extravars=variables, forks=forks, quiet=True, event_handler=collector,
            cmdline="--check --diff" if check else None,
            envvars={**ANSIBLE_ENV, "PATH": _path(),
                     # per run: connections are not reused across runs (and no socket
                     # is left in ~/.ansible/cp)
                     "ANSIBLE_SSH_CONTROL_PATH_DIR": str(private / "cp")},
            settings={"suppress_ansible_output": True})
        seconds = time.monotonic() - started
        collector.finish(runner.stats, seconds)
        if not runner.stats:
            tail = (runner.stdout.read() if runner.stdout else "").strip().splitlines()[-1:]
            raise PlaybookError(f"ansible {name} did not run ({runner.status}): "
                                f"{redact(tail[0]) if tail else 'no output'}")
    finally:
        shutil.rmtree(private, ignore_errors=True)
    result = RunResult(playbook=f"ansible:{name}", dry_run=check, hosts=collector.results,
                       seconds=seconds)
    collector.emit("*", f"ansible {name}: {result.status} in {seconds:.1f} s")
    return result
