"""Compliance audit against the security baseline: rules, evidence, HTML/JSON report."""

from __future__ import annotations

from playbooks.audit.policy import BaselinePolicy, load_policy
from playbooks.audit.report import AuditReport, DeviceAudit, write_report
from playbooks.audit.rules import RULES, RuleResult, check_config
from playbooks.audit.service import audit_device, run_audit

__all__ = ["RULES", "AuditReport", "BaselinePolicy", "DeviceAudit", "RuleResult",
           "audit_device", "check_config", "load_policy", "run_audit", "write_report"]
