"""The main menu, assembled from the ``NAV`` lists of the registered blueprint modules.

A domain adds its pages to the menu by declaring ``NAV = [NavItem(...)]`` beside its
blueprint; nobody edits the base template, and each user sees only the entries their
role may open (the views check again: the menu is a convenience, not the guard).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from flask import Flask
from flask_login import current_user


@dataclass(frozen=True)
class NavItem:
    """One menu entry: endpoint, label (a lazy_gettext string), roles allowed (empty: all)."""

    endpoint: str
    label: Any
    roles: frozenset[str] = frozenset()
    order: int = 100


def register_nav(app: Flask, modules: Iterable[ModuleType]) -> None:
    """Collect every module's NAV and offer the caller's entries to templates."""
    items = sorted((item for m in modules for item in getattr(m, "NAV", ())),
                   key=lambda i: (i.order, str(i.label)))
    app.extensions["simpul_nav"] = items

    @app.context_processor
    def _nav() -> dict[str, Any]:
        if not current_user.is_authenticated:
            return {"nav_items": []}
        role = current_user.role
        visible = [i for i in items if not i.roles or role in i.roles or role == "admin"]
        return {"nav_items": visible}
