"""The simpul lab: a containerlab topology and a network-namespace runner for it."""

from __future__ import annotations

from pathlib import Path

DEFAULT_TOPOLOGY = Path(__file__).resolve().parent / "province" / "province.clab.yml"

__all__ = ["DEFAULT_TOPOLOGY"]
