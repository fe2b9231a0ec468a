"""Demo data of the probes part: the lab's web, mail and proxy probes (see seed.py)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from collectors.probes.seed import seed_lab_probes
from simpul.audit import Actor


def load_demo(session: Session) -> list[str]:
    """Add the lab probes that are missing; return what was created (for the summary)."""
    return [f"probe {p.name}" for p in seed_lab_probes(session, Actor.system("demo"))]
