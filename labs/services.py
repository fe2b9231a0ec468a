"""Per-node daemons: render their configs, start them inside the node, check readiness.

Every daemon runs in the foreground under the runner (``Popen``), inside the node's
network namespace and its own UTS namespace (so ``hostname``, syslog, SNMP sysName and
LLDP all say the node's name), and is tracked by PID. FRR's protocol daemons are
started by ``watchfrr -N NODE`` (pathspace ``/etc/frr/NODE``, ``/var/run/frr/NODE``);
their PIDs are read from their PID files once they are up.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from loguru import logger

from labs import render
from labs.errors import LabError
from labs.settings import LabSettings
from labs.state import Process
from labs.topology import Node, Topology

INSTALL_HINT = "run labs/install-deps.sh as root"
BINARIES = {
    "ip": "/usr/bin/ip",
    "bridge": "/usr/sbin/bridge",
    "unshare": "/usr/bin/unshare",
    "nft": "/usr/sbin/nft",
    "watchfrr": "/usr/lib/frr/watchfrr",
    "vtysh": "/usr/bin/vtysh",
    "sshd": "/usr/sbin/sshd",
    "ssh-keygen": "/usr/bin/ssh-keygen",
    "snmpd": "/usr/sbin/snmpd",
    "lldpd": "/usr/sbin/lldpd",
    "rsyslogd": "/usr/sbin/rsyslogd",
    "softflowd": "/usr/sbin/softflowd",
    "nginx": "/usr/sbin/nginx",
    "tinyproxy": "/usr/bin/tinyproxy",
    "python3": "/usr/bin/python3",
    "iperf3": "/usr/bin/iperf3",
    "nsenter": "/usr/bin/nsenter",
    "charon": "/usr/lib/ipsec/charon",
    "hostapd": "/usr/sbin/hostapd",
    "hostapd_cli": "/usr/sbin/hostapd_cli",
    "sudo": "/usr/bin/sudo",
}
# Roles whose node runs charon (site-to-site VPN ends) and hostapd (802.1X access).
CHARON_ROLES = ("edge", "vpn")
HOSTAPD_ROLES = ("nac-access",)
HOSTAPD_GLOBAL = "/run/hostapd/global"
MNTNS = "mntns"
FRR_RUN = Path("/var/run/frr")
FRR_ETC = Path("/etc/frr")
SAFE_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "HOME": "/root"}


def check_binaries() -> None:
    """Raise LabError naming the install script when a lab daemon is missing."""
    missing = [path for path in BINARIES.values() if not os.access(path, os.X_OK)]
    if missing:
        raise LabError(f"missing {', '.join(missing)}: {INSTALL_HINT}")
    try:
        subprocess.run([BINARIES["python3"], "-c", "import aiosmtpd"], check=True,
                       capture_output=True, timeout=20)
    except (subprocess.SubprocessError, OSError):
        raise LabError(f"python3-aiosmtpd is missing: {INSTALL_HINT}") from None


@dataclass
class Service:
    """One daemon of one node."""

    node: str
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    ready: Callable[[], bool] | None = None
    wait_for: Path | None = None


@dataclass
class NodeFiles:
    """Where one node's files live."""

    node_dir: Path
    key_dir: Path


def netns_name(settings: LabSettings, node: str) -> str:
    """Return the network namespace of *node*."""
    return f"{settings.prefix}{node}"


def in_node(settings: LabSettings, node: str, argv: list[str],
            wait_for: Path | None = None, mntns: int | None = None) -> list[str]:
    """Return *argv* wrapped to run inside *node*'s netns and its own UTS namespace.

    With *wait_for*, the command starts once that path exists (at most 20 s). With
    *mntns* (the PID holding the node's mount namespace), it runs in that namespace:
    the node's own /etc/swanctl, /etc/hostapd, /run... (see render.mount_script).
    """
    enter = f"exec {BINARIES['nsenter']} --mount=/proc/{mntns}/ns/mnt -- " if mntns else "exec "
    script = f'hostname "$0" && {enter}"$@"'
    if wait_for is not None:
        script = (f"i=0; while [ ! -e '{wait_for}' ] && [ $i -lt 200 ]; do sleep 0.1; "
                  "i=$((i+1)); done; " + script)
    return [BINARIES["ip"], "netns", "exec", netns_name(settings, node),
            BINARIES["unshare"], "--uts", "--", "/bin/sh", "-c", script, node, *argv]


def ensure_lab_user(settings: LabSettings) -> None:
    """Create the lab-only login user when missing and set its password and groups."""
    groups = [g for g in ("frrvty", "frr") if _group_exists(g)]
    try:
        pwd.getpwnam(settings.user)
    except KeyError:
        logger.info("creating lab user {}", settings.user)
        subprocess.run(["useradd", "--system", "--create-home", "--home-dir",
                        f"/var/lib/{settings.user}-lab", "--shell", "/bin/bash",
                        "--comment", "simpul lab login (lab only)", settings.user],
                       check=True, capture_output=True)
    if groups:
        subprocess.run(["usermod", "-a", "-G", ",".join(groups), settings.user],
                       check=True, capture_output=True)
    subprocess.run(["chpasswd"], input=f"{settings.user}:{settings.password}\n", text=True,
                   check=True, capture_output=True)


def _group_exists(name: str) -> bool:
    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


def ensure_host_keys(settings: LabSettings, nodes: list[Node]) -> dict[str, Path]:
    """Return each node's SSH host key directory, generating missing keys once."""
    dirs: dict[str, Path] = {}
    procs = []
    for node in nodes:
        key_dir = settings.cache_dir / "ssh" / node.name
        dirs[node.name] = key_dir
        key = key_dir / "ssh_host_ed25519_key"
        if not key.exists():
            key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            procs.append(subprocess.Popen(
                [BINARIES["ssh-keygen"], "-q", "-t", "ed25519", "-N", "", "-C",
                 f"{node.name}@simpul-lab", "-f", str(key)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for proc in procs:
        if proc.wait(timeout=30) != 0:
            raise LabError("ssh-keygen failed to create the lab host keys")
    return dirs


def prepare_node(topology: Topology, node: Node, settings: LabSettings, files: NodeFiles,
                 created: list[str]) -> list[Service]:
    """Write *node*'s configs and return its services in start order.

    Paths created outside the state directory are appended to *created*.
    """
    d = files.node_dir
    d.mkdir(parents=True, exist_ok=True)
    host = str(topology.mgmt_gateway)
    logs: dict[str, str] = {"sshd": str(d / "sshd.out")}
    services: list[Service] = []

    if node.is_router:
        services.append(_frr(topology, node, d, created))
        logs["frr"] = str(d / "frr.log")
    (d / "sshd_config").write_text(render.sshd_config(node, settings, d, files.key_dir))
    services.append(Service(node.name, "sshd",
                            [BINARIES["sshd"], "-D", "-e", "-f", str(d / "sshd_config")],
                            ready=lambda: _tcp_banner(str(node.mgmt_ipv4), 22)))
    if node.role not in ("host",):
        services.append(_snmpd(node, settings, d, host))
    if node.is_router:
        (d / "lldpd.conf").write_text("configure lldp tx-interval 5\n")
        services.append(Service(node.name, "lldpd", [
            BINARIES["lldpd"], "-d", "-x", "-X", str(d / "agentx.sock"), "-u",
            str(d / "lldpd.sock"), "-I", "eth*,!eth0", "-m", str(node.mgmt_ipv4),
            "-O", str(d / "lldpd.conf")], wait_for=d / "agentx.sock"))
        logs["lldpd"] = str(d / "lldpd.out")
    _node_etc(node, settings, d)
    if node.role in CHARON_ROLES:
        (d / "charon.log").touch()
        logs["charon"] = str(d / "charon.log")
        services.append(Service(node.name, "charon", [BINARIES["charon"]],
                                wait_for=d / "mntns.ready"))
    if node.role in HOSTAPD_ROLES:
        # Interface-less: the NAC playbook adds the access ports (global control
        # interface, usable by the lab user's group without sudo).
        group = grp.getgrgid(pwd.getpwnam(settings.user).pw_gid).gr_name
        services.append(Service(node.name, "hostapd", [
            BINARIES["hostapd"], "-d", "-t", "-g", HOSTAPD_GLOBAL, "-G", group],
            wait_for=d / "mntns.ready"))
        logs["hostapd"] = str(d / "hostapd.out")
        for port in sorted(node.access_vlans):
            # The port agent: runs the automation's port-action script (VLAN moves) on
            # hostapd's events; it waits until the port has an authenticator.
            # hostapd_cli exits while the port has none, so it is retried every second.
            agent = (f"while :; do {BINARIES['hostapd_cli']} -p /run/hostapd -i {port} -a "
                     "/etc/hostapd/simpul-nac-action >/dev/null 2>&1; sleep 1; done")
            services.append(Service(node.name, f"port-agent-{port}", ["/bin/sh", "-c", agent],
                                    wait_for=d / "mntns.ready"))
    for ifname in node.netflow_interfaces:  # softflowd watches one interface per process
        services.append(Service(node.name, f"softflowd-{ifname}", [
            BINARIES["softflowd"], "-d", "-i", ifname, "-v", "9",
            "-n", f"{host}:{settings.netflow_port}", "-p", str(d / f"softflowd-{ifname}.pid"),
            "-c", str(d / f"softflowd-{ifname}.ctl"), "-t", "maxlife=60"]))
    services += _server_services(topology, node, d, logs)

    for path in logs.values():
        Path(path).touch()
    (d / "rsyslog").mkdir(exist_ok=True)
    (d / "rsyslog.conf").write_text(render.rsyslog_conf(node, settings, host, d, logs))
    rsyslog = Service(node.name, "rsyslog", [
        BINARIES["rsyslogd"], "-n", "-f", str(d / "rsyslog.conf"), "-i",
        str(d / "rsyslogd.pid")])
    return [rsyslog, *services]


def _node_etc(node: Node, settings: LabSettings, d: Path) -> None:
    """Create the node's own /etc/swanctl, /etc/hostapd, sudoers.d, strongswan.conf, home.

    The lab user owns the directories the automation writes configs into (it writes
    files as itself; only reload commands go through sudo).
    """
    user = pwd.getpwnam(settings.user)
    etc = d / "etc"
    swanctl = etc / "swanctl"
    for sub in render.SWANCTL_DIRS:
        (swanctl / sub).mkdir(parents=True, exist_ok=True)
    (swanctl / "swanctl.conf").write_text("# simpul lab node\ninclude conf.d/*.conf\n")
    (swanctl / "private").chmod(0o700)
    (etc / "hostapd").mkdir(exist_ok=True)
    (etc / "sudoers.d").mkdir(exist_ok=True)
    rule = etc / "sudoers.d" / "simpul-lab"
    rule.write_text(render.sudoers(settings))
    rule.chmod(0o440)
    (etc / "strongswan.conf").write_text(render.strongswan_conf(d))
    (d / "home").mkdir(exist_ok=True)
    for path in (swanctl / "conf.d", etc / "hostapd", d / "home"):
        os.chown(path, user.pw_uid, user.pw_gid)
    (d / "home").chmod(0o700)


def mount_namespace_service(node: Node, settings: LabSettings, d: Path) -> Service:
    """Return the process that builds *node*'s mount namespace and holds it open."""
    run_dirs = sorted({p.relative_to("/run").parts[0]
                       for p in (settings.state_dir.resolve(), FRR_RUN.resolve())
                       if p.is_relative_to("/run")})
    home = pwd.getpwnam(settings.user).pw_dir
    (d / "mntns.sh").write_text(render.mount_script(d, home, run_dirs, d / "mntns.ready"))
    return Service(node.name, MNTNS, ["/bin/sh", str(d / "mntns.sh")],
                   ready=lambda: (d / "mntns.ready").exists())


def check_mount_targets(settings: LabSettings) -> None:
    """Raise LabError when a path bound per node is missing on the host."""
    home = pwd.getpwnam(settings.user).pw_dir
    missing = [t for t in (*render.NODE_ETC.values(), home) if not os.path.exists(t)]
    if missing:
        raise LabError(f"missing {', '.join(missing)}: {INSTALL_HINT}")


def _frr(topology: Topology, node: Node, d: Path, created: list[str]) -> Service:
    frr_dir = d / "frr"
    frr_dir.mkdir(exist_ok=True)
    (frr_dir / "frr.conf").write_text(render.frr_conf(topology, node, log_file=d / "frr.log"))
    (frr_dir / "daemons").write_text(render.frr_daemons())
    (frr_dir / "vtysh.conf").write_text(render.vtysh_conf(node))
    (d / "frr.log").touch()
    uid, gid = pwd.getpwnam("frr").pw_uid, grp.getgrnam("frr").gr_gid
    for path in (frr_dir, *frr_dir.iterdir(), d / "frr.log"):
        os.chown(path, uid, gid)
    frr_dir.chmod(0o750)
    etc = FRR_ETC / node.name
    if etc.is_symlink() or etc.exists():
        if not (etc.is_symlink() and os.readlink(etc) == str(frr_dir)):
            raise LabError(f"{etc} exists and is not the lab's: remove it or rename node "
                           f"{node.name}")
    else:
        etc.symlink_to(frr_dir)
    created.append(str(etc))
    run = FRR_RUN / node.name
    run.mkdir(parents=True, exist_ok=True)
    os.chown(run, uid, gid)
    created.append(str(run))
    return Service(node.name, "watchfrr", [
        BINARIES["watchfrr"], "-N", node.name, *render.FRR_DAEMONS],
        ready=lambda: _frr_ready(node.name))


def _frr_ready(node: str) -> bool:
    run = FRR_RUN / node
    return (run / "watchfrr.started").exists() and all(
        (run / f"{d}.pid").exists() for d in render.FRR_DAEMONS)


def frr_pids(node: str) -> list[Process]:
    """Return the FRR protocol daemons of *node*, read from their PID files."""
    found = []
    for daemon in render.FRR_DAEMONS:
        pidfile = FRR_RUN / node / f"{daemon}.pid"
        try:
            found.append(Process(node, daemon, int(pidfile.read_text().split()[0]),
                                 str(pidfile)))
        except (OSError, ValueError, IndexError):
            continue
    return found


def _snmpd(node: Node, settings: LabSettings, d: Path, trap_host: str) -> Service:
    (d / "snmp").mkdir(exist_ok=True)
    (d / "snmpd.conf").write_text(render.snmpd_conf(node, settings, d, trap_host))
    return Service(node.name, "snmpd", [
        BINARIES["snmpd"], "-f", "-Lf", str(d / "snmpd.log"), "-C", "-c",
        str(d / "snmpd.conf"), "-p", str(d / "snmpd.pid")],
        env={"SNMP_PERSISTENT_DIR": str(d / "snmp"), "MIBS": ""},
        ready=lambda: snmp_get_ok(str(node.mgmt_ipv4), settings.snmp_community))


def _server_services(topology: Topology, node: Node, d: Path,
                     logs: dict[str, str]) -> list[Service]:
    ip = str(node.mgmt_ipv4)
    if node.service == "nginx":
        nd = d / "nginx"
        nd.mkdir(exist_ok=True)
        (d / "nginx.conf").write_text(render.nginx_conf(node, d))
        logs["nginx"] = str(nd / "access.log")
        return [Service(node.name, "nginx", [
            BINARIES["nginx"], "-c", str(d / "nginx.conf"), "-p", str(nd), "-e",
            str(nd / "error.log")], ready=lambda: _tcp_open(ip, 80))]
    if node.service == "smtp":
        maildir = d / "maildir"
        maildir.mkdir(exist_ok=True)
        # -n: stay root; aiosmtpd would drop to nobody before binding port 25.
        return [Service(node.name, "smtp", [
            BINARIES["python3"], "-m", "aiosmtpd", "-n", "-l", "0.0.0.0:25", "-c",
            "aiosmtpd.handlers.Mailbox", str(maildir)], ready=lambda: _tcp_banner(ip, 25))]
    if node.service == "proxy":
        (d / "tinyproxy.conf").write_text(
            render.tinyproxy_conf(node, d, str(topology.mgmt_subnet)))
        log = d / "tinyproxy.log"
        log.touch()
        tp = pwd.getpwnam("tinyproxy")
        os.chown(log, tp.pw_uid, tp.pw_gid)
        logs["tinyproxy"] = str(log)
        return [Service(node.name, "proxy", [
            BINARIES["tinyproxy"], "-d", "-c", str(d / "tinyproxy.conf")],
            ready=lambda: _tcp_open(ip, 3128))]
    return []


def start(settings: LabSettings, service: Service, log: Path, mntns: int | None = None,
          unshare_mount: bool = False) -> Process:
    """Start *service* inside its node (in the node's mount namespace *mntns*, or as the
    creator of a new one with *unshare_mount*); return the tracked process."""
    env = {**SAFE_ENV, **service.env}
    argv = in_node(settings, service.node, service.argv, service.wait_for, mntns)
    if unshare_mount:
        at = argv.index("--uts")
        argv[at:at + 1] = ["--uts", "--mount", "--propagation", "private"]
    with open(log, "ab") as out:
        proc = subprocess.Popen(argv,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                env=env, start_new_session=True, close_fds=True)
    logger.debug("started {} on {} (pid {})", service.name, service.node, proc.pid)
    return Process(service.node, service.name, proc.pid)


# --- readiness probes -----------------------------------------------------------------


def _tcp_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _tcp_banner(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0) as sock:
            sock.settimeout(1.0)
            return bool(sock.recv(64))
    except OSError:
        return False


def _ber_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + _ber_len(len(value)) + value


def snmp_get_request(community: str, request_id: int = 1) -> bytes:
    """Return an SNMPv2c GetRequest for sysName.0 (1.3.6.1.2.1.1.5.0)."""
    oid = bytes([0x2B, 6, 1, 2, 1, 1, 5, 0])
    varbind = _tlv(0x30, _tlv(0x06, oid) + b"\x05\x00")
    pdu = _tlv(0xA0, _tlv(0x02, request_id.to_bytes(2, "big")) + _tlv(0x02, b"\x00")
               + _tlv(0x02, b"\x00") + _tlv(0x30, varbind))
    return _tlv(0x30, _tlv(0x02, b"\x01") + _tlv(0x04, community.encode()) + pdu)


def snmp_get_ok(host: str, community: str, timeout: float = 0.5) -> bool:
    """True when the SNMP agent at *host* answers a v2c GET."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.sendto(snmp_get_request(community), (host, 161))
            data = sock.recv(2048)
        except OSError:
            return False
    return data[:1] == b"\x30"


def wait_ready(checks: dict[str, Callable[[], bool]], timeout: float) -> list[str]:
    """Poll *checks* (in parallel) until all pass or *timeout* runs out.

    Returns the names of the checks still failing.
    """
    pending = dict(checks)
    deadline = time.monotonic() + timeout
    with ThreadPoolExecutor(max_workers=32) as pool:
        while pending and time.monotonic() < deadline:
            results = dict(zip(pending, pool.map(lambda f: f(), pending.values()), strict=True))
            pending = {name: pending[name] for name, ok in results.items() if not ok}
            if pending:
                time.sleep(0.2)
    return sorted(pending)


def remove_path(path: str) -> None:
    """Remove a file, symlink or directory tree the lab created; ignore absent ones."""
    p = Path(path)
    try:
        if p.is_symlink() or p.is_file():
            p.unlink()
        elif p.is_dir():
            shutil.rmtree(p)
    except OSError as exc:
        logger.warning("could not remove {}: {}", path, exc)
