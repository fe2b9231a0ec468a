"""The namespace backend: the topology built from network namespaces, veths and bridges.

One netns per node (``sl-<node>``); links are veth pairs created straight into the two
namespaces with their endpoint names (eth1, eth2...); each node's ``eth0`` is a veth to
the management bridge ``sl-mgmt`` in the root namespace, which holds the management
gateway address (172.20.20.1/24) so simpul on the host reaches every node. Nothing is
routed or NATed in the root namespace.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from loguru import logger

from labs import render, services
from labs.errors import LabError
from labs.settings import LabSettings
from labs.state import LabState, Process, load_state, pid_alive, save_state
from labs.topology import Node, Topology

IP = services.BINARIES["ip"]
SHARED_RUN_DIRS = ("/run/sshd", "/run/lldpd")
ETC_NETNS = Path("/etc/netns")


def require_root() -> None:
    """Raise LabError unless running as root."""
    if os.geteuid() != 0:
        raise LabError("the namespace lab needs root (network namespaces, veths, bridges)")


def mgmt_bridge_name(settings: LabSettings) -> str:
    """Return the management bridge name (``sl-mgmt``)."""
    return f"{settings.prefix}mgmt"


def mgmt_veth_name(settings: LabSettings, lab: str, node: str) -> str:
    """Return the root-side name of *node*'s management veth (at most 15 characters)."""
    digest = hashlib.sha1(f"{lab}/{node}".encode()).hexdigest()[:8]
    return f"{settings.prefix.rstrip('-')}m{digest}"[:15]


def _mgmt_veth_re(settings: LabSettings) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(settings.prefix.rstrip('-'))}m[0-9a-f]{{8}}$")


def _run(argv: list[str], input_text: str | None = None, timeout: float = 60) -> str:
    proc = subprocess.run(argv, input=input_text, capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise LabError(f"{' '.join(argv[:4])} failed: {detail[-1] if detail else proc.returncode}")
    return proc.stdout


def list_lab_netns(settings: LabSettings) -> list[str]:
    """Return the existing network namespaces carrying the lab prefix."""
    out = subprocess.run([IP, "netns", "list"], capture_output=True, text=True).stdout
    names = [line.split()[0] for line in out.splitlines() if line.strip()]
    return sorted(n for n in names if n.startswith(settings.prefix))


def list_lab_links(settings: LabSettings) -> list[str]:
    """Return root-namespace links the lab owns (management bridge and veths)."""
    out = subprocess.run([IP, "-o", "link", "show"], capture_output=True, text=True).stdout
    pattern = _mgmt_veth_re(settings)
    found = []
    for line in out.splitlines():
        parts = line.split(":", 2)
        if len(parts) < 2:
            continue
        name = parts[1].strip().split("@")[0]
        if name == mgmt_bridge_name(settings) or pattern.match(name):
            found.append(name)
    return found


def mount_namespace_pid(state: LabState | None, node: str) -> int | None:
    """Return the PID holding *node*'s mount namespace, if it runs."""
    for proc in state.node_processes(node) if state else []:
        if proc.name == services.MNTNS and proc.alive():
            return proc.pid
    return None


class NetnsLab:
    """Build, inspect and tear down one topology as network namespaces."""

    backend = "netns"

    def __init__(self, topology: Topology | None, settings: LabSettings) -> None:
        self.topology = topology
        self.settings = settings

    # --- queries ------------------------------------------------------------------

    def state(self) -> LabState | None:
        """Return the saved lab state, if any."""
        return load_state(self.settings.state_dir)

    def healthy(self, state: LabState | None = None) -> bool:
        """True when the saved lab is ready and every tracked process runs."""
        state = state or self.state()
        if state is None or state.phase != "ready":
            return False
        present = set(list_lab_netns(self.settings))
        return set(state.netns) <= present and all(p.alive() for p in state.processes)

    def node_state(self, state: LabState | None, node: str) -> str:
        """Return running, partial or stopped for *node*."""
        procs = state.node_processes(node) if state else []
        alive = sum(1 for p in procs if p.alive())
        if procs and alive == len(procs):
            return "running"
        return "partial" if alive else "stopped"

    def status(self) -> list[dict[str, Any]]:
        """Return one entry per node: name, kind, role, mgmt address, state, credentials."""
        topology = self._need_topology()
        state = self.state()
        creds = self.settings.credentials()
        rows = []
        for node in topology.nodes.values():
            procs = state.node_processes(node.name) if state else []
            rows.append({
                "name": node.name, "kind": node.kind, "role": node.role,
                "platform": node.platform, "site": node.site, "opd": node.opd,
                "mgmt_ipv4": str(node.mgmt_ipv4),
                "state": self.node_state(state, node.name),
                "services": sorted({p.name for p in procs}),
                "netns": services.netns_name(self.settings, node.name),
                "credentials": {**creds, "ssh_shell": "vtysh" if node.is_router else "bash",
                                "shell_port": render.SHELL_PORT},
            })
        return rows

    # --- up -----------------------------------------------------------------------

    def up(self) -> tuple[LabState, bool]:
        """Build the lab; return (state, already_up). Idempotent.

        A half-built or unhealthy lab is torn down first; a failure (or an interrupt)
        while building tears everything down again before the error is raised.
        """
        require_root()
        topology = self._need_topology()
        services.check_binaries()
        existing = self.state()
        if existing is not None and self.healthy(existing):
            return existing, True
        if existing is not None or list_lab_netns(self.settings) or \
                list_lab_links(self.settings):
            logger.info("removing a previous, incomplete lab first")
            self.down()

        state = LabState(
            lab=topology.name, topology=str(topology.path), started=time.time(),
            netns=[services.netns_name(self.settings, n) for n in topology.nodes],
            bridges=[mgmt_bridge_name(self.settings)],
            veths=[mgmt_veth_name(self.settings, topology.name, n) for n in topology.nodes],
        )
        save_state(self.settings.state_dir, state)
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
        try:
            self._build(topology, state)
        except BaseException as exc:
            logger.error("lab up failed ({}); tearing down", exc)
            try:
                self.down()
            except Exception as cleanup_exc:
                logger.error("teardown after failure also failed: {}", cleanup_exc)
            if isinstance(exc, LabError):
                raise LabError(f"lab up failed: {exc} (everything it built was removed)") \
                    from exc
            if isinstance(exc, Exception):
                raise LabError(f"lab up failed: {exc!r} (everything it built was removed)") \
                    from exc
            raise
        finally:
            signal.signal(signal.SIGTERM, previous)
        return state, False

    def _build(self, topology: Topology, state: LabState) -> None:
        settings = self.settings
        t0 = time.monotonic()
        nodes = list(topology.nodes.values())
        for path in SHARED_RUN_DIRS:
            if not os.path.isdir(path):
                os.makedirs(path, mode=0o755)
                state.paths.append(path)
        services.ensure_lab_user(settings)
        services.check_mount_targets(settings)
        key_dirs = services.ensure_host_keys(settings, nodes)
        save_state(settings.state_dir, state)

        self._write_etc(topology, state)
        _run([IP, "-batch", "-"], input_text=self._root_batch(topology))
        logger.debug("namespaces and links created in {:.1f}s", time.monotonic() - t0)
        self._setup_nodes(topology)
        logger.debug("nodes addressed in {:.1f}s", time.monotonic() - t0)

        all_services: list[services.Service] = []
        for node in nodes:
            node_dir = settings.state_dir / "nodes" / node.name
            all_services += services.prepare_node(
                topology, node, settings, services.NodeFiles(node_dir, key_dirs[node.name]),
                state.paths)
        save_state(settings.state_dir, state)
        # Each node's mount namespace first (its own /run, /etc/swanctl, ...): every
        # other daemon of the node enters it.
        mntns: dict[str, int] = {}
        holders = [services.mount_namespace_service(
            node, settings, settings.state_dir / "nodes" / node.name) for node in nodes]
        for holder in holders:
            log = settings.state_dir / "nodes" / holder.node / f"{holder.name}.out"
            proc = services.start(settings, holder, log, unshare_mount=True)
            state.processes.append(proc)
            mntns[holder.node] = proc.pid
        save_state(settings.state_dir, state)
        # rsyslog first everywhere, so daemons' first messages are caught. Each waits
        # (inside its start script) until its node's mount namespace is built.
        ordered = sorted(all_services, key=lambda s: s.name != "rsyslog")
        for service in ordered:
            log = settings.state_dir / "nodes" / service.node / f"{service.name}.out"
            if service.wait_for is None:
                service.wait_for = settings.state_dir / "nodes" / service.node / "mntns.ready"
            state.processes.append(services.start(settings, service, log,
                                                  mntns=mntns[service.node]))
        save_state(settings.state_dir, state)

        checks = {f"{s.node}:{s.name}": s.ready for s in [*holders, *all_services] if s.ready}
        failing = services.wait_ready(checks, settings.ready_timeout)
        dead = [f"{p.node}:{p.name}" for p in state.processes if not p.alive()]
        if failing or dead:
            names = sorted(set(failing + dead))
            raise LabError(f"not ready after {settings.ready_timeout:.0f}s: "
                           + "; ".join(f"{n} ({self._last_log_line(n)})" for n in names[:5])
                           + (f" and {len(names) - 5} more" if len(names) > 5 else ""))
        for node in nodes:
            if node.is_router:
                state.processes += services.frr_pids(node.name)
        state.phase = "ready"
        state.ready_seconds = round(time.monotonic() - t0, 1)
        save_state(settings.state_dir, state)

    def _write_etc(self, topology: Topology, state: LabState) -> None:
        """Give every node its own /etc/hosts and an empty resolv.conf.

        ``ip netns exec`` bind-mounts /etc/netns/<ns>/* over /etc/*: lab nodes resolve
        each other's names locally and never try the host's DNS servers.
        """
        hosts = ["127.0.0.1 localhost", f"{topology.mgmt_gateway} simpul-host"]
        hosts += [f"{n.mgmt_ipv4} {n.name}" for n in topology.nodes.values()]
        for node in topology.nodes:
            etc = ETC_NETNS / services.netns_name(self.settings, node)
            etc.mkdir(parents=True, exist_ok=True)
            state.paths.append(str(etc))
            (etc / "hosts").write_text("\n".join(hosts) + "\n")
            (etc / "resolv.conf").write_text("# simpul lab: no DNS inside the lab\n")
        save_state(self.settings.state_dir, state)

    def _last_log_line(self, name: str) -> str:
        node, _, service = name.partition(":")
        log = self.settings.state_dir / "nodes" / node / f"{service}.out"
        try:
            lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
        except OSError:
            return "no log"
        return lines[-1][-160:] if lines else "no output"

    def _root_batch(self, topology: Topology) -> str:
        s = self.settings
        bridge = mgmt_bridge_name(s)
        prefixlen = topology.mgmt_subnet.prefixlen
        lines = [f"netns add {services.netns_name(s, n)}" for n in topology.nodes]
        lines += [f"link add {bridge} type bridge",
                  f"addr add {topology.mgmt_gateway}/{prefixlen} dev {bridge}",
                  f"link set {bridge} up"]
        for name in topology.nodes:
            veth = mgmt_veth_name(s, topology.name, name)
            lines += [f"link add {veth} type veth peer name eth0 netns "
                      f"{services.netns_name(s, name)}",
                      f"link set {veth} master {bridge}", f"link set {veth} up"]
        for link in topology.links:
            lines.append(
                f"link add name {link.a.interface} netns {services.netns_name(s, link.a.node)} "
                f"type veth peer name {link.b.interface} netns "
                f"{services.netns_name(s, link.b.node)}")
        return "\n".join(lines) + "\n"

    def _setup_nodes(self, topology: Topology) -> None:
        s = self.settings
        procs: list[tuple[Node, subprocess.Popen[str]]] = []
        for node in topology.nodes.values():
            node_dir = s.state_dir / "nodes" / node.name
            node_dir.mkdir(parents=True, exist_ok=True)
            script = render.setup_script(topology, node).replace(
                "set -e\n",
                f"set -e\nip addr add {node.mgmt_ipv4}/{topology.mgmt_subnet.prefixlen} "
                "dev eth0\nip link set eth0 up\n", 1)
            (node_dir / "setup.sh").write_text(script)
            procs.append((node, subprocess.Popen(
                [IP, "netns", "exec", services.netns_name(s, node.name), "/bin/sh",
                 str(node_dir / "setup.sh")], stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True)))
        errors = []
        for node, proc in procs:
            out, _ = proc.communicate(timeout=60)
            if proc.returncode != 0:
                errors.append(f"{node.name}: {out.strip().splitlines()[-1:] or proc.returncode}")
        if errors:
            raise LabError(f"node setup failed: {'; '.join(errors)}")

    # --- down ---------------------------------------------------------------------

    def down(self) -> dict[str, int]:
        """Stop every lab process and remove every namespace, link, bridge and file.

        Works without a state file (by the lab prefix), e.g. after an interrupted up.
        Returns counts of what was removed.
        """
        require_root()
        s = self.settings
        state = self.state()
        namespaces = sorted(set(list_lab_netns(s)) | set(state.netns if state else []))
        killed = self._kill_all(state, namespaces)

        present = set(list_lab_netns(s))
        batch = [f"netns del {ns}" for ns in namespaces if ns in present]
        links = list_lab_links(s)
        batch += [f"link del {name}" for name in links]
        if batch:
            subprocess.run([IP, "-force", "-batch", "-"], input="\n".join(batch) + "\n",
                           capture_output=True, text=True)
        paths = list(state.paths) if state else []
        paths += self._stray_paths()
        for path in reversed(paths):
            services.remove_path(path)
        services.remove_path(str(s.state_dir))
        with contextlib.suppress(OSError):
            ETC_NETNS.rmdir()  # only when empty: other tools may keep entries there
        left = list_lab_netns(s) + list_lab_links(s)
        if left:
            raise LabError(f"lab down left {', '.join(left)} behind")
        return {"processes": killed, "netns": len(namespaces), "links": len(links)}

    def _kill_all(self, state: LabState | None, namespaces: list[str]) -> int:
        """SIGTERM then SIGKILL every tracked process and every process in the netns."""
        killed: set[int] = set()
        for _round in range(3):
            pids = {p.pid for p in (state.processes if state else []) if p.alive()}
            for ns in namespaces:
                out = subprocess.run([IP, "netns", "pids", ns], capture_output=True,
                                     text=True).stdout
                pids |= {int(x) for x in out.split() if x.isdigit()}
            pids.discard(os.getpid())
            pids = {p for p in pids if pid_alive(p)}
            if not pids:
                break
            # watchfrr first, hard: it would restart the daemons we stop.
            for pid in pids:
                if _comm(pid) == "watchfrr":
                    _signal(pid, signal.SIGKILL)
            for pid in pids:
                _signal(pid, signal.SIGTERM)
            deadline = time.monotonic() + 3.0
            while time.monotonic() < deadline and any(pid_alive(p) for p in pids):
                time.sleep(0.05)
            for pid in pids:
                if pid_alive(pid):
                    _signal(pid, signal.SIGKILL)
            killed |= pids
        return len(killed)

    def _stray_paths(self) -> list[str]:
        """Return lab paths outside the state dir when there is no state file.

        FRR pathspace links into the state dir (and their run dirs), and /etc/netns
        entries carrying the lab prefix.
        """
        found = []
        if ETC_NETNS.is_dir():
            found += [str(e) for e in ETC_NETNS.iterdir()
                      if e.name.startswith(self.settings.prefix)]
        state_dir = str(self.settings.state_dir)
        if services.FRR_ETC.is_dir():
            for entry in services.FRR_ETC.iterdir():
                if entry.is_symlink() and os.readlink(entry).startswith(state_dir):
                    found.append(str(entry))
                    run = services.FRR_RUN / entry.name
                    if run.is_dir():
                        found.append(str(run))
        return found

    # --- exec, traffic ------------------------------------------------------------

    def _need_topology(self) -> Topology:
        if self.topology is None:
            raise LabError("no topology given")
        return self.topology

    def require_up(self) -> LabState:
        """Return the state of a lab that is up, or raise LabError."""
        state = self.state()
        if state is None or state.phase != "ready":
            raise LabError("the lab is not up: run `simpul lab up` first")
        return state

    def exec_argv(self, node: str, argv: list[str]) -> list[str]:
        """Return the command line running *argv* inside *node* (its netns and its
        mount namespace, so /etc/swanctl, /run/charon.vici... are the node's)."""
        state = self.require_up()
        self._need_topology().node(node)
        return services.in_node(self.settings, node, argv, mntns=mount_namespace_pid(state, node))

    def traffic(self, src: str, dst: str, seconds: float) -> dict[str, Any]:
        """Run iperf3 from *src* to *dst* (server in dst, client in src); return rates."""
        topology = self._need_topology()
        self.require_up()
        src_node, dst_node = topology.node(src), topology.node(dst)
        target = data_address(dst_node)
        if target is None:
            raise LabError(f"node {dst} has no data-plane address")
        log = self.settings.state_dir / "nodes" / dst / "iperf3-server.out"
        server = subprocess.Popen(
            services.in_node(self.settings, dst_node.name,
                             [services.BINARIES["iperf3"], "-s", "-1", "-B", target]),
            stdout=open(log, "ab"), stderr=subprocess.STDOUT,  # noqa: SIM115
            start_new_session=True)
        try:
            result = None
            for _attempt in range(20):
                proc = subprocess.run(
                    services.in_node(self.settings, src_node.name, [
                        services.BINARIES["iperf3"], "-c", target, "-t", str(seconds), "-J",
                        "--connect-timeout", "1000"]),
                    capture_output=True, text=True, timeout=seconds + 30)
                result = _iperf_json(proc.stdout)
                if proc.returncode == 0 and result and "error" not in result:
                    break
                if result and "error" in result and "refused" not in result["error"]:
                    raise LabError(f"iperf3 {src} -> {dst} ({target}): {result['error']}")
                time.sleep(0.2)
            if not result or "error" in result:
                raise LabError(f"iperf3 {src} -> {dst} ({target}) did not run")
        finally:
            if server.poll() is None:
                server.terminate()
                try:
                    server.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    server.kill()
        end = result["end"]
        return {
            "src": src, "dst": dst, "target": target, "seconds": seconds,
            "sent_bps": end["sum_sent"]["bits_per_second"],
            "received_bps": end["sum_received"]["bits_per_second"],
            "retransmits": end["sum_sent"].get("retransmits"),
        }


def data_address(node: Node) -> str | None:
    """Return the address other nodes use to reach *node* (loopback first)."""
    if node.loopback is not None and node.is_router:
        return str(node.loopback.ip)
    for _ifname, addr in sorted(node.addresses.items()):
        return str(addr.ip)
    return None


def _iperf_json(text: str) -> dict[str, Any] | None:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:
        logger.warning("no permission to signal pid {}", pid)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


__all__ = ["NetnsLab", "Process", "data_address", "list_lab_links", "list_lab_netns",
           "mgmt_bridge_name", "mgmt_veth_name", "require_root"]
