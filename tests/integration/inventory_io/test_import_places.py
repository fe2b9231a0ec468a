"""Locations, power feeds and wall outlets / patch ports in ``simpul inventory import``:
created through the services, idempotent, updated in place, refused with their place,
and carried by the YAML export."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from inventory.export import export_yaml
from inventory.importer import ImportFileError, import_file
from inventory.models import Interface, Location, PowerFeed, WallOutlet
from simpul.audit import Actor
from simpul.db import Database

DOC = """\
format: simpul-inventory/1
opds:
- {code: DINKES, name: Dinas Kesehatan}
sites:
- {slug: dc, name: DC}
- {slug: dinkes, opd: DINKES}
locations:
- {site: dinkes, slug: gedung-a, name: Gedung A, kind: building}
- {site: dinkes, slug: lt-2, name: Lantai 2, kind: floor, parent: gedung-a}
racks:
- {site: dc, name: R01, u_height: 42}
power_feeds:
- {site: dc, rack: R01, name: A, amperage: 16}
- {site: dc, rack: R01, name: B, amperage: 32, max_utilization: 50}
device_types:
- {slug: sw, manufacturer: Generic, u_height: 1}
devices:
- name: acc-1
  site: dinkes
  device_type: sw
  role: access
  interfaces:
  - {name: ge1}
wall_outlets:
- {site: dinkes, label: WO-2.01, location: lt-2, opd: DINKES}
- {site: dinkes, label: PP-12, kind: patch-port, interface: "acc-1:ge1"}
"""


def _write(tmp_path: Path, text: str, name: str = "places.yml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_places_import_idempotently_and_update(db: Database, tmp_path: Path) -> None:
    actor = Actor.system("test")
    path = _write(tmp_path, DOC)
    with db.session() as s:
        report = import_file(s, actor, path)
    assert report.counts["location"]["created"] == 2
    assert report.counts["power feed"]["created"] == 2
    assert report.counts["wall outlet"]["created"] == 2
    with db.session(write=False) as s:
        floor = s.scalar(select(Location).where(Location.slug == "lt-2"))
        building = s.scalar(select(Location).where(Location.slug == "gedung-a"))
        assert floor.parent_id == building.id and floor.kind == "floor"
        feeds = {f.name: (f.amperage, f.max_utilization) for f in s.scalars(select(PowerFeed))}
        assert feeds == {"A": (16, 80), "B": (32, 50)}
        outlets = {o.label: o for o in s.scalars(select(WallOutlet))}
        assert outlets["WO-2.01"].location_id == floor.id
        assert (outlets["WO-2.01"].status, outlets["WO-2.01"].kind) == ("free", "wall-outlet")
        port = outlets["PP-12"]
        assert port.status == "used" and port.kind == "patch-port"
        assert s.get(Interface, port.interface_id).name == "ge1"
    with db.session() as s:
        assert not import_file(s, actor, path).changed
    changed = _write(tmp_path, DOC.replace("name: A, amperage: 16", "name: A, amperage: 20")
                     .replace("location: lt-2, opd", "location: gedung-a, status: reserved, "
                              "opd"), "changed.yml")
    with db.session() as s:
        report = import_file(s, actor, changed)
    for kind in ("power feed", "wall outlet"):
        assert (report.counts[kind].get("updated"), report.counts[kind].get("unchanged")) == (
            1, 1), report.counts
    with db.session(write=False) as s:
        outlet = s.scalar(select(WallOutlet).where(WallOutlet.label == "WO-2.01"))
        assert outlet.status == "reserved"
        assert s.get(Location, outlet.location_id).slug == "gedung-a"


def test_export_carries_places_and_reimports_unchanged(db: Database, tmp_path: Path) -> None:
    actor = Actor.system("test")
    with db.session() as s:
        import_file(s, actor, _write(tmp_path, DOC))
    with db.session(write=False) as s:
        text = export_yaml(s)
    doc = yaml.safe_load(text)
    assert [loc["slug"] for loc in doc["locations"]] == ["gedung-a", "lt-2"]
    assert {f["name"] for f in doc["power_feeds"]} == {"A", "B"}
    assert {o["label"]: o.get("interface") for o in doc["wall_outlets"]} == {
        "PP-12": "acc-1:ge1", "WO-2.01": None}
    with db.session() as s:
        assert not import_file(s, actor, _write(tmp_path, text, "export.yml")).changed


@pytest.mark.parametrize(("old", "new", "message"), [
    ("parent: gedung-a", "parent: basement", "location dinkes/lt-2: parent: unknown location "
                                             "'basement' at site dinkes"),
    ("rack: R01, name: B", "rack: R09, name: B", "rack: unknown rack 'R09' at site dc"),
    ("name: B, amperage: 32", "name: C, amperage: 32", "name: 'C' is not one of: A, B"),
    ('interface: "acc-1:ge1"', 'interface: "acc-1:ge9"', "acc-1 has no interface 'ge9'"),
    ("label: WO-2.01, location: lt-2", "label: WO-2.01, location: lt-9",
     "unknown location 'lt-9'"),
    ("kind: patch-port", "kind: socket", "kind: 'socket' is not one of"),
])
def test_bad_places_are_refused_with_their_line(db: Database, tmp_path: Path, old: str,
                                                new: str, message: str) -> None:
    assert old in DOC
    text = DOC.replace(old, new)
    with pytest.raises(ImportFileError) as info, db.session() as s:
        import_file(s, Actor.system("test"), _write(tmp_path, text))
    error = str(info.value)
    assert message in error, error
    line = next(n for n, row in enumerate(text.splitlines(), 1) if new.split(",")[0] in row)
    assert error.startswith(f"places.yml:{line}: "), error
    with db.session(write=False) as s:  # all or nothing
        assert s.scalars(select(Location)).all() == []
