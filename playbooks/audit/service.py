"""``run_audit``: check every device against the security baseline and write the report."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from loguru import logger
from nornir.core import Nornir

from playbooks.audit.collect import CONFIG_LAYER, Evidence, collect
from playbooks.audit.policy import BaselinePolicy, load_policy
from playbooks.audit.report import AuditReport, DeviceAudit, write_report
from playbooks.audit.rules import check_config
from simpul.context import AppContext


def remediation_for(policy: BaselinePolicy, name: str, role: str = ""):  # type: ignore[no-untyped-def]
    """Return a (layer, rule) → config function rendering from the baseline templates."""
    from playbooks.baseline import render_baseline

    safe = policy.without_secrets()

    def render(layer: str, rule_id: str) -> str:
        return render_baseline(layer, safe, name=name, role=role, only=[rule_id]).strip() + "\n"

    return render


def audit_device(evidence: Evidence, policy: BaselinePolicy, *, role: str = "",
                 site: str = "", opd: str = "") -> DeviceAudit:
    """Return the audit of one device from its collected evidence."""
    kind = CONFIG_LAYER.get(evidence.platform, evidence.platform)
    audit = DeviceAudit(evidence.name, evidence.platform, role, site, opd or "",
                        error="; ".join(evidence.errors) if not evidence.layers else "")
    if evidence.layers:
        audit.results = check_config(kind, evidence.layers, policy, name=evidence.name,
                                     role=role,
                                     remediation=remediation_for(policy, evidence.name, role))
        if evidence.errors:  # one layer collected, another not: say so on the device
            audit.error = "; ".join(evidence.errors)
    return audit


def default_out_dir(app: AppContext, now: datetime) -> Path:
    return Path(app.settings.data_dir) / "audit" / now.strftime("%Y%m%dT%H%M%SZ")


def run_audit(app: AppContext, *, nr: Nornir | None = None,
              policy: BaselinePolicy | None = None, out_dir: Path | None = None,
              hosts: Iterable[str] | str | None = None,
              roles: Iterable[str] | str | None = None,
              sites: Iterable[str] | str | None = None,
              opds: Iterable[str] | str | None = None,
              timeout: float = 60.0) -> tuple[AuditReport, dict[str, Path]]:
    """Audit every (filtered) device; write ``audit.json`` and ``audit.html``.

    Returns:
        The report and the paths of the files written.
    """
    from inventory.nornir import init_nornir

    policy = policy or load_policy()
    if nr is None:
        nr = init_nornir(app.db, hosts=hosts, roles=roles, sites=sites, opds=opds)
    now = datetime.now(UTC)
    evidence = collect(nr, timeout=timeout)
    report = AuditReport(generated=now, policy=policy)
    for name in sorted(evidence):
        data = nr.inventory.hosts[name].data
        report.devices.append(audit_device(
            evidence[name], policy, role=str(data.get("role") or ""),
            site=str(data.get("site") or ""), opd=str(data.get("opd") or "")))
    paths = write_report(report, out_dir or default_out_dir(app, now))
    summary = report.summary()
    logger.bind(task="audit").info("audit: {} devices, {} passed, {} failed, {} errors → {}",
                                   summary["devices"], summary["passed"], summary["failed"],
                                   summary["errors"], paths["html"])
    return report, paths
