"""The nac playbook on the lab, and issue 9's 802.1X scenario on the lab's access node.

nac-sw gets, from the playbook (Linux layer over the shell port), a hostapd
``driver=wired`` authenticator on its host port eth2 towards simpul's FreeRADIUS (started
here by ``simpul up`` on the management gateway 172.20.20.1, with the rlm_rest policy
API on the host's loopback). nac-h1 runs wpa_supplicant (EAP-TTLS/PAP). A user of the
switch's OPD gets in: the port moves into VLAN 10's bridge (Tunnel-Private-Group-Id from
the Accept); a wrong password stays in quarantine (VLAN 99). MAB decisions are checked
with radclient sent from the switch's namespace.

Only nac-sw runs hostapd in the lab, while every access switch is an NAC target by
default; this module therefore gives nac-sw the role ``switch`` in its database (with
``SIMPUL_NAC_SWITCH_ROLES=switch``) and puts its own role back afterwards.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from inventory.models import Device
from nac.register import create_device
from nac.rules import set_site_policy, set_vlan
from playbooks.runner import RunResult, run_playbook
from simpul.audit import Actor
from simpul.users import create_user
from tests.envs import QUIET_LISTENERS
from tests.integration.lab.labhelpers import REPO, in_ns, wait_until
from tests.integration.nac.radius import free_tcp_port, free_udp_port
from tests.integration.playbooks.conftest import PlaybookLab
from tests.integration.playbooks.test_vpn_lab import shell

pytestmark = [pytest.mark.lab, pytest.mark.skipif(
    not Path("/usr/lib/freeradius/rlm_rest.so").exists() or shutil.which("radclient") is None,
    reason="FreeRADIUS with rlm_rest is not installed (labs/install-deps.sh)")]
SECRET = "nac-lab-radius-secret"
USER, PASSWORD = "sari", "sari-radius-pass-1"
GATEWAY = "172.20.20.1"
REGISTERED, BLOCKED, UNKNOWN = "02:00:5e:00:53:21", "02:00:5e:00:53:22", "02:00:5e:00:53:29"
HOSTAPD_CONF = "/etc/hostapd/simpul-eth2.conf"


@dataclass
class NacLab:
    pl: PlaybookLab
    auth_port: int
    acct_port: int
    dry_run: RunResult
    applied: RunResult
    ca: Path


def _seed(pl: PlaybookLab) -> None:
    actor = Actor.system("test")
    with pl.db.session() as s:
        set_vlan(s, actor, "SETDA", "staff", 10)
        set_site_policy(s, actor, "opd-setda", "quarantine", 99)
        create_user(s, actor, USER, role="requester", opd_code="SETDA", password=PASSWORD)
        create_device(s, actor, REGISTERED, opd="SETDA", owner="Sari")
        create_device(s, actor, BLOCKED, opd="SETDA", status="blocked")


def _set_role(pl: PlaybookLab, role: str) -> str:
    """Give nac-sw *role*; return the role it had, to put back."""
    with pl.db.session() as s:
        device = s.scalar(sa.select(Device).where(Device.name == "nac-sw"))
        before, device.role = device.role, role
        return before


@pytest.fixture(scope="module")
def nac_lab(playbook_lab: PlaybookLab, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[NacLab]:
    pl = playbook_lab
    _seed(pl)
    old_role = _set_role(pl, "switch")
    auth_port, acct_port, web_port = free_udp_port(), free_udp_port(), free_tcp_port()
    radius_env = {"SIMPUL_RADIUS_HOST": GATEWAY, "SIMPUL_RADIUS_AUTH_PORT": str(auth_port),
                  "SIMPUL_RADIUS_ACCT_PORT": str(acct_port), "SIMPUL_RADIUS_SECRET": SECRET}
    out = tmp_path_factory.mktemp("nac-lab") / "simpul-up.out"
    proc = None
    try:
        with pytest.MonkeyPatch.context() as mp:
            for key, value in {**radius_env, "SIMPUL_DEVICE_SHELL_PORT": "2222",
                               "SIMPUL_NAC_SWITCH_ROLES": "switch",
                               "SIMPUL_NAC_RADIUS_SERVERS": GATEWAY}.items():
                mp.setenv(key, value)
            before = shell(pl, "nac-sw", f"cat {HOSTAPD_CONF} 2>&1")
            dry = run_playbook(pl.db, pl.settings, "nac", hosts=["nac-sw"], dry_run=True)
            assert shell(pl, "nac-sw", f"cat {HOSTAPD_CONF} 2>&1") == before
            applied = run_playbook(pl.db, pl.settings, "nac", hosts=["nac-sw"],
                                   verify_timeout=20)
        env = {k: v for k, v in pl.env.items() if not k.startswith("SIMPUL_RADIUS")}
        env.update({**QUIET_LISTENERS, **radius_env, "SIMPUL_RADIUS_ENABLED": "yes",
                    "SIMPUL_RADIUS_REJECT_DELAY": "0", "SIMPUL_NAC_POLICY_TTL": "0",
                    "PYTHONPATH": str(REPO)})
        with out.open("wb") as sink:
            proc = subprocess.Popen([sys.executable, "-m", "simpul.cli", "up", "--port",
                                     str(web_port)], env=env, stdout=sink,
                                    stderr=subprocess.STDOUT)
        assert wait_until(lambda: "FreeRADIUS ready" in out.read_text(errors="replace")
                          or proc.poll() is not None, 40, interval=0.2)
        assert proc.poll() is None, out.read_text()[-3000:]
        ca = Path(pl.env["SIMPUL_DATA_DIR"]) / "nac" / "certs" / "ca.pem"
        yield NacLab(pl, auth_port, acct_port, dry, applied, ca)
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
        _set_role(pl, old_role)


def _eth2_bridge() -> str:
    out = in_ns("nac-sw", "ip", "-o", "link", "show", "eth2").stdout
    return out.split(" master ", 1)[1].split()[0] if " master " in out else ""


def _supplicant(tmp: Path, password: str) -> tuple[subprocess.Popen[bytes], Path]:
    conf, log = tmp / f"supplicant-{password}.conf", tmp / f"supplicant-{password}.log"
    ca = Path(os.environ.get("SIMPUL_DATA_DIR", "")) / "nac" / "certs" / "ca.pem"
    conf.write_text(f'ctrl_interface={tmp}/ctrl\nap_scan=0\nnetwork={{\n'
                    ' key_mgmt=IEEE8021X\n eap=TTLS\n'
                    f' identity="{USER}"\n anonymous_identity="anonymous"\n'
                    f' password="{password}"\n phase2="auth=PAP"\n ca_cert="{ca}"\n'
                    ' eapol_flags=0\n}\n')
    with log.open("wb") as sink:
        proc = subprocess.Popen(["ip", "netns", "exec", "sl-nac-h1", "wpa_supplicant", "-D",
                                 "wired", "-i", "eth1", "-c", str(conf)], stdout=sink,
                                stderr=subprocess.STDOUT)
    return proc, log


def _logoff(tmp: Path) -> None:
    """Send EAPOL-Logoff from the supplicant (the host leaves the port)."""
    proc = subprocess.run(["ip", "netns", "exec", "sl-nac-h1", "wpa_cli", "-p",
                           str(tmp / "ctrl"), "-i", "eth1", "logoff"], capture_output=True,
                          text=True, timeout=10)
    assert "OK" in proc.stdout, proc.stdout + proc.stderr


def _stop(pl: PlaybookLab, proc: subprocess.Popen[bytes]) -> None:
    """Stop the supplicant, and make the switch forget the host (as unplugging would;
    otherwise 802.1X holds a failed port quiet for 60 s)."""
    proc.terminate()
    proc.wait(timeout=10)
    mac = in_ns("nac-h1", "cat", "/sys/class/net/eth1/address").stdout.strip()
    shell(pl, "nac-sw", f"sudo -n hostapd_cli -p /run/hostapd -i eth2 deauthenticate {mac}")


def test_dry_run_shows_the_authenticator_and_changed_nothing(nac_lab: NacLab) -> None:
    host = nac_lab.dry_run.hosts["nac-sw"]
    assert host.status == "changed" and not nac_lab.dry_run.failed
    diff = host.diffs["linux"]
    assert f"+++ b{HOSTAPD_CONF}" in diff and "+driver=wired" in diff
    assert f"+auth_server_addr={GATEWAY}" in diff
    assert SECRET not in diff


def test_nac_playbook_configures_the_access_node(nac_lab: NacLab) -> None:
    result = nac_lab.applied
    assert not result.failed, {h: (r.status, r.error, r.verification)
                               for h, r in result.hosts.items()}
    assert result.hosts["nac-sw"].status == "changed"
    status = shell(nac_lab.pl, "nac-sw", "sudo -n hostapd_cli -p /run/hostapd -i eth2 status")
    assert "state=ENABLED" in status
    assert _eth2_bridge() == "br-vlan99"  # unauthenticated: quarantine


def test_wrong_password_is_refused_and_stays_in_quarantine(nac_lab: NacLab,
                                                           tmp_path: Path) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SIMPUL_DATA_DIR", nac_lab.pl.env["SIMPUL_DATA_DIR"])
        proc, log = _supplicant(tmp_path, "not-the-password")
    try:
        assert wait_until(lambda: "EAP-FAILURE" in log.read_text(errors="replace"), 30, 0.3), (
            log.read_text()[-2000:])
        assert "CTRL-EVENT-EAP-SUCCESS" not in log.read_text()
        time.sleep(1)
        assert _eth2_bridge() == "br-vlan99"
    finally:
        _stop(nac_lab.pl, proc)


def test_registered_user_gets_in_with_the_vlan_of_their_opd(nac_lab: NacLab,
                                                            tmp_path: Path) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SIMPUL_DATA_DIR", nac_lab.pl.env["SIMPUL_DATA_DIR"])
        proc, log = _supplicant(tmp_path, PASSWORD)
    try:
        assert wait_until(lambda: "CTRL-EVENT-EAP-SUCCESS" in log.read_text(errors="replace")
                          or "EAP-FAILURE" in log.read_text(errors="replace"), 30, 0.3)
        assert "CTRL-EVENT-EAP-SUCCESS" in log.read_text(), log.read_text()[-3000:]
        assert wait_until(lambda: _eth2_bridge() == "br-vlan10", 10, 0.2), _eth2_bridge()
        # The host is in VLAN 10 now: its gateway there answers.
        assert in_ns("nac-h1", "ip", "addr", "add", "10.50.10.10/24", "dev",
                     "eth1").returncode == 0
        try:
            assert in_ns("nac-h1", "ping", "-c", "2", "-W", "1", "10.50.10.1").returncode == 0
        finally:
            in_ns("nac-h1", "ip", "addr", "del", "10.50.10.10/24", "dev", "eth1")
        _logoff(tmp_path)  # the host leaves: the port goes back to quarantine
        assert wait_until(lambda: _eth2_bridge() == "br-vlan99", 10, 0.2), _eth2_bridge()
    finally:
        _stop(nac_lab.pl, proc)


def _radclient(nac: NacLab, mac: str) -> tuple[str, str]:
    bare = mac.replace(":", "")
    attrs = (f"User-Name={bare},User-Password={bare},Calling-Station-Id="
             f"{mac.upper().replace(':', '-')},NAS-IP-Address=172.20.20.35,"
             "NAS-Port-Id=eth2,Service-Type=Call-Check")
    proc = subprocess.run(["ip", "netns", "exec", "sl-nac-sw", "radclient", "-x", "-r", "1",
                           "-t", "5", f"{GATEWAY}:{nac.auth_port}", "auth", SECRET],
                          input=attrs, capture_output=True, text=True, timeout=20)
    out = proc.stdout + proc.stderr
    code = "Access-Accept" if "Received Access-Accept" in out else (
        "Access-Reject" if "Received Access-Reject" in out else "no reply")
    vid = ""
    for line in out.splitlines():
        if "Tunnel-Private-Group-Id" in line:
            vid = line.split("=", 1)[1].strip().strip('"')
    return code, vid


def test_mab_from_the_switch(nac_lab: NacLab) -> None:
    assert _radclient(nac_lab, REGISTERED) == ("Access-Accept", "10")
    assert _radclient(nac_lab, UNKNOWN) == ("Access-Accept", "99")  # site: quarantine
    assert _radclient(nac_lab, BLOCKED)[0] == "Access-Reject"


