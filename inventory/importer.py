"""``import_file``: load a YAML inventory or a containerlab topology, all or nothing.

One service for the CLI (``simpul inventory import``), the web UI and the tests. The
file is read (YAML with line numbers), recognised (our own format, see
``inventory/README.md``, or containerlab's ``topology.nodes``), then applied inside a
SAVEPOINT through the inventory service functions, in dependency order. Any invalid
item raises ``ImportFileError`` naming file, line, item and field, and the savepoint is
rolled back: nothing of the file is written. A dry run does all the work and rolls back.
"""

from __future__ import annotations

from pathlib import Path

from loguru import logger
from sqlalchemy.orm import Session

from inventory.io.clab import clab_document, is_clab
from inventory.io.context import ImportContext, ImportReport
from inventory.io.document import FORMAT, ImportFileError, load_yaml
from inventory.io.load_dcim import (
    load_cables,
    load_device_types,
    load_devices,
    load_opds,
    load_racks,
    load_sites,
)
from inventory.io.load_ipam import (
    load_addresses,
    load_prefixes,
    load_primary_ips,
    load_vlans,
    load_vrfs,
)
from inventory.io.load_places import load_locations, load_power_feeds, load_wall_outlets
from simpul.audit import Actor

__all__ = ["ImportFileError", "ImportReport", "import_document", "import_file"]

SECTIONS = frozenset({"format", "opds", "sites", "locations", "racks", "power_feeds",
                      "device_types", "vrfs", "vlan_groups", "vlans", "prefixes", "devices",
                      "wall_outlets", "ip_addresses", "cables", "links"})
STEPS = (load_opds, load_sites, load_locations, load_racks, load_power_feeds, load_device_types,
         load_vrfs, load_vlans, load_prefixes, load_devices, load_wall_outlets, load_addresses,
         load_primary_ips, load_cables)


def _check_sections(doc: dict, file: str) -> None:
    fmt = doc.get("format")
    if fmt is not None and fmt != FORMAT:
        raise ImportFileError(f"{file}: format {fmt!r} is not {FORMAT!r}",
                              errors={"format": [f"expected {FORMAT}"]})
    unknown = sorted(set(doc) - SECTIONS)
    if unknown:
        raise ImportFileError(f"{file}:{getattr(doc, 'line', 1)}: unknown section "
                              f"{unknown[0]!r} (sections: {', '.join(sorted(SECTIONS))})",
                              errors={unknown[0]: ["unknown section"]})


def import_document(session: Session, actor: Actor, doc: dict, *, file: str,
                    fmt: str = "simpul", dry_run: bool = False) -> ImportReport:
    """Apply an already loaded document (see :func:`import_file`)."""
    _check_sections(doc, file)
    report = ImportReport(path=file, format=fmt, dry_run=dry_run)
    ctx = ImportContext(session=session, actor=actor, file=file, report=report)
    savepoint = session.begin_nested()
    try:
        for step in STEPS:
            step(ctx, doc)
        session.flush()
    except BaseException:
        savepoint.rollback()
        raise
    if dry_run:
        savepoint.rollback()
    else:
        savepoint.commit()
    return report


def import_file(session: Session, actor: Actor, path: str | Path, *,
                dry_run: bool = False) -> ImportReport:
    """Import an inventory file into *session*'s transaction; return what changed.

    Args:
        path: simpul YAML (``format: simpul-inventory/1``) or a ``*.clab.yml`` topology.
        dry_run: validate and count everything, write nothing.

    Raises:
        ImportFileError: unreadable file, bad YAML, or an invalid item (nothing written).
    """
    path = Path(path)
    doc = load_yaml(path)
    if not isinstance(doc, dict):
        raise ImportFileError(f"{path.name}: the top level must be a mapping of sections",
                              errors={"file": ["not a mapping"]})
    fmt = "simpul"
    if is_clab(doc):
        doc, fmt = clab_document(doc, path.name), "containerlab"
    report = import_document(session, actor, doc, file=path.name, fmt=fmt, dry_run=dry_run)
    report.path = str(path)
    logger.bind(task="inventory.import").info(
        "imported {} ({}): {} created, {} updated, {} unchanged{}", path.name, fmt,
        report.total("created"), report.total("updated"), report.total("unchanged"),
        " (dry run)" if dry_run else "")
    return report
