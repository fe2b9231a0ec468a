"""The state of one import: session, actor, name lookups and the report it builds.

Each object of a file is *synced*: created when missing, updated through the service's
``update_*`` when a field differs, counted unchanged otherwise, so importing a file
twice changes nothing the second time. Every write goes through the inventory service
functions, so an import is validated and audited like any other change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from inventory.io.document import ImportFileError, Item
from inventory.models import Device, Site, Vrf
from simpul.audit import Actor
from simpul.errors import SimpulError
from simpul.tenancy import get_opd

OUTCOMES = ("created", "updated", "unchanged")


@dataclass
class ImportReport:
    """What an import did (or would do, on a dry run), per kind of object."""

    path: str
    format: str
    dry_run: bool = False
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, kind: str, outcome: str) -> None:
        """Count one *outcome* (created, updated, unchanged) for *kind*."""
        per_kind = self.counts.setdefault(kind, dict.fromkeys(OUTCOMES, 0))
        per_kind[outcome] += 1

    def total(self, outcome: str) -> int:
        """Return how many objects had *outcome*."""
        return sum(c[outcome] for c in self.counts.values())

    @property
    def changed(self) -> bool:
        """True when anything was (or on a dry run would be) created or updated."""
        return bool(self.total("created") or self.total("updated"))

    def summary(self) -> list[str]:
        """Return printable lines: one per kind, then the verdict."""
        lines = [f"{kind}: " + ", ".join(f"{c[o]} {o}" for o in OUTCOMES)
                 for kind, c in self.counts.items()]
        verb = "would change" if self.dry_run else "changed"
        if not self.changed:
            lines.append(f"{self.path}: unchanged ({self.total('unchanged')} objects)")
        else:
            lines.append(f"{self.path} ({self.format}): {verb} "
                         f"{self.total('created')} created, {self.total('updated')} updated, "
                         f"{self.total('unchanged')} unchanged"
                         + (" (dry run: nothing written)" if self.dry_run else ""))
        return lines

    def as_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        return {"path": self.path, "format": self.format, "dry_run": self.dry_run,
                "changed": self.changed, "counts": self.counts}


@dataclass
class ImportContext:
    """Session, actor, file name, report and the id lookups the loaders share."""

    session: Session
    actor: Actor
    file: str
    report: ImportReport
    devices: dict[str, Device] = field(default_factory=dict)  # file's devices by name

    def sync(self, item: Item, existing: Any, desired: dict[str, Any],
             create: Callable[..., Any], update: Callable[..., Any],
             fixed: frozenset[str] = frozenset()) -> Any:
        """Create *existing* when None, else update the fields that differ; count it.

        Raises:
            ImportFileError: the service refused (with the item's place and field).
        """
        try:
            if existing is None:
                obj = create(self.session, self.actor, **desired)
                self.session.flush()
                self.report.count(item.kind, "created")
                return obj
            changes = {k: v for k, v in desired.items()
                       if k not in fixed and getattr(existing, k) != v}
            if changes:
                update(self.session, self.actor, existing.id, **changes)
                self.session.flush()
                self.report.count(item.kind, "updated")
            else:
                self.report.count(item.kind, "unchanged")
            return existing
        except SimpulError as exc:
            raise item.wrap(exc) from None
        except IntegrityError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise ImportFileError(f"{item.where}: {item.kind} {item.key}: conflicts with "
                                  f"existing data ({reason})") from None

    # --- lookups by natural key ----------------------------------------------------------

    def opd_id(self, item: Item, field_name: str = "opd") -> int | None:
        """Return the id of the OPD *item* names, None when it names none."""
        code = item.text(field_name)
        if not code:
            return None
        opd = get_opd(self.session, code)
        if opd is None:
            raise item.fail(field_name, f"unknown OPD {code!r}")
        return opd.id

    def site(self, item: Item, field_name: str = "site", *, required: bool = True
             ) -> Site | None:
        """Return the site *item* names by slug."""
        slug = item.text(field_name)
        if not slug:
            if required:
                raise item.fail(field_name, "required")
            return None
        site = self.session.scalar(select(Site).where(Site.slug == slug))
        if site is None:
            raise item.fail(field_name, f"unknown site {slug!r}")
        return site

    def vrf_id(self, item: Item, name: str | None, field_name: str = "vrf") -> int | None:
        """Return the id of the VRF called *name* (None: the global table)."""
        if not name:
            return None
        vrf = self.session.scalar(select(Vrf).where(Vrf.name == name))
        if vrf is None:
            raise item.fail(field_name, f"unknown VRF {name!r}")
        return vrf.id

    def device(self, item: Item, ref: str, field_name: str) -> Device:
        """Return a device by name (the file's first, then a unique one in the database).

        ``site/name`` picks a device of one site when names repeat across sites.
        """
        if ref in self.devices:
            return self.devices[ref]
        stmt = select(Device).where(Device.name == ref.rpartition("/")[2])
        if "/" in ref:
            stmt = stmt.join(Site, Site.id == Device.site_id).where(
                Site.slug == ref.partition("/")[0])
        found = self.session.scalars(stmt).all()
        if not found:
            raise item.fail(field_name, f"unknown device {ref!r}")
        if len(found) > 1:
            raise item.fail(field_name, f"device name {ref!r} exists at several sites; "
                                        "write it as site/name")
        return found[0]
