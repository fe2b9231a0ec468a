"""A RADIUS reject on the lab reaches the SIEM through NAC's real hand-off.

``simpul up`` runs on the lab's data dir with FreeRADIUS on the management gateway
172.20.20.1 (simpul's policy: rlm_rest to the policy server) and the SIEM listening on
the host's loopback. The access switch nac-sw sends MAB requests with radclient from its
own namespace for MACs registered as blocked; FreeRADIUS rejects them; the policy
server's decision writer hands each decision to the SIEM (``siem.submit`` over TCP to
the SIEM of ``simpul up``), and the SIEM's rules run on it:

* one reject is a stored event (``simpul.nac``, outcome failure, the MAC and the NAS);
* twenty rejects through nac-sw within five minutes raise the ``nac-reject-storm``
  incident for that switch (medium, T1200), visible through ``incidents_query``.

nac-sw is given the NAS role ``switch`` for this module (``nac-access`` is not yet a NAS
role), restored afterwards. Run under ``flock /tmp/simpul-lab.lock``.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from inventory.models import Device
from nac.register import create_device
from siem.incidents import incidents_query
from siem.models import SiemAlert, SiemEvent, SiemIncident
from simpul.audit import Actor
from tests.envs import QUIET_LISTENERS
from tests.integration.lab.labhelpers import REPO, wait_until
from tests.integration.nac.radius import free_tcp_port, free_udp_port
from tests.integration.playbooks.conftest import PlaybookLab, playbook_lab  # noqa: F401

pytestmark = [pytest.mark.lab, pytest.mark.skipif(
    not Path("/usr/lib/freeradius/rlm_rest.so").exists() or shutil.which("radclient") is None,
    reason="FreeRADIUS with rlm_rest is not installed (labs/install-deps.sh)")]
SECRET = "siem-lab-radius-secret"
GATEWAY = "172.20.20.1"
SWITCH_IP = "172.20.20.35"  # nac-sw's management address: the NAS the SIEM sees
BLOCKED = ("02:00:5e:00:54:41", "02:00:5e:00:54:42", "02:00:5e:00:54:43",
           "02:00:5e:00:54:44")
STORM = "corr:nac-reject-storm"


@dataclass
class RadiusOnLab:
    pl: PlaybookLab
    auth_port: int
    log: Path


def _role(pl: PlaybookLab, role: str | None = None) -> str:
    """nac-sw's inventory role; set it to *role* when given. Returns the previous one."""
    with pl.db.session() as s:
        device = s.scalar(sa.select(Device).where(Device.name == "nac-sw"))
        assert device is not None, "the lab import has no nac-sw"
        before = device.role
        if role is not None:
            device.role = role
        return before


@pytest.fixture(scope="module")
def radius_lab(playbook_lab: PlaybookLab,  # noqa: F811  (the imported fixture)
               tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[RadiusOnLab]:
    pl = playbook_lab
    with pl.db.session() as s:
        for mac in BLOCKED:
            create_device(s, Actor.system("test"), mac, opd="SETDA", status="blocked")
    role = _role(pl, "switch")
    auth_port, acct_port, web_port = free_udp_port(), free_udp_port(), free_tcp_port()
    env = {k: v for k, v in pl.env.items() if not k.startswith(("SIMPUL_RADIUS",
                                                                 "SIMPUL_SYSLOG"))}
    env.update({**QUIET_LISTENERS, "SIMPUL_RADIUS_ENABLED": "yes",
                "SIMPUL_RADIUS_HOST": GATEWAY, "SIMPUL_RADIUS_AUTH_PORT": str(auth_port),
                "SIMPUL_RADIUS_ACCT_PORT": str(acct_port), "SIMPUL_RADIUS_SECRET": SECRET,
                "SIMPUL_RADIUS_REJECT_DELAY": "0", "SIMPUL_NAC_POLICY_TTL": "0",
                "SIMPUL_NAC_SWITCH_ROLES": "switch",
                # the SIEM of `simpul up`, where the policy server's submit() delivers
                "SIMPUL_SYSLOG_HOST": "127.0.0.1", "SIMPUL_SYSLOG_UDP_PORT": "off",
                "SIMPUL_SYSLOG_TCP_PORT": str(free_tcp_port()),
                "PYTHONPATH": str(REPO)})
    log = tmp_path_factory.mktemp("siem-radius") / "simpul-up.out"
    proc = None
    try:
        with log.open("wb") as sink:
            proc = subprocess.Popen([sys.executable, "-m", "simpul.cli", "up", "--port",
                                     str(web_port)], env=env, stdout=sink,
                                    stderr=subprocess.STDOUT)
        assert wait_until(lambda: "FreeRADIUS ready" in log.read_text(errors="replace")
                          or proc.poll() is not None, 40, interval=0.2)
        assert proc.poll() is None, log.read_text()[-3000:]
        yield RadiusOnLab(pl, auth_port, log)
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
        _role(pl, role)


def _mab(mac: str) -> str:
    bare = mac.replace(":", "")
    return (f"User-Name={bare},User-Password={bare},Calling-Station-Id="
            f"{mac.upper().replace(':', '-')},NAS-IP-Address={SWITCH_IP},"
            "NAS-Port-Id=eth2,Service-Type=Call-Check")


def _radclient(on: RadiusOnLab, macs: list[str]) -> list[str]:
    """Send one MAB request per MAC from nac-sw's namespace; the reply codes, in order."""
    proc = subprocess.run(["ip", "netns", "exec", "sl-nac-sw", "radclient", "-x", "-r", "1",
                           "-t", "5", "-p", "1", f"{GATEWAY}:{on.auth_port}", "auth",
                           SECRET], input="\n\n".join(_mab(m) for m in macs) + "\n",
                          capture_output=True, text=True, timeout=60)
    out = proc.stdout + proc.stderr
    codes = [line.split()[1] for line in out.splitlines() if line.startswith("Received ")]
    assert len(codes) == len(macs), out[-3000:]
    return codes


def _nac_events(on: RadiusOnLab, mac: str) -> list[dict[str, object]]:
    with on.pl.db.session(write=False) as s:
        rows = s.scalars(sa.select(SiemEvent).where(SiemEvent.dataset == "simpul.nac"))
        want = mac.upper().replace(":", "-")  # the SIEM's MAC form (ECS)
        return [r.doc for r in rows if r.doc.get("source.mac") == want]


def _storm(on: RadiusOnLab) -> SiemIncident | None:
    with on.pl.db.session(write=False) as s:
        for inc in s.scalars(incidents_query(status="open")):
            if STORM in inc.rules and inc.entity == f"observer.ip={SWITCH_IP}":
                return inc
    return None


def test_one_reject_is_a_failed_nac_event(radius_lab: RadiusOnLab) -> None:
    mac = BLOCKED[0]
    assert _radclient(radius_lab, [mac]) == ["Access-Reject"]
    assert wait_until(lambda: _nac_events(radius_lab, mac), 15, interval=0.3), (
        radius_lab.log.read_text(errors="replace")[-3000:])
    doc = _nac_events(radius_lab, mac)[0]
    assert doc["event.outcome"] == "failure" and doc["nac.decision"] == "reject"
    assert doc["observer.ip"] == SWITCH_IP and doc["event.action"] == "nac_decision"
    assert doc.get("event.reason")  # why it was refused travels with it
    assert _storm(radius_lab) is None  # one reject is not a storm


def test_a_reject_storm_from_the_switch_raises_an_incident(radius_lab: RadiusOnLab) -> None:
    macs = [BLOCKED[i % len(BLOCKED)] for i in range(20)]
    assert set(_radclient(radius_lab, macs)) == {"Access-Reject"}
    assert wait_until(lambda: _storm(radius_lab) is not None, 30, interval=0.5), (
        radius_lab.log.read_text(errors="replace")[-3000:])
    inc = _storm(radius_lab)
    assert inc is not None
    assert inc.severity == "medium" and "T1200" in inc.techniques
    with radius_lab.pl.db.session(write=False) as s:
        alert = s.scalars(sa.select(SiemAlert).where(SiemAlert.rule_id == STORM)).first()
        assert alert is not None and alert.rule_title == "NAC reject storm on one switch"
    for mac in BLOCKED:  # every MAC in the storm is on record in the SIEM
        assert _nac_events(radius_lab, mac)
