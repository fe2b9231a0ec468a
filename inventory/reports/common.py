"""Paging and lookups every inventory view model shares."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from inventory.models import Vrf
from simpul.models import Opd

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, with what the pager needs."""

    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """Return the number of pages (at least 1)."""
        return max(1, -(-self.total // self.per_page))


def paginate(session: Session, stmt: Select[Any], page: int, per_page: int, *,
             scalars: bool = True) -> Page[Any]:
    """Run *stmt* for one page (LIMIT/OFFSET in SQL) and count the whole result."""
    page = max(1, page)
    total = session.scalar(select(func.count()).select_from(
        stmt.order_by(None).subquery())) or 0
    limited = stmt.limit(per_page).offset((page - 1) * per_page)
    rows = session.scalars(limited).all() if scalars else session.execute(limited).all()
    return Page(list(rows), int(total), page, per_page)


def opd_codes(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Return OPD id -> code for the given ids (one query)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(session.execute(select(Opd.id, Opd.code).where(Opd.id.in_(wanted))).all())


def vrf_names(session: Session) -> dict[int, str]:
    """Return vrf_key -> name, with 0 for the global table."""
    return {0: "global", **dict(session.execute(select(Vrf.id, Vrf.name)).all())}




def like(q: str, *, start: bool = False) -> str:
    """Return a LIKE pattern for *q* with its wildcards escaped (escape char ``\\``)."""
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%" if start else f"%{escaped}%"
