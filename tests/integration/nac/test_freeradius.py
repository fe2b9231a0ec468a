"""Real FreeRADIUS: ``simpul up`` starts it with the generated config; a NAS is radclient.

One ``simpul up`` per module (session-scoped cost: ~3 s) on free loopback ports, with a
migrated SQLite database seeded beforehand. Every process started here is stopped by PID.
"""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from nac.accounting import list_sessions, recent_decisions
from nac.register import create_device, get_device
from nac.rules import set_site_policy
from simpul import migrate
from simpul.audit import Actor
from simpul.context import AppContext
from simpul.db import Database
from simpul.models.base import utcnow
from simpul.settings import load_settings
from simpul.users import set_password
from tests.envs import QUIET_LISTENERS
from tests.integration.nac.conftest import seed
from tests.integration.nac.radius import (
    RadiusClient,
    Reply,
    free_tcp_port,
    free_udp_port,
    mab,
    radclient,
)

REPO = Path(__file__).resolve().parents[3]
SIMPUL = str(Path(sys.executable).parent / "simpul")
SECRET = "radius-test-secret"
ACTIVE, PRINTER, BLOCKED = "02:00:5e:00:53:01", "02:00:5e:00:53:02", "02:00:5e:00:53:03"
EXPIRED, PENDING, UNKNOWN = "02:00:5e:00:53:04", "02:00:5e:00:53:05", "02:00:5e:00:53:99"
DOT1X_ONLY = "02:00:5e:00:53:06"
USER_PASSWORD = "rina-radius-pass-1"

pytestmark = pytest.mark.skipif(
    shutil.which("radclient") is None or not Path("/usr/sbin/freeradius").exists(),
    reason="FreeRADIUS is not installed (labs/install-deps.sh installs it)")


@pytest.fixture(scope="session", autouse=True)
def _rest_module() -> None:
    """rlm_rest is a separate Debian package; install it once when running as root."""
    if Path("/usr/lib/freeradius/rlm_rest.so").exists():
        return
    if os.geteuid() != 0:
        pytest.skip("freeradius-rest is not installed and we are not root to install it")
    subprocess.run(["apt-get", "install", "-y", "-q", "freeradius-rest", "eapoltest"],
                   check=True, capture_output=True, timeout=600)


@dataclass
class Stack:
    """The running ``simpul up`` with FreeRADIUS, and how to reach both."""

    app: AppContext
    auth_port: int
    acct_port: int
    web_port: int
    proc: subprocess.Popen[str]
    output: list[str]

    def log(self) -> str:
        return "".join(self.output)


def _seed_devices(app: AppContext) -> None:
    seed(app)
    actor = Actor.system("test")
    with app.db.session() as s:
        create_device(s, actor, ACTIVE, opd="DINKES", owner="Rina")
        create_device(s, actor, PRINTER, opd="DINKES", device_type="printer")
        create_device(s, actor, BLOCKED, opd="DINKES", status="blocked")
        create_device(s, actor, EXPIRED, opd="DINKES", expires_at=utcnow() - timedelta(hours=1))
        create_device(s, actor, PENDING, opd="DINKES", status="pending")
        create_device(s, actor, DOT1X_ONLY, opd="DINKES", auth_method="dot1x")
        set_password(s, actor, "rina", USER_PASSWORD)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("nacradius")
    url = f"sqlite:///{root / 'simpul.db'}"
    settings = load_settings(env={}, data_dir=str(root / "data"), database_url=url)
    db = Database.from_settings(settings)
    migrate.upgrade(db)
    app = AppContext(settings=settings, db=db)
    _seed_devices(app)
    auth_port, acct_port, web_port = free_udp_port(), free_udp_port(), free_tcp_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMPUL_")}
    env.update({"SIMPUL_DATA_DIR": str(root / "data"), "SIMPUL_DATABASE_URL": url,
                **QUIET_LISTENERS, "SIMPUL_RADIUS_ENABLED": "yes",
                "SIMPUL_RADIUS_AUTH_PORT": str(auth_port),
                "SIMPUL_RADIUS_ACCT_PORT": str(acct_port), "SIMPUL_RADIUS_SECRET": SECRET,
                "SIMPUL_RADIUS_REJECT_DELAY": "0", "SIMPUL_NAC_POLICY_TTL": "0",
                "PYTHONPATH": str(REPO)})
    proc = subprocess.Popen([SIMPUL, "up", "--port", str(web_port)], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(iter(proc.stdout.readline, "")),
                              daemon=True)
    reader.start()
    running = Stack(app, auth_port, acct_port, web_port, proc, output)
    try:
        deadline = time.monotonic() + 30
        while "FreeRADIUS ready" not in running.log():
            assert proc.poll() is None and time.monotonic() < deadline, running.log()
            time.sleep(0.1)
        yield running
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
        reader.join(timeout=5)
        db.dispose()
    assert proc.returncode == 0, running.log()
    assert "Traceback" not in running.log()
    assert SECRET not in running.log()


def _vlan(reply: Reply) -> tuple[str, str, str, str]:
    return (reply.code, reply.attrs.get("Tunnel-Type", ""),
            reply.attrs.get("Tunnel-Medium-Type", ""),
            reply.attrs.get("Tunnel-Private-Group-Id", ""))


def test_registered_active_devices_get_their_vlan(stack: Stack) -> None:
    assert _vlan(radclient(stack.auth_port, SECRET, mab(ACTIVE))) == (
        "Access-Accept", "VLAN", "IEEE-802", "110")
    assert _vlan(radclient(stack.auth_port, SECRET, mab(PRINTER))) == (
        "Access-Accept", "VLAN", "IEEE-802", "120")


@pytest.mark.parametrize(("mac", "reason"), [
    (UNKNOWN, "unregistered MAC"), (BLOCKED, "device is blocked"),
    (EXPIRED, "registration expired"), (PENDING, "registration pending approval"),
    (DOT1X_ONLY, "registered for 802.1X, MAB refused")])
def test_unknown_blocked_expired_pending_are_rejected(stack: Stack, mac: str,
                                                      reason: str) -> None:
    reply = radclient(stack.auth_port, SECRET, mab(mac))
    assert reply.code == "Access-Reject", reply.raw
    assert reply.attrs == {"Reply-Message": reason}


def test_site_quarantine_policy_puts_unknown_in_the_quarantine_vlan(stack: Stack) -> None:
    with stack.app.db.session() as s:
        set_site_policy(s, Actor.system("test"), None, "quarantine", 999)
    try:
        assert _vlan(radclient(stack.auth_port, SECRET, mab(UNKNOWN))) == (
            "Access-Accept", "VLAN", "IEEE-802", "999")
        assert radclient(stack.auth_port, SECRET, mab(BLOCKED)).code == "Access-Reject"
    finally:
        with stack.app.db.session() as s:
            set_site_policy(s, Actor.system("test"), None, "reject")
    assert radclient(stack.auth_port, SECRET, mab(UNKNOWN)).code == "Access-Reject"


def test_block_takes_effect_at_the_next_request(stack: Stack) -> None:
    mac = "02:00:5e:00:53:41"
    with stack.app.db.session() as s:
        create_device(s, Actor.system("test"), mac, opd="DINKES")
    assert radclient(stack.auth_port, SECRET, mab(mac)).code == "Access-Accept"
    with stack.app.db.session() as s:
        from nac.register import block_device

        block_device(s, Actor.system("test"), get_device(s, mac))
    assert radclient(stack.auth_port, SECRET, mab(mac)).code == "Access-Reject"


def test_accounting_start_and_stop_open_and_close_a_session(stack: Stack) -> None:
    assert radclient(stack.auth_port, SECRET, mab(ACTIVE, "Gi1/0/9")).code == "Access-Accept"
    time.sleep(0.5)  # the decision writer batches every 0.2 s; the session takes its VLAN
    acct = {"Acct-Session-Id": "sess-42", "User-Name": ACTIVE.replace(":", ""),
            "Calling-Station-Id": ACTIVE.upper().replace(":", "-"),
            "NAS-IP-Address": "127.0.0.1", "NAS-Port-Id": "Gi1/0/9"}
    start = radclient(stack.acct_port, SECRET, {**acct, "Acct-Status-Type": "Start"}, "acct")
    assert start.code == "Accounting-Response", start.raw
    with stack.app.db.session() as s:
        (row,) = list_sessions(s, mac=ACTIVE, open_only=True)
        assert (row.nas_port, row.vid) == ("Gi1/0/9", 110)
    stop = radclient(stack.acct_port, SECRET, {**acct, "Acct-Status-Type": "Stop",
                                               "Acct-Output-Octets": "4096"}, "acct")
    assert stop.code == "Accounting-Response"
    with stack.app.db.session() as s:
        assert list_sessions(s, mac=ACTIVE, open_only=True) == []
        (row,) = list_sessions(s, mac=ACTIVE)
        assert row.stopped_at is not None and row.output_octets == 4096


def test_decisions_are_recorded_for_the_siem(stack: Stack) -> None:
    radclient(stack.auth_port, SECRET, mab(BLOCKED, "Gi1/0/3"))
    time.sleep(0.5)
    with stack.app.db.session() as s:
        row = recent_decisions(s, mac=BLOCKED, limit=1)[0]
    assert (row.result, row.reason, row.nas_ip, row.nas_port, row.method) == (
        "reject", "device is blocked", "127.0.0.1", "Gi1/0/3", "mab")
    assert f"nac mab reject {BLOCKED} via 127.0.0.1 port Gi1/0/3" in stack.log()


def _eapol(stack: Stack, tmp_path: Path, password: str, mac: str = "02:00:5e:00:53:77"
           ) -> str:
    if shutil.which("eapol_test") is None:
        pytest.skip("eapol_test (Debian package eapoltest) is not installed")
    ca = stack.app.settings.data_dir / "nac" / "certs" / "ca.pem"
    conf = tmp_path / "ttls.conf"
    conf.write_text(f'network={{\n key_mgmt=WPA-EAP\n eap=TTLS\n identity="rina"\n'
                    f' anonymous_identity="anonymous"\n password="{password}"\n'
                    f' phase2="auth=PAP"\n ca_cert="{ca}"\n}}\n')
    proc = subprocess.run(["eapol_test", "-c", str(conf), "-a", "127.0.0.1", "-p",
                           str(stack.auth_port), "-s", SECRET, "-M", mac,
                           "-t", "10"], capture_output=True, text=True, timeout=30)
    return proc.stdout


def test_eap_ttls_pap_user_gets_the_vlan_of_their_opd(stack: Stack, tmp_path: Path) -> None:
    out = _eapol(stack, tmp_path, USER_PASSWORD)
    assert "SUCCESS" in out.splitlines()[-1], out[-2000:]
    accept = out[out.index("code=2 (Access-Accept)"):]
    assert "Attribute 81 (Tunnel-Private-Group-Id)" in accept
    assert "Attribute 64 (Tunnel-Type)" in accept
    time.sleep(0.5)
    with stack.app.db.session() as s:
        row = recent_decisions(s, mac="02:00:5e:00:53:77", limit=1)[0]
    assert (row.result, row.username, row.vid, row.method) == ("accept", "rina", 110, "dot1x")


def test_eap_ttls_user_on_a_blocked_device_is_rejected(stack: Stack, tmp_path: Path) -> None:
    out = _eapol(stack, tmp_path, USER_PASSWORD, mac=BLOCKED)
    assert out.splitlines()[-1] == "FAILURE"
    assert "code=2 (Access-Accept)" not in out
    time.sleep(0.5)
    with stack.app.db.session() as s:
        row = recent_decisions(s, mac=BLOCKED, limit=1)[0]
    assert (row.result, row.reason, row.method) == ("reject", "device is blocked", "dot1x")


def test_eap_ttls_wrong_password_is_rejected(stack: Stack, tmp_path: Path) -> None:
    out = _eapol(stack, tmp_path, "not-the-password")
    assert out.splitlines()[-1] == "FAILURE"
    assert "code=2 (Access-Accept)" not in out


def _policy_server_pid(stack: Stack) -> int:
    """The ``python -m nac.policyserver`` child of ``simpul up``."""
    for task in Path(f"/proc/{stack.proc.pid}/task").glob("*/children"):
        for child in task.read_text().split():
            if b"nac.policyserver" in Path(f"/proc/{child}/cmdline").read_bytes():
                return int(child)
    raise AssertionError("simpul up runs no policy server")


def test_a_killed_policy_server_is_restarted_and_nothing_unknown_gets_in(stack: Stack) -> None:
    """FreeRADIUS talks to the dedicated policy process; if it dies, simpul up restarts it
    on the same socket, and meanwhile only the fail-over cache answers."""
    pid = _policy_server_pid(stack)
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    seen_api = False
    while time.monotonic() < deadline:
        assert radclient(stack.auth_port, SECRET, mab(BLOCKED)).code == "Access-Reject"
        assert radclient(stack.auth_port, SECRET, mab(UNKNOWN)).code == "Access-Reject"
        reply = radclient(stack.auth_port, SECRET, mab(ACTIVE))
        assert reply.code == "Access-Accept", reply.raw
        if "Reply-Message" not in reply.attrs:  # answered by the policy API again
            seen_api = True
            break
        time.sleep(0.2)
    assert seen_api, "the policy server did not come back within 10 s"
    assert _policy_server_pid(stack) != pid
    assert "policy server exited" in stack.log()


def test_decision_latency_through_freeradius(stack: Stack) -> None:
    """p50/p99 of MAB decisions through FreeRADIUS + the policy API (printed, bounded)."""
    client = RadiusClient(stack.auth_port, SECRET)
    macs = [ACTIVE, UNKNOWN, PRINTER, BLOCKED]
    try:
        for mac in macs:  # warm the rest connection pool
            client.access_request(mac)
        times = []
        for i in range(300):
            started = time.perf_counter()
            code = client.access_request(macs[i % 4])
            times.append((time.perf_counter() - started) * 1000)
            assert code == ("Access-Accept" if i % 4 in (0, 2) else "Access-Reject")
    finally:
        client.close()
    times.sort()
    p50, p99 = statistics.median(times), times[int(len(times) * 0.99) - 1]

    def burst(n: int) -> int:
        c = RadiusClient(stack.auth_port, SECRET)
        try:
            return sum(c.access_request(macs[i % 4]) != "" for i in range(n))
        finally:
            c.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:
        done = sum(pool.map(burst, [50] * 16))
    rate = done / (time.perf_counter() - started)
    print(f"\nNAC decision latency via FreeRADIUS: p50 {p50:.1f} ms, p99 {p99:.1f} ms "
          f"(300 sequential); {rate:.0f} decisions/s with 16 concurrent clients")
    assert p99 < 500, f"p99 {p99:.1f} ms"



@pytest.fixture
def wired_port(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """A veth 'switch port' in the root namespace and a 'host' end in its own namespace."""
    if os.geteuid() != 0 or not shutil.which("hostapd") or not shutil.which("wpa_supplicant"):
        pytest.skip("needs root, hostapd and wpa_supplicant (labs/install-deps.sh)")
    tag = f"{os.getpid() % 10000:04d}"
    ns, port, host = f"nact-{tag}", f"nacsw{tag}", f"nach{tag}"

    def ip(*args: str, check: bool = True) -> None:
        subprocess.run(["ip", *args], check=check, capture_output=True)

    ip("netns", "add", ns)
    try:
        ip("link", "add", port, "type", "veth", "peer", "name", host)
        ip("link", "set", host, "netns", ns)
        ip("link", "set", port, "up")
        ip("-n", ns, "link", "set", host, "up")
        yield ns, port, host
    finally:
        ip("link", "del", port, check=False)
        ip("netns", "del", ns, check=False)


def _host_mac(ns: str, host: str) -> str:
    out = subprocess.run(["ip", "-n", ns, "-o", "link", "show", host], capture_output=True,
                         text=True, check=True).stdout
    return out.split("link/ether ", 1)[1].split()[0]


def _wait_for(path: Path, markers: tuple[str, ...], timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text(errors="replace") if path.exists() else ""
        if any(m in text for m in markers):
            return text
        time.sleep(0.1)
    return path.read_text(errors="replace") if path.exists() else ""


def _dot1x(stack: Stack, tmp_path: Path, wired: tuple[str, str, str], password: str
           ) -> tuple[str, str]:
    """Run hostapd (driver=wired) on the port and wpa_supplicant on the host until the
    supplicant reports EAP success or failure; return both logs."""
    ns, port, host = wired
    ca = stack.app.settings.data_dir / "nac" / "certs" / "ca.pem"
    (tmp_path / "hostapd.conf").write_text(
        f"interface={port}\ndriver=wired\nieee8021x=1\neap_reauth_period=0\n"
        f"use_pae_group_addr=1\nown_ip_addr=127.0.0.1\nnas_identifier=nac-sw\n"
        f"auth_server_addr=127.0.0.1\nauth_server_port={stack.auth_port}\n"
        f"auth_server_shared_secret={SECRET}\nacct_server_addr=127.0.0.1\n"
        f"acct_server_port={stack.acct_port}\nacct_server_shared_secret={SECRET}\n")
    (tmp_path / "supplicant.conf").write_text(
        f'ap_scan=0\nnetwork={{\n key_mgmt=IEEE8021X\n eap=TTLS\n identity="rina"\n'
        f' anonymous_identity="anonymous"\n password="{password}"\n phase2="auth=PAP"\n'
        f' ca_cert="{ca}"\n eapol_flags=0\n}}\n')
    auth_log, sup_log = tmp_path / "hostapd.log", tmp_path / "supplicant.log"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with auth_log.open("wb") as out:
            procs.append(subprocess.Popen(["hostapd", "-dd", str(tmp_path / "hostapd.conf")],
                                          stdout=out, stderr=subprocess.STDOUT))
        assert "interface state UNINITIALIZED->ENABLED" in _wait_for(
            auth_log, ("->ENABLED",), 10)
        with sup_log.open("wb") as out:
            procs.append(subprocess.Popen(
                ["ip", "netns", "exec", ns, "wpa_supplicant", "-D", "wired", "-i", host,
                 "-c", str(tmp_path / "supplicant.conf")], stdout=out,
                stderr=subprocess.STDOUT))
        supplicant = _wait_for(sup_log, ("CTRL-EVENT-EAP-SUCCESS", "CTRL-EVENT-EAP-FAILURE"))
        if "EAP-SUCCESS" in supplicant:  # give hostapd the moment to send Accounting Start
            _wait_for(auth_log, ("Accounting-Response",), 5)
    finally:
        for proc in reversed(procs):  # stop by PID, supplicant first
            proc.terminate()
            proc.wait(timeout=10)
    return supplicant, auth_log.read_text(errors="replace")


def test_hostapd_wired_8021x_user_gets_vlan_and_a_session(
        stack: Stack, tmp_path: Path, wired_port: tuple[str, str, str]) -> None:
    """The lab's NAC pattern on one veth: hostapd (driver=wired) as the switch port's
    authenticator, wpa_supplicant on the host, FreeRADIUS + simpul deciding."""
    mac = _host_mac(wired_port[0], wired_port[2])
    supplicant, authenticator = _dot1x(stack, tmp_path, wired_port, USER_PASSWORD)
    assert "CTRL-EVENT-EAP-SUCCESS" in supplicant, supplicant[-3000:]
    accept = authenticator[authenticator.index("Access-Accept"):]
    assert "Attribute 81 (Tunnel-Private-Group-Id)" in accept
    assert "authorizing port" in authenticator or "AP-STA-CONNECTED" in authenticator
    time.sleep(0.5)
    with stack.app.db.session() as s:
        decision = recent_decisions(s, mac=mac, limit=1)[0]
        assert (decision.result, decision.username, decision.vid) == ("accept", "rina", 110)
        (session,) = list_sessions(s, mac=mac)
        assert session.vid == 110 and session.nas_ip == "127.0.0.1"


def test_hostapd_wired_8021x_wrong_password_stays_unauthorized(
        stack: Stack, tmp_path: Path, wired_port: tuple[str, str, str]) -> None:
    supplicant, authenticator = _dot1x(stack, tmp_path, wired_port, "wrong-password-0")
    assert "CTRL-EVENT-EAP-FAILURE" in supplicant
    assert "Access-Accept" not in authenticator
