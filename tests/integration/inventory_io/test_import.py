"""Importing simpul's own YAML: counts, idempotence, all-or-nothing, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from inventory.importer import ImportFileError, import_file
from inventory.models import Cable, Device, Interface, IpAddress, Prefix, Site, Vlan
from simpul.audit import Actor
from simpul.db import Database
from simpul.models import AuditEntry, Opd
from tests.integration.inventory_io.samples import SAMPLE, line_of

TABLES = (Opd, Site, Device, Interface, Prefix, IpAddress, Cable, Vlan)


def counts(db: Database) -> dict[str, int]:
    with db.session(write=False) as s:
        return {m.__name__: s.scalar(select(func.count()).select_from(m)) for m in TABLES}


def test_import_own_yaml_creates_everything(db: Database, actor: Actor, sample: Path) -> None:
    with db.session() as s:
        report = import_file(s, actor, sample)
    assert report.format == "simpul" and report.changed
    assert report.counts["device"]["created"] == 3
    assert report.counts["interface"]["created"] == 6
    assert report.counts["address"]["created"] == 9
    assert report.counts["cable"]["created"] == 1
    with db.session(write=False) as s:
        core1 = s.scalar(select(Device).where(Device.name == "core1"))
        primary = s.get(IpAddress, core1.primary_ip4_id)
        assert primary.address == "192.0.2.11/26"
        assert core1.position == 10 and core1.face == "front"
        gw = s.scalar(select(IpAddress).where(IpAddress.address == "198.51.100.1/24"))
        assert gw.dns_name == "gw.dinkes.example"
        lan = s.scalar(select(Prefix).where(Prefix.prefix == "198.51.100.0/24"))
        assert s.get(Vlan, lan.vlan_id).vid == 10
        vrf_ip = s.scalar(select(IpAddress).where(IpAddress.address == "203.0.113.70/26"))
        assert vrf_ip.vrf_id is not None
        # every write went through the services: each object is in the audit log
        actions = set(s.scalars(select(AuditEntry.action)))
        assert {"site.create", "device.create", "ipaddress.create", "cable.create"} <= actions


def test_reimport_changes_nothing(db: Database, actor: Actor, sample: Path) -> None:
    with db.session() as s:
        import_file(s, actor, sample)
    before = counts(db)
    with db.session() as s:
        audit_before = s.scalar(select(func.count()).select_from(AuditEntry))
    with db.session() as s:
        report = import_file(s, actor, sample)
    assert not report.changed
    assert report.summary()[-1].endswith(f"unchanged ({report.total('unchanged')} objects)")
    assert counts(db) == before
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == audit_before


def test_changed_field_is_updated(db: Database, actor: Actor, sample: Path) -> None:
    with db.session() as s:
        import_file(s, actor, sample)
    sample.write_text(SAMPLE.replace("  name: Kantor Dinkes", "  name: Kantor Dinas Kesehatan"))
    with db.session() as s:
        report = import_file(s, actor, sample)
    assert report.counts["site"] == {"created": 0, "updated": 1, "unchanged": 1}
    with db.session(write=False) as s:
        assert s.scalar(select(Site.name).where(Site.slug == "opd-dinkes")) == \
            "Kantor Dinas Kesehatan"


def test_dry_run_writes_nothing(db: Database, actor: Actor, sample: Path) -> None:
    with db.session() as s:
        report = import_file(s, actor, sample, dry_run=True)
    assert report.dry_run and report.counts["device"]["created"] == 3
    assert "dry run" in report.summary()[-1]
    assert set(counts(db).values()) == {0}


def _mutate(old: str, new: str) -> str:
    assert old in SAMPLE
    return SAMPLE.replace(old, new, 1)


BAD = [
    pytest.param(_mutate("  device_type: server-2u\n", ""), "- name: srv1",
                 "device srv1: device_type: required", id="missing-field"),
    pytest.param(_mutate("  site: opd-dinkes\n  device_type", "  site: opd-x\n  device_type"),
                 "- name: acc-b", "device acc-b: site: unknown site 'opd-x'", id="unknown-site"),
    pytest.param(_mutate("- prefix: 203.0.113.0/31", "- prefix: 198.51.100.128/25\n"
                         "- prefix: 203.0.113.0/31"), "- prefix: 198.51.100.128/25",
                 "prefix 198.51.100.128/25: prefix: lies inside 198.51.100.0/24",
                 id="overlapping-prefix"),
    pytest.param(_mutate("    - 192.0.2.51/26", "    - 192.0.2.300/26"), "  - name: eth0\n",
                 "address 192.0.2.300/26", id="bad-address"),
    pytest.param(_mutate("  u_height: 2\n", "  u_height: [2\n"), "  u_height: [2",
                 "not valid YAML", id="bad-yaml"),
    pytest.param(_mutate("  position: 1\n", "  position: 10\n"), "- name: srv1",
                 "device srv1: position: U10 (front) of rack R01 is occupied by core1",
                 id="rack-overlap"),
    pytest.param(_mutate("  area: B\n", "  area: B\n  colour: blue\n"), "- slug: opd-dinkes",
                 "site opd-dinkes: colour: unknown field", id="unknown-field"),
]


@pytest.mark.parametrize(("text", "anchor", "message"), BAD)
def test_bad_file_names_place_and_writes_nothing(db: Database, actor: Actor, tmp_path: Path,
                                                 text: str, anchor: str, message: str) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(text)
    with pytest.raises(ImportFileError) as info, db.session() as s:
        import_file(s, actor, path)
    error = str(info.value)
    assert "\n" not in error
    assert message in error, error
    if anchor.endswith("\n"):  # an interface line: any line after the device's
        assert error.startswith("bad.yml:")
    elif message != "not valid YAML":
        assert error.startswith(f"bad.yml:{line_of(text, anchor)}: "), error
    else:
        assert error.startswith(f"bad.yml:{line_of(text, anchor) + 1}: ") or \
            error.startswith(f"bad.yml:{line_of(text, anchor)}: "), error
    assert set(counts(db).values()) == {0}


def test_failure_keeps_earlier_data_intact(db: Database, actor: Actor, sample: Path,
                                           tmp_path: Path) -> None:
    """A bad item late in the file undoes the file's earlier changes too."""
    with db.session() as s:
        import_file(s, actor, sample)
    before = counts(db)
    bad = tmp_path / "bad.yml"
    bad.write_text(SAMPLE.replace("  name: Kantor Dinkes", "  name: Renamed")
                   .replace("  b: acc-b:eth1", "  b: acc-b:eth9"))
    with pytest.raises(ImportFileError, match="cable core1:eth1/acc-b:eth9: b: acc-b has no "
                                              "interface 'eth9'"), db.session() as s:
        import_file(s, actor, bad)
    assert counts(db) == before
    with db.session(write=False) as s:
        assert s.scalar(select(Site.name).where(Site.slug == "opd-dinkes")) == "Kantor Dinkes"


def test_missing_file_and_not_a_mapping(db: Database, actor: Actor, tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="cannot read"), db.session() as s:
        import_file(s, actor, tmp_path / "nope.yml")
    (tmp_path / "list.yml").write_text("- a\n- b\n")
    with pytest.raises(ImportFileError, match="top level must be a mapping"), db.session() as s:
        import_file(s, actor, tmp_path / "list.yml")
    (tmp_path / "sect.yml").write_text("sites: []\nmachines: []\n")
    with pytest.raises(ImportFileError, match="unknown section 'machines'"), db.session() as s:
        import_file(s, actor, tmp_path / "sect.yml")


def test_readme_example_imports(db: Database, actor: Actor, tmp_path: Path) -> None:
    """The format example in inventory/README.md is a valid, complete file."""
    readme = (Path(__file__).resolve().parents[3] / "inventory" / "README.md").read_text()
    start = readme.index("```yaml\nformat: simpul-inventory/1") + len("```yaml\n")
    path = tmp_path / "readme.yml"
    path.write_text(readme[start:readme.index("```", start)])
    with db.session() as s:
        report = import_file(s, actor, path)
    assert report.counts["device"]["created"] == 2 and report.counts["cable"]["created"] == 1
    with db.session() as s:
        assert not import_file(s, actor, path).changed
