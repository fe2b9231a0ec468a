"""Render node start-up configs from the topology.

Start-up configs hold addresses and management access only: no OSPF, no BGP, no
static routes between routers, no VPN, no NAC policy. Routing is the automation's job.

Two audiences: ``configs/<node>/`` beside the topology (frr.conf, daemons, vtysh.conf,
setup.sh; bound into containers by containerlab; regenerate with ``simpul lab render``)
and the namespace runner, which renders the same files plus the management daemons'
configs into the lab state directory.
"""

from __future__ import annotations

from pathlib import Path

from labs.settings import LabSettings
from labs.topology import Endpoint, Node, Topology, vlan_bridge

FRR_DAEMONS = ("zebra", "staticd", "ospfd", "bgpd")


def frr_conf(topology: Topology, node: Node, log_file: Path | None = None) -> str:
    """Return the start-up ``frr.conf`` of router *node*: hostname and addresses."""
    lines = ["frr version 8.4", "frr defaults traditional", f"hostname {node.name}"]
    lines.append(f"log file {log_file} informational" if log_file else "log syslog informational")
    lines += ["service integrated-vtysh-config", "ip forwarding", "!"]
    for ifname in topology.interfaces(node.name) + sorted(node.bridges):
        peer = topology.peer(Endpoint(node.name, ifname))
        lines.append(f"interface {ifname}")
        if peer is not None:
            lines.append(f" description to {peer}")
        elif ifname in node.bridges:
            lines.append(f" description bridge {','.join(node.bridges[ifname])}")
        if ifname in node.addresses:
            lines.append(f" ip address {node.addresses[ifname]}")
        lines += ["exit", "!"]
    for vid, addr in sorted(node.vlans.items()):
        lines += [f"interface {vlan_bridge(vid)}", f" description VLAN {vid} gateway",
                  f" ip address {addr}", "exit", "!"]
    if node.loopback is not None:
        lines += ["interface lo", f" ip address {node.loopback}", "exit", "!"]
    lines += ["line vty", "exit", "!", "end"]
    return "\n".join(lines) + "\n"


def frr_daemons() -> str:
    """Return FRR's ``daemons`` file: zebra, staticd, ospfd and bgpd, vty on loopback."""
    lines = [f"{d}=yes" for d in ("zebra", "bgpd", "ospfd", "staticd")]
    lines += ["vtysh_enable=yes", 'zebra_options="-A 127.0.0.1 -s 90000000"']
    lines += [f'{d}_options="-A 127.0.0.1"' for d in ("bgpd", "ospfd", "staticd")]
    lines += ['frr_profile="traditional"']
    return "\n".join(lines) + "\n"


def vtysh_conf(node: Node) -> str:
    """Return ``vtysh.conf``: integrated config, hostname."""
    return f"service integrated-vtysh-config\nhostname {node.name}\n"


def setup_script(topology: Topology, node: Node) -> str:
    """Return ``setup.sh``: bridges, addresses and a host's default gateway.

    Run inside the node (containerlab ``exec``; the namespace runner too). Routers get
    no routes: routing is configured by the automation.
    """
    lines = ["#!/bin/sh", f"# {node.name}: start-up addressing (rendered from the topology)",
             "set -e", "ip link set lo up"]
    for ifname in topology.interfaces(node.name):
        lines.append(f"ip link set {ifname} up")
    if node.loopback is not None:
        lines.append(f"ip addr add {node.loopback} dev lo")
    for bridge, ports in sorted(node.bridges.items()):
        lines.append(f"ip link add {bridge} type bridge")
        lines += [f"ip link set {port} master {bridge}" for port in ports]
        lines.append(f"ip link set {bridge} up")
    if node.vlans:
        # One Linux bridge per VLAN, holding the VLAN's gateway address; a port's VLAN
        # is the bridge it is enslaved to. This kernel has no 8021q and no bridge VLAN
        # filtering, so per-VLAN bridges stand in for a VLAN-aware switch: NAC moves an
        # access port with `ip link set <port> master br-vlan<id>`.
        for vid in sorted(node.vlans):
            br = vlan_bridge(vid)
            lines += [f"ip link add {br} type bridge", f"ip link set {br} up",
                      f"ip addr add {node.vlans[vid]} dev {br}"]
        for port, vid in sorted(node.access_vlans.items()):
            lines.append(f"ip link set {port} master {vlan_bridge(vid)}")
    for ifname, addr in sorted(node.addresses.items()):
        lines.append(f"ip addr add {addr} dev {ifname}")
    if node.gateway is not None:
        lines.append(f"ip route add default via {node.gateway}")
    if node.is_router:
        lines.append("sysctl -qw net.ipv4.ip_forward=1")
    if node.nat_interface:
        lines += [
            "nft -f - <<'EOF'",
            "table ip simpul_nat {",
            "  chain postrouting {",
            "    type nat hook postrouting priority srcnat; policy accept;",
            f'    oifname "{node.nat_interface}" ip saddr 10.0.0.0/8 '
            "ip daddr != 10.0.0.0/8 masquerade",
            "  }",
            "}",
            "EOF",
        ]
    return "\n".join(lines) + "\n"


def clab_files(topology: Topology, node: Node) -> dict[str, str]:
    """Return the files under ``configs/<node>/`` for containerlab, by name."""
    files = {"setup.sh": setup_script(topology, node)}
    if node.is_router:
        files.update({"frr.conf": frr_conf(topology, node), "daemons": frr_daemons(),
                      "vtysh.conf": vtysh_conf(node)})
    return files


# --- management daemons (namespace runner) -------------------------------------------


SHELL_PORT = 2222


def sshd_config(node: Node, settings: LabSettings, node_dir: Path, key_dir: Path) -> str:
    """Return the node's sshd config: its own keys, PID file and listen addresses.

    Port 22 is the node's console (vtysh on routers, bash elsewhere); port
    :data:`SHELL_PORT` is a bash login on every node, for the automation's Linux layer
    (files and reload commands), also on routers.
    """
    lines = [
        f"ListenAddress {node.mgmt_ipv4}:22",
        f"ListenAddress {node.mgmt_ipv4}:{SHELL_PORT}",
        f"HostKey {key_dir / 'ssh_host_ed25519_key'}",
        f"PidFile {node_dir / 'sshd.pid'}",
        "UsePAM no",
        "PasswordAuthentication yes",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin no",
        f"AllowUsers {settings.user}",
        "PrintMotd no",
        "PrintLastLog no",
        "UseDNS no",
        "MaxStartups 100:30:200",
        "MaxSessions 20",
        "LogLevel INFO",
        "Subsystem sftp internal-sftp",
    ]
    if node.is_router:
        # The lab user's session on port 22 is vtysh for this node: Netmiko's cisco_ios
        # driver works. The shell port keeps the user's login shell (bash).
        lines += ["Match LocalPort 22", f"    ForceCommand /usr/bin/vtysh -N {node.name}"]
    return "\n".join(lines) + "\n"


# --- the node's own mount namespace ---------------------------------------------------

# Host paths that each node sees replaced by its own copy (node dir -> target).
NODE_ETC = {"etc/swanctl": "/etc/swanctl", "etc/hostapd": "/etc/hostapd",
            "etc/sudoers.d": "/etc/sudoers.d", "etc/strongswan.conf": "/etc/strongswan.conf"}
SUDO_COMMANDS = ("/usr/sbin/swanctl", "/usr/sbin/hostapd_cli", "/usr/sbin/tc", "/usr/sbin/ip",
                 "/usr/bin/ip", "/usr/sbin/wpa_cli")


def mount_script(node_dir: Path, home: str, run_dirs: list[str], ready: Path) -> str:
    """Return the script that builds a node's mount namespace, then holds it open.

    Run under ``unshare --mount`` (private propagation): nothing here is seen by the
    host. ``/run`` becomes a private tmpfs (daemons with compiled-in paths such as
    charon's ``/run/charon.pid`` and ``/run/charon.vici`` or hostapd's ``/run/hostapd``
    get one per node), with the lab's shared run dirs (*run_dirs*: the state dir, FRR's
    sockets) bound back from the original ``/run`` through an open descriptor. The
    node's own ``/etc/swanctl``, ``/etc/hostapd``, ``/etc/sudoers.d``,
    ``/etc/strongswan.conf`` and the lab user's home are bound over the host's, so
    configs written by the automation at standard paths stay per node.
    """
    lines = ["set -e", "exec 3</run",
             "mount -t tmpfs -o mode=0755,nosuid,nodev,size=16m simpul-lab-run /run"]
    for name in run_dirs:
        lines += [f"mkdir -p /run/{name}",
                  f"mount --no-canonicalize --bind /proc/self/fd/3/{name} /run/{name}"]
    lines += ["exec 3<&-", "mkdir -p /run/sshd /run/lldpd /run/hostapd /run/lock"]
    for source, target in NODE_ETC.items():
        lines.append(f"mount --bind {node_dir / source} {target}")
    lines += [f"mount --bind {node_dir / 'home'} {home}", f"touch {ready}",
              "exec sleep infinity"]
    return "\n".join(lines) + "\n"


def sudoers(settings: LabSettings) -> str:
    """Return the node-local sudoers rule: the lab user may run the reload commands.

    Bound over ``/etc/sudoers.d`` inside the node only; the host's sudoers are untouched.
    """
    return (f"# simpul lab only: {settings.user} runs the automation's reload commands as "
            "root inside this node\n"
            f"Defaults:{settings.user} !lecture, !syslog, !use_pty\n"
            f"{settings.user} ALL=(root) NOPASSWD: {', '.join(SUDO_COMMANDS)}\n")


def strongswan_conf(node_dir: Path) -> str:
    """Return the node's strongswan.conf: userspace ESP (kernel-libipsec), own log.

    This kernel has no ESP (``CONFIG_INET_ESP``), no XFRM interfaces and no VTI, so
    charon encrypts in userspace through a TUN device ``ipsec0`` (kernel-libipsec;
    ESP travels in UDP 4500). Routes are left to FRR (``install_routes = no``): the
    tunnel is route-based, whatever is routed into ``ipsec0`` is protected.
    """
    return f"""# simpul lab node: charon in this node's mount namespace
charon {{
    load_modular = yes
    install_routes = no
    install_virtual_ip = no
    # kernel-libipsec still routes each policy into ipsec0 (table 220); consult that
    # table only after main, so FRR's routes decide (the node's own LAN stays local).
    routing_table_prio = 32800
    plugins {{
        include strongswan.d/charon/*.conf
        kernel-libipsec {{
            load = yes
        }}
    }}
    filelog {{
        lab {{
            path = {node_dir / 'charon.log'}
            time_format = %b %e %T
            default = 1
            flush_line = yes
        }}
    }}
    syslog {{
        daemon {{
            default = -1
        }}
    }}
}}
swanctl {{
    load = pem pkcs1 pkcs8 x509 revocation constraints pubkey openssl random
}}
"""


SWANCTL_DIRS = ("conf.d", "x509", "x509ca", "x509aa", "x509ocsp", "x509crl", "x509ac",
                "pubkey", "private", "rsa", "ecdsa", "bliss", "pkcs8", "pkcs12")


# IF-MIB objects, numeric: the lab's snmpd runs without MIB files (MIBS="").
_IF_INDEX, _IF_ADMIN, _IF_OPER = "1.3.6.1.2.1.2.2.1.1", "1.3.6.1.2.1.2.2.1.7", "1.3.6.1.2.1.2.2.1.8"
_IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
_LINK_DOWN, _LINK_UP = "1.3.6.1.6.3.1.1.5.3", "1.3.6.1.6.3.1.1.5.4"


def snmpd_conf(node: Node, settings: LabSettings, node_dir: Path, trap_host: str) -> str:
    """Return the node's snmpd config: v2c community, v3 authPriv user, AgentX master.

    Like a real router it also sends v2c traps to the NOC (*trap_host*, the lab gateway
    where simpul's trap receiver listens): coldStart when it starts, authenticationFailure
    on a wrong community, and linkDown/linkUp from the DisMan event monitor checking
    ifOperStatus every 5 s (net-snmp's own ``linkUpDownNotifications`` checks only every
    60 s). ``-S``: no burst of linkUp traps for the interfaces already up at start.
    """
    sys_services = 78 if node.is_router else 72
    varbinds = f"{_IF_INDEX} {_IF_ADMIN} {_IF_OPER} {_IF_NAME}"
    return "\n".join([
        f"agentAddress udp:{node.mgmt_ipv4}:161",
        "master agentx",
        f"agentXSocket unix:{node_dir / 'agentx.sock'}",
        "agentXPerms 0660 0770",
        f"rocommunity {settings.snmp_community} default",
        f'createUser {settings.snmpv3_user} SHA "{settings.snmpv3_auth}" AES '
        f'"{settings.snmpv3_priv}"',
        f"rouser {settings.snmpv3_user} priv",
        f"sysName {node.name}",
        f"sysLocation {node.site}",
        f"sysContact noc@{node.opd}.lab",
        f"sysServices {sys_services}",
        f"sysDescr simpul lab {node.role} {node.name} ({node.platform})",
        "disk / 10%",
        "load 12 10 5",
        f"trap2sink {trap_host}:{settings.trap_port} {settings.snmp_community}",
        "authtrapenable 1",
        # the event monitor reads the agent's own tables as this internal user
        "createUser simpulInternal",
        "iquerySecName simpulInternal",
        "rouser simpulInternal noauth",
        f"notificationEvent simpulLinkDown {_LINK_DOWN} {varbinds}",
        f"notificationEvent simpulLinkUp {_LINK_UP} {varbinds}",
        f'monitor -S -r 5 -e simpulLinkDown "link down" {_IF_OPER} == 2',
        f'monitor -S -r 5 -e simpulLinkUp "link up" {_IF_OPER} != 2',
        "",
    ])


def rsyslog_conf(node: Node, settings: LabSettings, host: str, node_dir: Path,
                 files: dict[str, str]) -> str:
    """Return the node's rsyslog config, forwarding everything to the SIEM listener.

    Inputs: a unix socket in the node directory (not /dev/log: the host's is left
    alone), UDP on the node's own 127.0.0.1:514, and the daemons' log files (*files*,
    tag -> path).
    """
    lines = [
        f'global(workDirectory="{node_dir / "rsyslog"}" localHostName="{node.name}" '
        'processInternalMessages="on")',
        'module(load="imuxsock" SysSock.Use="off")',
        f'input(type="imuxsock" Socket="{node_dir / "log.sock"}" CreatePath="on")',
        'module(load="imudp")',
        'input(type="imudp" address="127.0.0.1" port="514")',
        'module(load="imfile" mode="inotify")',
    ]
    for tag, path in sorted(files.items()):
        lines.append(f'input(type="imfile" File="{path}" Tag="{tag}:" Facility="daemon" '
                     'Severity="info")')
    lines += [
        f'*.* action(type="omfwd" target="{host}" port="{settings.syslog_port}" '
        'protocol="udp" template="RSYSLOG_TraditionalForwardFormat")',
        f'*.* action(type="omfile" file="{node_dir / "messages"}")',
        "",
    ]
    return "\n".join(lines)


def nginx_conf(node: Node, node_dir: Path) -> str:
    """Return a self-contained nginx config (own PID, logs and temp paths)."""
    d = node_dir / "nginx"
    return f"""daemon off;
master_process on;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    default_type text/plain;
    server {{
        listen 80 default_server;
        location / {{ return 200 "simpul lab web server {node.name}\\n"; }}
        location /health {{ return 200 "ok\\n"; }}
    }}
}}
"""


def tinyproxy_conf(node: Node, node_dir: Path, mgmt_subnet: str) -> str:
    """Return the proxy's tinyproxy config (port 3128, lab subnets allowed)."""
    return "\n".join([
        "User tinyproxy",
        "Group tinyproxy",
        "Port 3128",
        "Timeout 60",
        f"LogFile \"{node_dir / 'tinyproxy.log'}\"",
        "LogLevel Info",
        f"PidFile \"{node_dir / 'tinyproxy.pid'}\"",
        "MaxClients 50",
        "Allow 127.0.0.1",
        "Allow 10.0.0.0/8",
        f"Allow {mgmt_subnet}",
        "ViaProxyName \"simpul-lab-proxy\"",
        "",
    ])
