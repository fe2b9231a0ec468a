"""Lab tests are marked ``lab`` and skipped (with the reason) when not root.

The ``lab`` fixture itself lives in ``tests/integration/conftest.py``: one lab per
test session, shared by every package's integration tests.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test here `lab`; skip them (with the reason) when not root."""
    here = str(Path(__file__).resolve().parent)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.lab)
            if os.geteuid() != 0:
                item.add_marker(pytest.mark.skip(
                    reason="the namespace lab needs root (netns, veth, bridges)"))
