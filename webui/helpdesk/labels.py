"""UI labels of types, states, actions and priorities: English msgids, Indonesian catalog.

Lazy strings, so one table serves every request in its own language; the machine values
(``penambahan_ip``, ``analysis``, ``approve``) never change with the language.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext

TYPE_LABELS: dict[str, Any] = {
    "permintaan": lazy_gettext("General request"),
    "pengaduan": lazy_gettext("Complaint"),
    "penambahan_ip": lazy_gettext("IP address request"),
    "titik_koneksi": lazy_gettext("New connection point"),
    "kegiatan_insidentil": lazy_gettext("Network for a one-off event"),
    "penitipan_server": lazy_gettext("Server colocation"),
    "penitipan_aplikasi": lazy_gettext("Application hosting"),
    "gangguan_aplikasi": lazy_gettext("Application incident"),
    "domain": lazy_gettext("Domain / sub-domain request"),
    "pse": lazy_gettext("Electronic-system registration"),
}

STATE_LABELS: dict[str, Any] = {
    "submitted": lazy_gettext("Submitted"),
    "at_it_support": lazy_gettext("With IT Support"),
    "survey": lazy_gettext("Site survey"),
    "analysis": lazy_gettext("Infrastructure analysis"),
    "installation": lazy_gettext("Installation"),
    "fixing": lazy_gettext("Connectivity fix"),
    "configuration": lazy_gettext("IP configuration"),
    "onsite_check": lazy_gettext("On-site check"),
    "review": lazy_gettext("Technical review"),
    "awaiting_approval": lazy_gettext("Awaiting leadership approval"),
    "setup": lazy_gettext("Server set-up (2 × 24 h)"),
    "placement": lazy_gettext("Placement in the data center"),
    "testing": lazy_gettext("Application test"),
    "ip_assignment": lazy_gettext("IP assignment"),
    "it_check": lazy_gettext("IT Support check"),
    "dc_check": lazy_gettext("Data center check"),
    "network_fix": lazy_gettext("Network fix"),
    "returned": lazy_gettext("Returned to Help Desk"),
    "declined": lazy_gettext("Declined, requester to be told"),
    "resolved": lazy_gettext("Awaiting requester confirmation"),
    "closed": lazy_gettext("Closed"),
    "rejected": lazy_gettext("Rejected"),
}

ACTION_LABELS: dict[str, Any] = {
    "issue": lazy_gettext("Issue work order"),
    "reject": lazy_gettext("Reject"),
    "resolve": lazy_gettext("Resolve directly"),
    "complete": lazy_gettext("Complete and return the WO"),
    "request_confirmation": lazy_gettext("Ask the requester to confirm"),
    "rework": lazy_gettext("Send back for rework"),
    "confirm": lazy_gettext("Confirm resolution"),
    "reopen": lazy_gettext("Reopen"),
    "close_unconfirmed": lazy_gettext("Close without confirmation"),
    "notify_rejection": lazy_gettext("Tell the requester of the rejection"),
    "recommend": lazy_gettext("Issue recommendation"),
    "approve": lazy_gettext("Approve"),
    "revise": lazy_gettext("Ask for a new survey"),
    "report_fault": lazy_gettext("Report a connection fault"),
    "fixed": lazy_gettext("Fix done"),
    "configure": lazy_gettext("Configure addresses"),
    "report_mismatch": lazy_gettext("Report a mismatch"),
    "record_checks": lazy_gettext("Record the SOP checks"),
    "return_for_recheck": lazy_gettext("Return for a re-check"),
    "send_reminder": lazy_gettext("Send a set-up reminder"),
    "setup_done": lazy_gettext("Set-up done"),
    "install": lazy_gettext("Install in the rack"),
    "deploy": lazy_gettext("Deploy the application"),
    "assign_ip": lazy_gettext("Assign an IP address"),
    "escalate_dc": lazy_gettext("Forward to the data center"),
    "refer_developer": lazy_gettext("Refer to the developer"),
    "classify_application": lazy_gettext("Classify: application fault"),
    "classify_network": lazy_gettext("Classify: network fault"),
    # timeline lines that are not transitions
    "create": lazy_gettext("Filed"),
    "comment": lazy_gettext("Comment"),
    "assign": lazy_gettext("Assigned"),
    "escalate": lazy_gettext("Escalated"),
    "pause": lazy_gettext("SLA paused"),
    "resume": lazy_gettext("SLA resumed"),
    "letter": lazy_gettext("Letter recorded"),
    "attach": lazy_gettext("File attached"),
    "release": lazy_gettext("Reservation released"),
}

PRIORITY_LABELS: dict[str, Any] = {
    "low": lazy_gettext("Low"),
    "normal": lazy_gettext("Normal"),
    "high": lazy_gettext("High"),
    "critical": lazy_gettext("Critical"),
}

ROLE_LABELS: dict[str, Any] = {
    "requester": lazy_gettext("Requester (OPD)"),
    "helpdesk": lazy_gettext("Help Desk"),
    "it_support": lazy_gettext("IT Support"),
    "infrastructure": lazy_gettext("Infrastructure"),
    "datacenter": lazy_gettext("Data Center"),
    "leadership": lazy_gettext("Leadership (Pimpinan)"),
}


def label(table: dict[str, Any], key: str | None) -> str:
    """Return the label of *key* in the current language, or the key itself."""
    if key is None:
        return ""
    value = table.get(key)
    return str(value) if value is not None else key
