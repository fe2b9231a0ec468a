"""Safety of playbook runs on the lab: rollback on a refused command and on a failed
verification (running config byte-identical afterwards), and the per-device lock."""

from __future__ import annotations

import types

import pytest

from playbooks import backbone, locks
from playbooks.runner import run_playbook
from tests.integration.playbooks.conftest import PlaybookLab, events

pytestmark = pytest.mark.lab


def variant(render_extra: str, *, verify_timeout_hint: str = "") -> types.ModuleType:
    """Return the backbone playbook with *render_extra* appended to core1's candidate."""
    module = types.ModuleType("broken_backbone")
    module.NAME = "backbone"
    module.DESCRIPTION = "backbone with a deliberate fault" + verify_timeout_hint
    module.select = backbone.select
    module.verify = backbone.verify

    def render(host, ctx):  # type: ignore[no-untyped-def]
        layers = backbone.render(host, ctx)
        if host.name == "core1":
            layers["frr"] += render_extra
        return layers

    module.render = render
    return module


def test_refused_command_rolls_back_byte_identical(backbone_applied: PlaybookLab) -> None:
    pl = backbone_applied
    before = pl.running("core1")
    # The first lines are valid and get applied; the last one is refused mid-commit.
    broken = variant("interface eth1\n ip ospf cost 77\nexit\nrouter ospf\n"
                     " auto-cost reference-bandwidth 100000\n bogus-command 1\nexit\n")
    seen, on_event = events()
    result = run_playbook(pl.db, pl.settings, broken, hosts="core1", on_event=on_event)
    host = result.hosts["core1"]
    assert result.failed and host.status == "rolled-back", host
    assert "bogus-command" in host.error
    assert "+  ip ospf cost 77" in host.diff
    assert ("core1", "frr: rolled back") in seen
    assert pl.running("core1") == before


def test_failed_verification_rolls_back_byte_identical(backbone_applied: PlaybookLab) -> None:
    pl = backbone_applied
    before = pl.running("core1")
    # Valid config, broken network: core1 shuts its link to core2, so no Full neighbour.
    broken = variant("interface eth1\n shutdown\nexit\n")
    result = run_playbook(pl.db, pl.settings, broken, hosts="core1", verify_timeout=6)
    host = result.hosts["core1"]
    assert host.status == "rolled-back" and host.verified is False, host
    assert "OSPF: no Full neighbour on eth1" in host.verification
    assert pl.running("core1") == before
    # And the network heals: the real backbone verifies again on core1.
    again = run_playbook(pl.db, pl.settings, "backbone", hosts="core1", verify_timeout=30)
    assert again.hosts["core1"].status == "ok" and again.hosts["core1"].verified


def test_concurrent_run_on_a_device_is_refused(backbone_applied: PlaybookLab) -> None:
    pl = backbone_applied
    # This process holds core1 the way a running `simpul run` would; another process
    # (the CLI) must refuse core1 and still handle core2.
    with locks.device_lock(pl.settings.data_dir, "core1", holder="run 99 (backbone) by ana"):
        proc = pl.simpul("run", "backbone", "--hosts", "core1,core2", "--dry-run",
                         check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "core1 is locked by run 99 (backbone) by ana" in proc.stdout
    lines = {line.split()[0]: line.split()[1] for line in proc.stdout.splitlines()
             if line.split()[:1] in (["core1"], ["core2"]) and len(line.split()) > 3}
    assert lines == {"core1": "locked", "core2": "ok"}
    # Released: the same run goes through.
    assert pl.simpul("run", "backbone", "--hosts", "core1", "--dry-run").returncode == 0
