"""When the policy API is down or too slow, FreeRADIUS serves only the fail-over cache.

Two FreeRADIUS instances on the generated configuration: one whose API address refuses
connections (simpul down), one whose API accepts TCP but never answers (simpul hung,
hitting rlm_rest's timeout). Both must let in only devices active at the last cache
export — never an unknown, pending, blocked, expired or 802.1X-only MAC.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from nac.cache import write_cache
from nac.radiusconf import write_radius_config
from nac.register import block_device, get_device
from nac.server import FreeRadiusProcess
from nac.settings import load_nac_settings
from simpul import migrate
from simpul.audit import Actor
from simpul.context import AppContext
from simpul.db import Database
from simpul.settings import load_settings
from tests.integration.nac.radius import free_tcp_port, free_udp_port, mab, radclient
from tests.integration.nac.test_freeradius import (
    ACTIVE,
    BLOCKED,
    DOT1X_ONLY,
    EXPIRED,
    PENDING,
    PRINTER,
    SECRET,
    UNKNOWN,
    _seed_devices,
    pytestmark,  # noqa: F401 - same skip when FreeRADIUS is absent
)

CACHE_NOTE = "simpul policy API unavailable: served from cache"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppContext]:
    root = tmp_path_factory.mktemp("nacfailover")
    settings = load_settings(env={}, data_dir=str(root / "data"),
                             database_url=f"sqlite:///{root / 'simpul.db'}")
    db = Database.from_settings(settings)
    migrate.upgrade(db)
    context = AppContext(settings=settings, db=db)
    _seed_devices(context)
    yield context
    db.dispose()


def _radius(app: AppContext, name: str, api_url: str) -> tuple[FreeRadiusProcess, int, int,
                                                               Path]:
    nac = replace(load_nac_settings(app.settings, env={}),
                  data_dir=app.settings.data_dir / name, auth_port=free_udp_port(),
                  acct_port=free_udp_port(), api_url=api_url, api_timeout=0.5,
                  connect_timeout=0.3, reject_delay=0)
    with app.db.session() as s:
        config = write_radius_config(s, nac, env={})
    radius = FreeRadiusProcess(nac, config.raddb, config.logdir)
    radius.start(env={"SIMPUL_RADIUS_SECRET": SECRET, "SIMPUL_NAC_API_SECRET": "unused",
                      "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    try:
        radius.wait_ready()
    except Exception:
        radius.stop()
        raise
    return radius, nac.auth_port, nac.acct_port, config.cache_file


@pytest.fixture(scope="module", params=["down", "hung"])
def radius(request: pytest.FixtureRequest, app: AppContext
           ) -> Iterator[tuple[FreeRadiusProcess, int, int, Path]]:
    hung = None
    if request.param == "hung":  # accepts connections (backlog) but never answers
        hung = socket.socket()
        hung.bind(("127.0.0.1", 0))
        hung.listen(64)
        url = f"http://127.0.0.1:{hung.getsockname()[1]}"
    else:
        url = f"http://127.0.0.1:{free_tcp_port()}"
    running = _radius(app, request.param, url)
    yield running
    running[0].stop()
    if hung is not None:
        hung.close()


def test_cached_active_devices_still_get_their_vlan(radius: tuple) -> None:
    _proc, auth, _acct, _cache = radius
    started = time.monotonic()
    reply = radclient(auth, SECRET, mab(ACTIVE))
    assert reply.code == "Access-Accept", reply.raw
    assert reply.attrs["Tunnel-Private-Group-Id"] == "110"
    assert reply.attrs["Tunnel-Type"] == "VLAN" and reply.attrs["Reply-Message"] == CACHE_NOTE
    assert time.monotonic() - started < 3  # within a NAS's usual 5 s RADIUS timeout
    assert radclient(auth, SECRET, mab(PRINTER)).attrs["Tunnel-Private-Group-Id"] == "120"


@pytest.mark.parametrize("mac", [UNKNOWN, BLOCKED, EXPIRED, PENDING, DOT1X_ONLY])
def test_nothing_else_gets_in(radius: tuple, mac: str) -> None:
    reply = radclient(radius[1], SECRET, mab(mac))
    assert reply.code == "Access-Reject", reply.raw


def test_cache_answers_are_logged(radius: tuple) -> None:
    """Decisions the policy API did not make still leave an audit line each."""
    proc = radius[0]
    radclient(radius[1], SECRET, mab(ACTIVE, "Gi1/0/5"))
    radclient(radius[1], SECRET, mab(UNKNOWN, "Gi1/0/6"))
    (log,) = list(proc.output.parent.glob("fallback-*.log"))
    text = log.read_text()
    assert f"unavailable: accept {ACTIVE} via 127.0.0.1 port Gi1/0/5" in text, text
    assert f"unavailable: reject {UNKNOWN} via 127.0.0.1 port Gi1/0/6" in text, text
    assert oct(log.stat().st_mode & 0o777) == "0o600"


def test_non_mac_user_names_are_rejected(radius: tuple) -> None:
    reply = radclient(radius[1], SECRET, {"User-Name": "rina", "User-Password": "x"})
    assert reply.code == "Access-Reject"


def test_accounting_is_acknowledged_and_kept_on_disk(radius: tuple) -> None:
    proc, _auth, acct, _cache = radius
    reply = radclient(acct, SECRET, {"Acct-Status-Type": "Start", "Acct-Session-Id": "f1",
                                     "User-Name": "02005e005301",
                                     "NAS-IP-Address": "127.0.0.1"}, "acct")
    assert reply.code == "Accounting-Response", reply.raw
    details = list((proc.output.parent / "radacct").glob("detail-*"))
    assert details and "f1" in details[0].read_text()


def test_a_block_reaches_the_cache_at_the_next_export(radius: tuple, app: AppContext) -> None:
    proc, auth, _acct, cache = radius
    mac = PRINTER
    assert radclient(auth, SECRET, mab(mac)).code == "Access-Accept"
    with app.db.session() as s:
        device = get_device(s, mac)
        block_device(s, Actor.system("test"), device)
    try:
        with app.db.session() as s:
            assert write_cache(s, cache)
        assert proc.reload(cache)  # what the exporter does after writing a changed cache
        assert radclient(auth, SECRET, mab(mac)).code == "Access-Reject"
    finally:  # the next FreeRADIUS instance generates its cache from this state
        with app.db.session() as s:
            get_device(s, mac).status = "active"
