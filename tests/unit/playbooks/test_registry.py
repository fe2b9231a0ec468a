"""Finding playbooks by name, and NAPALM finding the project's drivers."""

from __future__ import annotations

import sys

import napalm
import pytest

import playbooks
from playbooks import registry
from playbooks.base import PlaybookError, RenderContext, render_template


def test_backbone_is_registered() -> None:
    module = registry.get("backbone")
    assert module.NAME == "backbone" and callable(module.render)
    assert "backbone" in registry.names()
    assert registry.describe()["backbone"] == module.DESCRIPTION


def test_unknown_playbook_is_a_clear_error() -> None:
    with pytest.raises(PlaybookError, match=r"unknown playbook 'nope'; known: .*backbone"):
        registry.get("nope")


def test_napalm_finds_the_frr_driver() -> None:
    from playbooks.napalm_frr import FRRDriver

    assert napalm.get_network_driver("frr") is FRRDriver
    playbooks.install_driver_aliases()  # idempotent
    finders = [f for f in sys.meta_path if isinstance(f, playbooks._DriverAliasFinder)]
    assert len(finders) == 1


def test_templates_are_strict(tmp_path: object) -> None:
    from jinja2 import UndefinedError

    with pytest.raises(UndefinedError):
        render_template("frr", "backbone", interfaces=[], bgp=None)  # no "ospf"
    ctx = RenderContext(db=None, settings=None)  # type: ignore[arg-type]
    assert ctx.template("frr", "backbone", interfaces=[], bgp=None, ospf=None) == ""
