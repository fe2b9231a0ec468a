"""Errors the lab raises: one clear line for the user, never a traceback."""

from __future__ import annotations

from simpul.errors import SimpulError


class LabError(SimpulError):
    """The lab cannot do what was asked (not root, not up, unknown node, bad file...)."""


class TopologyError(LabError):
    """The topology file is missing or invalid."""
