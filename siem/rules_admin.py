"""The rule list as people see it: rules from the files, switches and hit counts from the DB.

The web process reads the rule files itself (cached per process and folder set) rather
than asking the running service, so the list works while the service is down; a switch
flipped here reaches the service at its next sync (``state_save_s``, 30 s by default).
"""

from __future__ import annotations

import threading
from dataclasses import asdict
from datetime import UTC
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from siem.detect.engine import Detector
from siem.models import SiemRule
from simpul.errors import NotFoundError

_CACHE: dict[tuple[str, ...], Detector] = {}
_LOCK = threading.Lock()


def loaded_rules(dirs: tuple[str, ...] = ()) -> Detector:
    """The rules in the shipped and user folders (parsed once per process)."""
    with _LOCK:
        found = _CACHE.get(dirs)
        if found is None:
            found = _CACHE[dirs] = Detector.from_dirs(dirs)
        return found


def list_rules(session: Session, dirs: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every rule with its switch and hit count, and the files that did not load."""
    detector = loaded_rules(dirs)
    rows = {r.rule_id: r for r in session.scalars(select(SiemRule))}
    out = []
    for info in detector.rules():
        row = rows.get(info.rule_id)
        last = row.last_hit if row is not None else None
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        out.append({**asdict(info), "enabled": row.enabled if row is not None else True,
                    "hits": row.hits if row is not None else 0,
                    "last_hit": last.isoformat() if last else None})
    problems = [{"path": p.path, "rule": p.rule, "reason": p.reason}
                for p in detector.problems]
    return {"rules": out, "problems": problems}


def set_rule_enabled(session: Session, rule_id: str, enabled: bool,
                     dirs: tuple[str, ...] = ()) -> SiemRule:
    """Enable or disable one rule.

    Raises:
        NotFoundError: no loaded rule has that id.
    """
    if rule_id not in {r.rule_id for r in loaded_rules(dirs).rules()}:
        raise NotFoundError(f"rule {rule_id[:100]} not found")
    row = session.get(SiemRule, rule_id)
    if row is None:
        row = SiemRule(rule_id=rule_id, enabled=enabled, hits=0)
        session.add(row)
    row.enabled = enabled
    session.flush()
    return row
