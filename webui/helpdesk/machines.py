"""One state machine per work-order type, following Lampiran IV of Perbup Sidoarjo 46/2018.

Every type starts at ``submitted`` (Help Desk logs it) and ends through the same tail:
the WO is returned to Help Desk, the requester confirms (or reopens within the window),
closed. A rejection after work started goes to ``declined`` so Help Desk tells the
requester the reason before the WO ends in ``rejected`` (SOP: "disampaikan kepada pemohon
alasannya").
"""

from __future__ import annotations

from webui.helpdesk.labels import STATE_LABELS, TYPE_LABELS
from webui.helpdesk.workflows import (
    DATACENTER,
    HELPDESK,
    INFRASTRUCTURE,
    IT_SUPPORT,
    LEADERSHIP,
    REQUESTER,
    State,
    Transition,
    Workflow,
    tr,
)

HD, ITS, INF, DC, PIM, REQ = HELPDESK, IT_SUPPORT, INFRASTRUCTURE, DATACENTER, LEADERSHIP, REQUESTER
LETTER = ("letter_unless_vvip",)


def _states(**holders: str) -> dict[str, State]:
    """The shared states plus the type's own working states (name=holder role)."""
    states = {
        "submitted": State("submitted", STATE_LABELS["submitted"], HD),
        "returned": State("returned", STATE_LABELS["returned"], HD),
        "declined": State("declined", STATE_LABELS["declined"], HD),
        "resolved": State("resolved", STATE_LABELS["resolved"], REQ, waits_on_requester=True),
        "closed": State("closed", STATE_LABELS["closed"], None, final=True),
        "rejected": State("rejected", STATE_LABELS["rejected"], None, final=True),
    }
    for name, holder in holders.items():
        states[name] = State(name, STATE_LABELS[name], holder)
    return states


def _tail(first_desk: str) -> list[Transition]:
    """Help Desk's side: reject at intake, tell a rejection, confirm with the user, close."""
    return [
        *tr("reject", "submitted", "rejected", HD, requires=["reason"]),
        *tr("notify_rejection", "declined", "rejected", HD),
        *tr("request_confirmation", "returned", "resolved", HD),
        *tr("rework", "returned", first_desk, HD, requires=["comment"]),
        *tr("confirm", "resolved", "closed", REQ),
        *tr("reopen", "resolved", "returned", REQ, requires=["reason"],
            guards=["within_reopen_window"]),
        *tr("close_unconfirmed", "resolved", "closed", HD, guards=["reopen_window_passed"]),
    ]


def _machine(type_: str, states: dict[str, State], transitions: list[Transition],
             approval_gate: str | None = None) -> Workflow:
    # Types where nobody rejects after intake have no "declined" step: drop it.
    if not any(t.target == "declined" for t in transitions):
        states.pop("declined")
        transitions = [t for t in transitions if t.source != "declined"]
    return Workflow(type_, TYPE_LABELS[type_], states, tuple(transitions),
                    approval_gate=approval_gate)


# 2.1.1 Pengajuan permintaan: VVIP handled by Help Desk directly, Umum need a letter.
PERMINTAAN = _machine("permintaan", _states(at_it_support=ITS), [
    *tr("issue", "submitted", "at_it_support", HD, guards=LETTER),
    *tr("resolve", "submitted", "resolved", HD, requires=["comment"], guards=["vvip_only"]),
    *tr("complete", "at_it_support", "returned", ITS, requires=["comment"]),
    *_tail("at_it_support"),
])

# 2.1.2 Pengaduan (walk-in, phone, web): Help Desk may resolve it at once.
PENGADUAN = _machine("pengaduan", _states(at_it_support=ITS), [
    *tr("issue", "submitted", "at_it_support", HD),
    *tr("resolve", "submitted", "resolved", HD, requires=["comment"]),
    *tr("complete", "at_it_support", "returned", ITS, requires=["comment"]),
    *_tail("at_it_support"),
])


def _survey_machine(type_: str, recommend: list[str], approve: list[str],
                    approve_optional: tuple[str, ...] = ()) -> Workflow:
    """2.2.1/2.2.2: survey -> recommendation -> Infrastruktur -> install -> verify."""
    return _machine(type_, _states(survey=ITS, analysis=INF, installation=ITS, fixing=INF), [
        *tr("issue", "submitted", "survey", HD, guards=LETTER),
        *tr("recommend", "survey", "analysis", ITS, requires=recommend),
        *tr("approve", "analysis", "installation", INF, requires=approve,
            optional=approve_optional),
        *tr("revise", "analysis", "survey", INF, requires=["comment"]),
        *tr("reject", "analysis", "declined", INF, requires=["reason"]),
        *tr("report_fault", "installation", "fixing", ITS, requires=["comment"]),
        *tr("fixed", "fixing", "installation", INF),
        *tr("complete", "installation", "returned", ITS, requires=["comment"]),
        *_tail("installation"),
    ])


PENAMBAHAN_IP = _survey_machine("penambahan_ip", ["location", "ip_count"], ["prefix_id"],
                               ("public_prefix_id",))
# Infrastruktur decides where the points go; installing them adds the patch ports.
TITIK_KONEKSI = _survey_machine("titik_koneksi", ["location", "points", "equipment"],
                                ["site_id"], ("location_id",))

# 2.2.3 Intranet/internet for a one-off event: participants -> addresses -> reservation.
KEGIATAN_INSIDENTIL = _machine(
    "kegiatan_insidentil", _states(survey=ITS, configuration=INF, onsite_check=ITS), [
        *tr("issue", "submitted", "survey", HD, guards=LETTER),
        *tr("recommend", "survey", "configuration", ITS,
            requires=["location", "participants", "event_end"]),
        *tr("configure", "configuration", "onsite_check", INF, requires=["parent_prefix_id"]),
        *tr("reject", "configuration", "declined", INF, requires=["reason"]),
        *tr("report_mismatch", "onsite_check", "configuration", ITS, requires=["comment"]),
        *tr("complete", "onsite_check", "returned", ITS, requires=["comment"]),
        *_tail("onsite_check"),
    ])

# 1.1.1 Penitipan server (colocation): checks -> Pimpinan -> 2x24h set-up (3 reminders).
PENITIPAN_SERVER = _machine(
    "penitipan_server", _states(review=DC, awaiting_approval=PIM, setup=DC, placement=DC), [
        *tr("issue", "submitted", "review", HD, guards=LETTER),
        *tr("record_checks", "review", "awaiting_approval", DC,
            requires=["u_height", "server_condition", "software_legal"]),
        *tr("approve", "awaiting_approval", "setup", PIM, guards=["checks_pass"]),
        *tr("reject", "awaiting_approval", "declined", PIM, requires=["reason"]),
        *tr("return_for_recheck", "awaiting_approval", "review", PIM, requires=["comment"]),
        *tr("send_reminder", "setup", "setup", DC, guards=["reminder_due"]),
        *tr("setup_done", "setup", "placement", DC),
        *tr("install", "placement", "returned", DC, requires=["comment"]),
        *_tail("placement"),
    ], approval_gate="awaiting_approval")

# 1.1.1 Penitipan aplikasi (hosting): legality, completeness, holes -> Pimpinan -> test -> IP.
PENITIPAN_APLIKASI = _machine(
    "penitipan_aplikasi",
    _states(review=DC, awaiting_approval=PIM, testing=DC, ip_assignment=INF), [
        *tr("issue", "submitted", "review", HD, guards=LETTER),
        *tr("record_checks", "review", "awaiting_approval", DC,
            requires=["software_legal", "app_complete", "security_scan"]),
        *tr("approve", "awaiting_approval", "testing", PIM, guards=["checks_pass"]),
        *tr("reject", "awaiting_approval", "declined", PIM, requires=["reason"]),
        *tr("return_for_recheck", "awaiting_approval", "review", PIM, requires=["comment"]),
        *tr("deploy", "testing", "ip_assignment", DC, requires=["server"]),
        *tr("assign_ip", "ip_assignment", "returned", INF, requires=["prefix_id"]),
        *_tail("testing"),
    ], approval_gate="awaiting_approval")

# 1.1.2 / 1.2.1 Gangguan aplikasi: IT Support -> Data Center -> aplikasi vs network.
GANGGUAN_APLIKASI = _machine(
    "gangguan_aplikasi", _states(it_check=ITS, dc_check=DC, network_fix=INF), [
        *tr("issue", "submitted", "it_check", HD),
        *tr("resolve", "submitted", "resolved", HD, requires=["comment"]),
        *tr("complete", "it_check", "returned", ITS, requires=["comment"]),
        *tr("escalate_dc", "it_check", "dc_check", ITS, requires=["comment"]),
        *tr("refer_developer", "it_check", "returned", ITS, requires=["comment"]),
        *tr("classify_application", "dc_check", "returned", DC, requires=["comment"]),
        *tr("classify_network", "dc_check", "network_fix", DC, requires=["comment"]),
        *tr("fixed", "network_fix", "returned", INF, requires=["comment"]),
        *_tail("it_check"),
    ])

# Lampiran V: domain names; Infrastruktur checks the name and registers it.
DOMAIN = _machine("domain", _states(review=INF), [
    *tr("issue", "submitted", "review", HD, guards=LETTER),
    *tr("approve", "review", "returned", INF),
    *tr("reject", "review", "declined", INF, requires=["reason"]),
    *_tail("review"),
])

# Lampiran II: pendaftaran sistem elektronik, reviewed by the data center.
PSE = _machine("pse", _states(review=DC), [
    *tr("issue", "submitted", "review", HD, guards=LETTER),
    *tr("approve", "review", "returned", DC),
    *tr("reject", "review", "declined", DC, requires=["reason"]),
    *_tail("review"),
])

# NAC: an OPD asks for a device to be let onto the network; IT Support or Infrastruktur
# approves, and only then is it in the register (active), so nothing joins unreviewed.
PENDAFTARAN_PERANGKAT = _machine("pendaftaran_perangkat", _states(review=ITS), [
    *tr("issue", "submitted", "review", HD, guards=LETTER),
    *tr("approve", "review", "returned", ITS, INF),
    *tr("reject", "review", "declined", ITS, INF, requires=["reason"]),
    *_tail("review"),
])

WORKFLOWS: dict[str, Workflow] = {w.type: w for w in (
    PERMINTAAN, PENGADUAN, PENAMBAHAN_IP, TITIK_KONEKSI, KEGIATAN_INSIDENTIL,
    PENITIPAN_SERVER, PENITIPAN_APLIKASI, GANGGUAN_APLIKASI, DOMAIN, PSE,
    PENDAFTARAN_PERANGKAT)}
TYPES = tuple(WORKFLOWS)


def get_workflow(type_: str) -> Workflow | None:
    """Return the machine of *type_*, or None for an unknown type."""
    return WORKFLOWS.get(type_)
