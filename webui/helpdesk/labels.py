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
    "pendaftaran_perangkat": lazy_gettext("Network device registration (NAC)"),
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


# Every field a form asks for and every fact a transition records, by its machine name.
FIELD_LABELS: dict[str, Any] = {
    "comment": lazy_gettext("Comment"),
    "reason": lazy_gettext("Reason"),
    "location": lazy_gettext("Location"),
    "equipment": lazy_gettext("Equipment needed"),
    "server": lazy_gettext("Server"),
    "security_notes": lazy_gettext("Security notes"),
    "ip_count": lazy_gettext("Number of IP addresses"),
    "ip_kind": lazy_gettext("Address kind (local/public)"),
    "points": lazy_gettext("Number of connection points"),
    "participants": lazy_gettext("Participants"),
    "devices_per_participant": lazy_gettext("Devices per participant"),
    "addresses_needed": lazy_gettext("Addresses needed"),
    "prefix_length": lazy_gettext("Prefix length"),
    "prefix_id": lazy_gettext("Prefix (ID) to allocate from"),
    "public_prefix_id": lazy_gettext("Public prefix (ID)"),
    "parent_prefix_id": lazy_gettext("Parent prefix (ID) to reserve in"),
    "u_height": lazy_gettext("Height (U)"),
    "power_w": lazy_gettext("Power draw (W)"),
    "wall_outlet": lazy_gettext("Free wall outlet / patch port"),
    "server_condition": lazy_gettext("Server in good condition"),
    "software_legal": lazy_gettext("Software licensed (legal)"),
    "app_complete": lazy_gettext("Application complete"),
    "security_scan": lazy_gettext("Security scan result"),
    "event_name": lazy_gettext("Event name"),
    "event_end": lazy_gettext("Event ends at"),
    "app_name": lazy_gettext("Application name"),
    "url": lazy_gettext("Address (URL)"),
    "kind": lazy_gettext("Kind"),
    "name": lazy_gettext("Name"),
    "suffix": lazy_gettext("Suffix (when the name is taken)"),
    "fqdn": lazy_gettext("Domain name"),
    "site_id": lazy_gettext("Site (ID) of the new points"),
    "location_id": lazy_gettext("Location (ID) in the site"),
    "mac": lazy_gettext("MAC address"),
    "device_type": lazy_gettext("Device type"),
    "purpose": lazy_gettext("Purpose"),
    "owner": lazy_gettext("Owner"),
    "nac_role": lazy_gettext("Network role"),
    "expires_at": lazy_gettext("Expires at"),
    "expected_version": lazy_gettext("Version seen"),
    # facts the transitions add
    "allocations": lazy_gettext("Allocated addresses"),
    "local": lazy_gettext("Local"),
    "public": lazy_gettext("Public"),
    "app": lazy_gettext("Application"),
    "reservation": lazy_gettext("Reserved range"),
    "prefix": lazy_gettext("Prefix"),
    "checks": lazy_gettext("SOP checks"),
    "rack_available": lazy_gettext("Rack space available"),
    "power_available": lazy_gettext("Power headroom available"),
    "candidate": lazy_gettext("Proposed place"),
    "rack": lazy_gettext("Rack"),
    "rack_id": lazy_gettext("Rack (ID)"),
    "position": lazy_gettext("Lowest unit"),
    "power_headroom_w": lazy_gettext("Power headroom (W)"),
    "rack_reservation": lazy_gettext("Rack reservation"),
    "units": lazy_gettext("Units"),
    "outlet": lazy_gettext("Wall outlet / patch port"),
    "outlets": lazy_gettext("New connection points"),
    "free_outlets": lazy_gettext("Free wall outlets / patch ports"),
    "ip_request": lazy_gettext("IP request opened"),
    "colocation": lazy_gettext("For colocation"),
    "setup_due_at": lazy_gettext("Set-up due"),
    "reminders_sent": lazy_gettext("Reminders sent"),
    "registered": lazy_gettext("Registered"),
    "classification": lazy_gettext("Classification"),
    "device_id": lazy_gettext("Registered device (ID)"),
    "vlan": lazy_gettext("VLAN"),
    "id": lazy_gettext("ID"),
}


def label(table: dict[str, Any], key: str | None) -> str:
    """Return the label of *key* in the current language, or the key itself."""
    if key is None:
        return ""
    value = table.get(key)
    return str(value) if value is not None else key
