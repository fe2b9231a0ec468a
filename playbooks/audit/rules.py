"""The security-baseline rules and their checks per configuration layer.

A check reads one layer's evidence (a running config, or a Linux bundle of sshd,
snmpd, rsyslog, NTP, nftables, banner and listening sockets) and returns ``None`` when
the rule holds, else what is wrong. A rule without a check for a device's layer is
"n/a" (e.g. password encryption on Junos, which stores only hashes); a rule whose layer
was not collected is "not-checked" — never silently "pass".
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass

from playbooks.audit.parse import blocks, bundle_sections, directives, first, has, lines
from playbooks.audit.policy import BaselinePolicy

PASS, FAIL, NA, NOT_CHECKED = "pass", "fail", "n/a", "not-checked"


@dataclass(frozen=True)
class Rule:
    """One baseline requirement."""

    id: str
    title: str
    requirement: str  # where it comes from (REQUIREMENTS.md security baseline item)


RULES = (
    Rule("SB-SERVICES", "Unneeded services off", "Security baseline 1: only needed ports"),
    Rule("SB-SSH-PORT", "SSH on a non-standard port", "Security baseline 2"),
    Rule("SB-MGMT-ACL", "Management only from the management subnet",
         "Security baseline 3: remote maintenance only from the management VLAN"),
    Rule("SB-SNMPV3", "SNMPv3 only (no communities)", "Security baseline 6: monitoring"),
    Rule("SB-SYSLOG", "Syslog to the SIEM", "Security baseline 6: real-time monitoring"),
    Rule("SB-NTP", "NTP time source", "Audit practice: log timestamps must agree"),
    Rule("SB-BANNER", "Login banner", "Audit practice: authorised-use warning"),
    Rule("SB-PASSWORD-ENC", "Passwords stored encrypted", "Audit practice"),
    Rule("SB-IDLE-TIMEOUT", "Idle sessions time out", "Audit practice"),
    Rule("SB-ROOT-LOGIN", "No direct root login over SSH", "Audit practice"),
)
RULE_BY_ID = {r.id: r for r in RULES}


@dataclass(frozen=True)
class RuleResult:
    """The outcome of one rule on one device."""

    rule_id: str
    title: str
    status: str
    detail: str = ""
    layer: str = ""
    remediation: str = ""


Check = Callable[[str, BaselinePolicy, str], "str | None"]


def _acl_sources_ok(sources: list[str], policy: BaselinePolicy, name: str) -> str | None:
    if not sources:
        return f"access list {name} permits nothing (or is missing)"
    outside = [s for s in sources if not policy.in_mgmt(s)]
    if outside:
        return f"access list {name} permits {', '.join(outside)} outside the management subnet"
    return None


def _wildcard_prefix(address: str, wildcard: str | None) -> str:
    if address in ("any",):
        return "0.0.0.0/0"
    if wildcard is None:
        return f"{address}/32"
    try:
        mask = ipaddress.IPv4Address(int(ipaddress.IPv4Address(wildcard)) ^ 0xFFFFFFFF)
        return str(ipaddress.ip_network(f"{address}/{mask}", strict=False))
    except ValueError:
        return address


# --- Cisco IOS ------------------------------------------------------------------------

def _ios_acl_sources(text: str, name: str) -> list[str]:
    sources = []
    for child in blocks(text, rf"^ip access-list standard {re.escape(name)}$"):
        for line in child:
            m = re.match(r"^(?:\d+ )?permit (?:host )?(\S+)(?: (\S+))?", line)
            if m:
                sources.append(_wildcard_prefix(m.group(1), m.group(2)))
    for m in re.finditer(rf"^access-list {re.escape(name)} permit (?:host )?(\S+)(?: (\S+))?",
                         text, re.M):
        sources.append(_wildcard_prefix(m.group(1), m.group(2)))
    return sources


def ios_services(text: str, p: BaselinePolicy, _n: str) -> str | None:
    bad = [m.group(0) for m in re.finditer(
        r"^(ip http server|ip http secure-server|service (?:tcp|udp)-small-servers|"
        r"ip bootp server|service pad)$", text, re.M)]
    vty = blocks(text, r"^line vty ")
    if any(re.match(r"transport input .*(telnet|all)", ln) for b in vty for ln in b):
        bad.append("telnet on vty lines")
    return f"enabled: {', '.join(bad)}" if bad else None


def ios_ssh_port(text: str, p: BaselinePolicy, _n: str) -> str | None:
    m = has(text, r"^ip ssh port (\d+)")
    if not m:
        return "SSH listens on the standard port 22 (no 'ip ssh port')"
    return "SSH port is 22" if m.group(1) == "22" else None


def ios_mgmt_acl(text: str, p: BaselinePolicy, _n: str) -> str | None:
    vty = blocks(text, r"^line vty ")
    if not vty:
        return "no vty lines configured"
    for block in vty:
        acl = next((re.match(r"access-class (\S+) in", ln) for ln in block
                    if ln.startswith("access-class ")), None)
        if not acl:
            return "vty lines have no access-class"
        problem = _acl_sources_ok(_ios_acl_sources(text, acl.group(1)), p, acl.group(1))
        if problem:
            return problem
    return None


def ios_snmp(text: str, p: BaselinePolicy, _n: str) -> str | None:
    if has(text, r"^snmp-server community "):
        return "SNMP community configured (v1/v2c)"
    if not has(text, r"^snmp-server group \S+ v3 priv"):
        return "no SNMPv3 authPriv group"
    return None


def ios_syslog(text: str, p: BaselinePolicy, _n: str) -> str | None:
    host = re.escape(p.syslog_host)
    if has(text, rf"^logging (?:host )?{host}\b"):
        return None
    return f"no 'logging host {p.syslog_host}'"


def ntp_servers_line(prefix: str) -> Check:
    def check(text: str, p: BaselinePolicy, _n: str) -> str | None:
        return None if has(text, rf"^{prefix}\S+") else "no NTP server configured"
    return check


def banner(pattern: str) -> Check:
    def check(text: str, p: BaselinePolicy, _n: str) -> str | None:
        return None if has(text, pattern) else "no login banner"
    return check


def ios_password_enc(text: str, p: BaselinePolicy, _n: str) -> str | None:
    return None if has(text, r"^service password-encryption$") else \
        "'service password-encryption' is off"


def _vty_timeout(blocks_: list[list[str]], p: BaselinePolicy, default_min: int) -> str | None:
    if not blocks_:
        blocks_ = [[]]
    for block in blocks_:
        m = next((re.match(r"exec-timeout (\d+)(?: (\d+))?", ln) for ln in block
                  if ln.startswith("exec-timeout")), None)
        seconds = default_min * 60 if m is None else int(m.group(1)) * 60 + int(m.group(2) or 0)
        if seconds == 0:
            return "vty sessions never time out (exec-timeout 0)"
        if seconds > p.idle_minutes * 60:
            return (f"vty idle timeout {seconds // 60} min"
                    f"{' (default)' if m is None else ''} exceeds {p.idle_minutes} min")
    return None


def ios_idle(text: str, p: BaselinePolicy, _n: str) -> str | None:
    return _vty_timeout(blocks(text, r"^line vty "), p, 10)


# --- FRR (vtysh side) ------------------------------------------------------------------

def frr_mgmt_acl(text: str, p: BaselinePolicy, _n: str) -> str | None:
    vty = blocks(text, r"^line vty$")
    acl = next((re.match(r"access-class (\S+)$", ln) for b in vty for ln in b
                if ln.startswith("access-class ")), None)
    if not acl:
        return "vty has no access-class"
    name = re.escape(acl.group(1))
    sources = [m.group(1) for m in re.finditer(
        rf"^access-list {name}(?: seq \d+)? permit (\S+)", text, re.M)]
    sources = ["0.0.0.0/0" if s == "any" else s for s in sources]
    return _acl_sources_ok(sources, p, acl.group(1))


def frr_idle(text: str, p: BaselinePolicy, _n: str) -> str | None:
    return _vty_timeout(blocks(text, r"^line vty$"), p, 10)


# --- Arista EOS -------------------------------------------------------------------------

def eos_services(text: str, p: BaselinePolicy, _n: str) -> str | None:
    bad = []
    for block in blocks(text, r"^management telnet$"):
        if "shutdown" not in block:
            bad.append("telnet")
    for block in blocks(text, r"^management api http-commands$"):
        if "protocol http" in block:
            bad.append("eAPI over plain HTTP")
    return f"enabled: {', '.join(bad)}" if bad else None


def _eos_ssh(text: str) -> list[str]:
    return [ln for b in blocks(text, r"^management ssh$") for ln in b]


def eos_ssh_port(text: str, p: BaselinePolicy, _n: str) -> str | None:
    m = next((re.match(r"server-port (\d+)", ln) for ln in _eos_ssh(text)
              if ln.startswith("server-port")), None)
    if not m or m.group(1) == "22":
        return "SSH listens on the standard port 22"
    return None


def eos_mgmt_acl(text: str, p: BaselinePolicy, _n: str) -> str | None:
    acl = next((re.match(r"ip access-group (\S+) in", ln) for ln in _eos_ssh(text)
                if ln.startswith("ip access-group")), None)
    if not acl:
        return "management ssh has no ip access-group"
    sources = []
    for block in blocks(text, rf"^ip access-list {re.escape(acl.group(1))}$"):
        for line in block:
            m = re.match(r"^(?:\d+ )?permit \S+ (?:host )?(\S+)", line)
            if m:
                sources.append("0.0.0.0/0" if m.group(1) == "any" else m.group(1))
    return _acl_sources_ok(sources, p, acl.group(1))


def eos_password(text: str, p: BaselinePolicy, _n: str) -> str | None:
    if has(text, r"^username \S+ .*(?:secret 0 |nopassword)"):
        return "a local user has a clear-text or empty password"
    return None


def eos_idle(text: str, p: BaselinePolicy, _n: str) -> str | None:
    m = next((re.match(r"idle-timeout (\d+)", ln) for ln in _eos_ssh(text)
              if ln.startswith("idle-timeout")), None)
    if not m or int(m.group(1)) == 0:
        return "SSH sessions never time out"
    if int(m.group(1)) > p.idle_minutes:
        return f"SSH idle timeout {m.group(1)} min exceeds {p.idle_minutes} min"
    return None


# --- Junos (set style) -----------------------------------------------------------------

def junos_services(text: str, p: BaselinePolicy, _n: str) -> str | None:
    bad = sorted({m.group(1) for m in re.finditer(
        r"^set system services (telnet|ftp|finger|web-management http)\b", text, re.M)})
    return f"enabled: {', '.join(bad)}" if bad else None


def junos_ssh_port(text: str, p: BaselinePolicy, _n: str) -> str | None:
    m = has(text, r"^set system services ssh port (\d+)")
    if not m or m.group(1) == "22":
        return "SSH listens on the standard port 22"
    return None


def junos_mgmt_acl(text: str, p: BaselinePolicy, _n: str) -> str | None:
    m = has(text, r"^set interfaces lo0 unit 0 family inet filter input (\S+)")
    if not m:
        return "no input filter on lo0 (the routing engine accepts management from anywhere)"
    name = re.escape(m.group(1))
    sources = [x.group(1) for x in re.finditer(
        rf"^set firewall family inet filter {name} term \S+ from source-address (\S+)",
        text, re.M)]
    for lst in re.finditer(rf"^set firewall family inet filter {name} term \S+ from "
                           r"source-prefix-list (\S+)", text, re.M):
        sources += [x.group(1) for x in re.finditer(
            rf"^set policy-options prefix-list {re.escape(lst.group(1))} (\S+)", text, re.M)]
    return _acl_sources_ok(sources, p, m.group(1))


def junos_snmp(text: str, p: BaselinePolicy, _n: str) -> str | None:
    if has(text, r"^set snmp community "):
        return "SNMP community configured (v1/v2c)"
    if not has(text, r"^set snmp v3 usm local-engine user \S+ privacy-"):
        return "no SNMPv3 user with privacy"
    return None


def junos_syslog(text: str, p: BaselinePolicy, _n: str) -> str | None:
    return None if has(text, rf"^set system syslog host {re.escape(p.syslog_host)} ") else \
        f"no 'syslog host {p.syslog_host}'"


def junos_idle(text: str, p: BaselinePolicy, _n: str) -> str | None:
    m = has(text, r"idle-timeout (\d+)")
    if not m:
        return "login sessions never time out (no idle-timeout)"
    return None if 0 < int(m.group(1)) <= p.idle_minutes else \
        f"idle timeout {m.group(1)} min exceeds {p.idle_minutes} min"


# --- MikroTik RouterOS (/export terse) ------------------------------------------------

def _ros_service(text: str, name: str) -> str:
    found = [m.group(0) for m in re.finditer(
        rf"^/ip service set (?:{name}|\[ find name={name} \]) .*$", text, re.M)]
    return " ".join(found)


def ros_services(text: str, p: BaselinePolicy, _n: str) -> str | None:
    bad = [s for s in ("telnet", "ftp", "www", "api")
           if "disabled=yes" not in _ros_service(text, s)]
    return f"enabled: {', '.join(bad)}" if bad else None


def ros_ssh_port(text: str, p: BaselinePolicy, _n: str) -> str | None:
    m = re.search(r"\bport=(\d+)", _ros_service(text, "ssh"))
    return None if m and m.group(1) != "22" else "SSH listens on the standard port 22"


def ros_mgmt_acl(text: str, p: BaselinePolicy, _n: str) -> str | None:
    m = re.search(r"\baddress=(\S+)", _ros_service(text, "ssh"))
    if not m:
        return "ssh service accepts any address"
    return _acl_sources_ok(m.group(1).split(","), p, "ssh address")


def ros_snmp(text: str, p: BaselinePolicy, _n: str) -> str | None:
    if not has(text, r"^/snmp community set \[ find default=yes \] .*disabled=yes"):
        return "default community 'public' is enabled"
    if not has(text, r"^/snmp community add .*security=private"):
        return "no SNMPv3 authPriv community"
    return None


def ros_syslog(text: str, p: BaselinePolicy, _n: str) -> str | None:
    return None if has(text, rf"target=remote.*remote={re.escape(p.syslog_host)}\b") or \
        has(text, rf"remote={re.escape(p.syslog_host)}\b.*target=remote") else \
        f"no remote logging action to {p.syslog_host}"


# --- Linux system layer ----------------------------------------------------------------

def _section(text: str, name: str) -> str:
    return bundle_sections(text).get(name, "")


def _sshd(text: str) -> list[tuple[str, str]]:
    return directives(_section(text, "sshd"))


_LISTEN = re.compile(r"^(?:\[([^\]]+)\]|([^:\s]+)):(\d+)$")


def _listen(values: list[tuple[str, str]]) -> list[tuple[str, int | None]]:
    """Return (address, port or None) of every ListenAddress."""
    found = []
    for k, v in values:
        if k == "listenaddress":
            v = v.split()[0]
            m = _LISTEN.match(v)
            found.append((m.group(1) or m.group(2), int(m.group(3))) if m else (v, None))
    return found


def _sshd_ports(values: list[tuple[str, str]]) -> set[int]:
    default = {int(v) for k, v in values if k == "port" and v.isdigit()} or {22}
    listen = _listen(values)
    if not listen:
        return default
    ports: set[int] = set()
    for _address, port in listen:
        ports |= {port} if port is not None else default
    return ports


def linux_ssh_port(text: str, p: BaselinePolicy, _n: str) -> str | None:
    ports = _sshd_ports(_sshd(text))
    return "sshd listens on the standard port 22" if 22 in ports else None


def linux_root(text: str, p: BaselinePolicy, _n: str) -> str | None:
    value = (first(_sshd(text), "permitrootlogin") or "prohibit-password").lower()
    return None if value == "no" else f"PermitRootLogin is {value}"


def linux_idle(text: str, p: BaselinePolicy, _n: str) -> str | None:
    value = first(_sshd(text), "clientaliveinterval") or "0"
    seconds = int(value) if value.isdigit() else 0
    if seconds == 0:
        return "idle SSH sessions never time out (ClientAliveInterval 0)"
    return None if seconds <= p.idle_minutes * 60 else \
        f"ClientAliveInterval {seconds}s exceeds {p.idle_minutes * 60}s"


def linux_banner(text: str, p: BaselinePolicy, _n: str) -> str | None:
    value = first(_sshd(text), "banner")
    if not value or value.lower() == "none":
        return "sshd shows no banner"
    return None if _section(text, "banner").strip() else f"banner file {value} is empty"


def linux_mgmt_acl(text: str, p: BaselinePolicy, _n: str) -> str | None:
    values = _sshd(text)
    ssh_ports = _sshd_ports(values)
    listen = [address for address, _port in _listen(values)]
    if listen and all(p.in_mgmt(a) for a in listen):
        return None  # sshd is only reachable on the management network
    allow = [v for k, v in values if k == "allowusers"]
    patterns = " ".join(allow).split()
    if patterns and all("@" in x and p.in_mgmt(x.split("@", 1)[1]) for x in patterns):
        return None
    rules = _section(text, "nftables")
    if re.search(r"hook input .*policy drop", rules):
        for m in re.finditer(r"ip6? saddr (\S+) tcp dport (\d+) accept", rules):
            if p.in_mgmt(m.group(1)) and int(m.group(2)) in ssh_ports:
                return None
    return "SSH is reachable from outside the management subnet (no firewall rule, " \
           "ListenAddress or AllowUsers restriction)"


def linux_snmp(text: str, p: BaselinePolicy, _n: str) -> str | None:
    conf = _section(text, "snmpd")
    active = [ln for ln in lines(conf) if not ln.lstrip().startswith("#")]
    bad = [ln.split()[0] for ln in active
           if re.match(r"\s*(rocommunity6?|rwcommunity6?|com2sec)\b", ln)]
    if bad:
        return f"snmpd has v1/v2c communities ({', '.join(sorted(set(bad)))})"
    return None


def linux_syslog(text: str, p: BaselinePolicy, _n: str) -> str | None:
    conf = _section(text, "rsyslog")
    host = re.escape(p.syslog_host)
    if re.search(rf"^[^#\n]*(@@?\[?{host}\]?(:\d+)?\b|target=\"{host}\")", conf, re.M):
        return None
    return f"logs are not forwarded to the SIEM at {p.syslog_host}"


def linux_ntp(text: str, p: BaselinePolicy, _n: str) -> str | None:
    conf = _section(text, "ntp")
    return None if re.search(r"^\s*(server|pool)\s+\S+|^\s*NTP=\S+", conf, re.M) else \
        "no NTP server configured"


def linux_services(text: str, p: BaselinePolicy, name: str) -> str | None:
    sections = bundle_sections(text)
    if "listening" not in sections:
        return None
    allowed = {("tcp", port) for port in _sshd_ports(directives(sections.get("sshd", "")))}
    allowed |= {("udp", 161)} | {(x.proto, x.number) for x in p.ports_for(name)}
    extra = set()
    for line in lines(sections["listening"]):
        parts = line.split()
        if len(parts) < 5:
            continue
        proto, local = parts[0], parts[4]
        address, _, port = local.rpartition(":")
        address = address.strip("[]").split("%")[0]
        try:
            if ipaddress.ip_address(address).is_loopback:
                continue
        except ValueError:
            pass
        if port.isdigit() and (proto, int(port)) not in allowed:
            extra.add(f"{proto}/{port}")
    return f"unneeded listening ports: {', '.join(sorted(extra))}" if extra else None


# --- the table -------------------------------------------------------------------------

CHECKS: dict[str, dict[str, Check]] = {
    "ios": {"SB-SERVICES": ios_services, "SB-SSH-PORT": ios_ssh_port,
            "SB-MGMT-ACL": ios_mgmt_acl, "SB-SNMPV3": ios_snmp, "SB-SYSLOG": ios_syslog,
            "SB-NTP": ntp_servers_line("ntp server "),
            "SB-BANNER": banner(r"^banner (login|motd) "),
            "SB-PASSWORD-ENC": ios_password_enc, "SB-IDLE-TIMEOUT": ios_idle},
    "eos": {"SB-SERVICES": eos_services, "SB-SSH-PORT": eos_ssh_port,
            "SB-MGMT-ACL": eos_mgmt_acl, "SB-SNMPV3": ios_snmp, "SB-SYSLOG": ios_syslog,
            "SB-NTP": ntp_servers_line("ntp server "),
            "SB-BANNER": banner(r"^banner (login|motd)$"),
            "SB-PASSWORD-ENC": eos_password, "SB-IDLE-TIMEOUT": eos_idle},
    "junos": {"SB-SERVICES": junos_services, "SB-SSH-PORT": junos_ssh_port,
              "SB-MGMT-ACL": junos_mgmt_acl, "SB-SNMPV3": junos_snmp, "SB-SYSLOG": junos_syslog,
              "SB-NTP": ntp_servers_line("set system ntp server "),
              "SB-BANNER": banner(r"^set system login message "), "SB-IDLE-TIMEOUT": junos_idle},
    "ros": {"SB-SERVICES": ros_services, "SB-SSH-PORT": ros_ssh_port,
            "SB-MGMT-ACL": ros_mgmt_acl, "SB-SNMPV3": ros_snmp, "SB-SYSLOG": ros_syslog,
            "SB-NTP": ntp_servers_line("/system ntp client set enabled=yes servers="),
            "SB-BANNER": banner(r"^/system note set .*show-at-login=yes")},
    "frr": {"SB-PASSWORD-ENC": ios_password_enc, "SB-MGMT-ACL": frr_mgmt_acl,
            "SB-IDLE-TIMEOUT": frr_idle},
    "linux": {"SB-SERVICES": linux_services, "SB-SSH-PORT": linux_ssh_port,
              "SB-MGMT-ACL": linux_mgmt_acl, "SB-SNMPV3": linux_snmp, "SB-SYSLOG": linux_syslog,
              "SB-NTP": linux_ntp, "SB-BANNER": linux_banner, "SB-IDLE-TIMEOUT": linux_idle,
              "SB-ROOT-LOGIN": linux_root},
}
# Layers whose checks cover a device of each layer set: FRR boxes are FRR + Linux.
DEVICE_LAYERS = {"frr": ("frr", "linux"), "linux": ("linux",), "ios": ("ios",),
                 "eos": ("eos",), "junos": ("junos",), "ros": ("ros",)}


def check_config(kind: str, evidence: dict[str, str], policy: BaselinePolicy, *,
                 name: str = "", role: str = "",
                 remediation: Callable[[str, str], str] | None = None) -> list[RuleResult]:
    """Check one device of baseline layer *kind* against every rule.

    Args:
        evidence: layer → collected text (running config, or a Linux bundle).
        remediation: (layer, rule id) → the config that fixes a failed rule.
    """
    results = []
    layers = DEVICE_LAYERS.get(kind, (kind,))
    for rule in RULES:
        layer = next((lay for lay in layers if rule.id in CHECKS.get(lay, {})), None)
        if layer is None:
            results.append(RuleResult(rule.id, rule.title, NA,
                                      "not applicable to this platform"))
            continue
        if layer not in evidence:
            results.append(RuleResult(rule.id, rule.title, NOT_CHECKED,
                                      f"{layer} layer not collected", layer))
            continue
        problem = CHECKS[layer][rule.id](evidence[layer], policy, name)
        if problem is None:
            results.append(RuleResult(rule.id, rule.title, PASS, "", layer))
        else:
            fix = remediation(layer, rule.id) if remediation else ""
            results.append(RuleResult(rule.id, rule.title, FAIL, problem, layer, fix))
    return results
