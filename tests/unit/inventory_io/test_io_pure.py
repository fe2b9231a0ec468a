"""Pure parts of import/export, Nornir and IPv6: no database needed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import netaddr
import pytest
import yaml

from inventory.cli import parse_expiry
from inventory.export import group_name
from inventory.io.clab import clab_document, interface_sort_key, is_clab, plain
from inventory.io.document import ImportFileError, Item, items, load_yaml
from inventory.ipv6 import plan_subnets, subnet_id
from inventory.nornir import NETMIKO_PLATFORMS, Credentials, credentials_from_env, env_name
from simpul.errors import ValidationError

REPO = Path(__file__).resolve().parents[3]
CLAB = REPO / "labs" / "province" / "province.clab.yml"


def test_clab_document_is_the_committed_lab_yaml() -> None:
    doc = plain(clab_document(load_yaml(CLAB), CLAB.name))
    committed = yaml.safe_load((REPO / "inventory" / "lab" / "province.yml").read_text())
    assert doc == committed


def test_clab_document_content() -> None:
    raw = load_yaml(CLAB)
    assert is_clab(raw)
    doc = clab_document(raw, CLAB.name)
    devices = {d["name"]: d for d in doc["devices"]}
    assert len(devices) == 29 and len(doc["cables"]) == 37
    core1 = devices["core1"]
    assert core1["primary_ip4"] == "172.20.20.11" and core1["platform"] == "frr"
    names = [i["name"] for i in core1["interfaces"]]
    assert names[:3] == ["eth0", "lo", "eth1"] and names[-1] == "eth7"
    assert core1["interfaces"][0]["addresses"] == ["172.20.20.11/24"]
    assert devices["nac-sw"]["role"] == "access"  # lab role nac-access
    assert {i["name"] for i in devices["nac-sw"]["interfaces"]} >= {
        "br-vlan10", "br-vlan20", "br-vlan99"}
    assert devices["web"]["platform"] == "linux"
    assert getattr(devices["core1"], "line", 0) > 0  # errors can name the node's line
    opds = {o["code"]: o for o in doc["opds"]}
    assert opds["DISKOMINFO"].get("operator") is True and "operator" not in opds["DINKES"]
    prefixes = {p["prefix"]: p for p in doc["prefixes"]}
    assert prefixes["172.20.20.0/24"]["role"] == "management"
    assert prefixes["10.255.0.0/31"]["role"] == "p2p"
    assert prefixes["100.64.0.0/31"]["role"] == "internet"
    assert prefixes["10.0.0.1/32"]["role"] == "loopback"


def test_clab_bad_link_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "x.clab.yml"
    path.write_text("name: x\ntopology:\n  nodes:\n    a: {kind: linux}\n  links:\n"
                    "  - endpoints: ['a-eth1']\n")
    with pytest.raises(ImportFileError, match=r"^x.clab.yml:6: links\[0\]: endpoints"):
        clab_document(load_yaml(path), path.name)


def test_yaml_errors_and_lines(tmp_path: Path) -> None:
    path = tmp_path / "f.yml"
    path.write_text("sites:\n- slug: a\n  name: A\n- slug: b\n  colour: red\n")
    doc = load_yaml(path)
    found = []
    with pytest.raises(ImportFileError, match=r"^f.yml:4: site b: colour: unknown field"):
        for item in items(doc, "sites", "site", "slug", "f.yml", frozenset({"slug", "name"})):
            found.append(item)
    assert [(i.key, i.where) for i in found] == [("a", "f.yml:2")]
    path.write_text("sites:\n- slug: a\n  name: [A\n")
    with pytest.raises(ImportFileError, match=r"^f.yml:\d: not valid YAML"):
        load_yaml(path)
    assert issubclass(ImportFileError, ValidationError)


def test_item_field_checks() -> None:
    item = Item("rack", "dc/R1", "f.yml:3", {"u_height": "42", "ok": True, "name": ""})
    with pytest.raises(ImportFileError, match=r"f\.yml:3: rack dc/R1: u_height: must be a whole"):
        item.integer("u_height")
    with pytest.raises(ImportFileError, match="name: required"):
        item.require("name")
    assert item.boolean("ok", False) is True and item.text("missing", "x") == "x"


def test_interface_order() -> None:
    names = ["br0", "eth10", "eth2", "lo", "eth0", "eth1"]
    assert sorted(names, key=interface_sort_key) == ["eth0", "lo", "eth1", "eth2", "eth10",
                                                     "br0"]


def test_ipv6_subnet_mapping_is_deterministic() -> None:
    wide = netaddr.IPNetwork("2001:db8::/32")
    lan = netaddr.IPNetwork("10.1.10.0/24")
    assert subnet_id(lan, wide) == 0x0A010A00
    plan = plan_subnets([lan, netaddr.IPNetwork("192.0.2.0/24")], wide)
    assert str(plan[lan]) == "2001:db8:a01:a00::/64"
    assert str(plan[netaddr.IPNetwork("192.0.2.0/24")]) == "2001:db8:c000:200::/64"
    narrow = netaddr.IPNetwork("2001:db8:100::/48")
    links = [netaddr.IPNetwork("10.255.0.0/31"), netaddr.IPNetwork("10.255.0.2/31")]
    plan = plan_subnets(links, narrow)
    assert [str(plan[n]) for n in links] == ["2001:db8:100:ff00::/64", "2001:db8:100:ff01::/64"]
    assert plan_subnets(list(reversed(links)), narrow) == plan


def test_credentials_names_and_secrecy() -> None:
    assert env_name("site", "dc-diskominfo", "USERNAME") == \
        "SIMPUL_DEVICE_SITE_DC_DISKOMINFO_USERNAME"
    assert env_name("USERNAME") == "SIMPUL_DEVICE_USERNAME"
    env = {"SIMPUL_DEVICE_FRR_USERNAME": "u", "SIMPUL_DEVICE_FRR_PASSWORD": "hunter22"}
    creds = credentials_from_env(env, "frr")
    assert creds == Credentials("u", "hunter22", None)
    assert "hunter22" not in repr(creds)
    assert credentials_from_env(env) == Credentials()
    assert NETMIKO_PLATFORMS["frr"] == "cisco_ios"


def test_expiry_and_group_names() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_expiry("3d", now) == now + timedelta(days=3)
    assert parse_expiry("90m", now) == now + timedelta(minutes=90)
    assert parse_expiry("2026-02-01T08:00") == datetime(2026, 2, 1, 8, tzinfo=UTC)
    assert parse_expiry(None) is None
    with pytest.raises(ValidationError, match="neither a time"):
        parse_expiry("soon")
    assert group_name("site", "dc-diskominfo") == "site_dc_diskominfo"
    assert group_name("opd", "DINKES") == "opd_dinkes"
