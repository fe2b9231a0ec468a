"""Demo data of every collector part that has some, for ``simpul demo load``."""

from __future__ import annotations

from sqlalchemy.orm import Session

from simpul.plugins import optional_import

PART_DEMO_MODULES = ("collectors.probes.demo",)


def load_demo(session: Session) -> list[str]:
    """Load each part's demo data; return what was created, for the summary."""
    created: list[str] = []
    for name in PART_DEMO_MODULES:
        module = optional_import(name)
        if module is not None:
            created.extend(module.load_demo(session))
    return created
