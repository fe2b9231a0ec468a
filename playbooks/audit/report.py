"""The audit report: per device and rule, as JSON (machines) and HTML (auditors).

Remediation in the report is rendered with placeholder SNMP keys: a report is handed
around, so it never carries a secret.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from playbooks.audit.policy import BaselinePolicy
from playbooks.audit.rules import FAIL, NOT_CHECKED, PASS, RULES, RuleResult

TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass
class DeviceAudit:
    """The audit of one device."""

    name: str
    platform: str
    role: str = ""
    site: str = ""
    opd: str = ""
    error: str = ""
    results: list[RuleResult] = field(default_factory=list)

    @property
    def failures(self) -> list[RuleResult]:
        return [r for r in self.results if r.status == FAIL]

    @property
    def passed(self) -> bool:
        return not self.error and not self.failures

    @property
    def score(self) -> str:
        checked = [r for r in self.results if r.status in (PASS, FAIL)]
        return f"{sum(r.status == PASS for r in checked)}/{len(checked)}"

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "platform": self.platform, "role": self.role,
                "site": self.site, "opd": self.opd, "error": self.error,
                "passed": self.passed, "score": self.score,
                "rules": [asdict(r) for r in self.results]}


@dataclass
class AuditReport:
    """Every device's audit, with the policy it was checked against."""

    generated: datetime
    policy: BaselinePolicy
    devices: list[DeviceAudit] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(d.passed for d in self.devices)

    def summary(self) -> dict[str, object]:
        return {
            "generated": self.generated.isoformat(), "devices": len(self.devices),
            "passed": sum(d.passed for d in self.devices),
            "failed": sum(bool(d.failures) for d in self.devices),
            "errors": sum(bool(d.error) for d in self.devices),
            "not_checked": sum(r.status == NOT_CHECKED for d in self.devices for r in d.results),
            "by_rule": {rule.id: sum(r.status == FAIL and r.rule_id == rule.id
                                     for d in self.devices for r in d.results)
                        for rule in RULES},
        }

    def policy_dict(self) -> dict[str, object]:
        p = self.policy
        return {"ssh_port": p.ssh_port, "mgmt_subnets": list(p.mgmt_subnets),
                "syslog": f"{p.syslog_host}:{p.syslog_port}", "ntp_servers": list(p.ntp_servers),
                "snmp_user": p.snmp_user, "idle_minutes": p.idle_minutes}

    def as_dict(self) -> dict[str, object]:
        return {"summary": self.summary(), "policy": self.policy_dict(),
                "rules": [asdict(r) for r in RULES],
                "devices": [d.as_dict() for d in self.devices]}


def render_html(report: AuditReport) -> str:
    """Return the report as one self-contained HTML page."""
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True,
                      lstrip_blocks=True)
    return env.get_template("report.html.j2").render(
        report=report, summary=report.summary(), policy=report.policy_dict(), rules=RULES)


def write_report(report: AuditReport, out_dir: Path) -> dict[str, Path]:
    """Write ``audit.json`` and ``audit.html`` into *out_dir*; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "audit.json", "html": out_dir / "audit.html"}
    for kind, text in (("json", json.dumps(report.as_dict(), indent=2) + "\n"),
                       ("html", render_html(report))):
        tmp = paths[kind].with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, paths[kind])
    return paths
