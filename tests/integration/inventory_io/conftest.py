"""Fixtures for the import/export tests on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest

from simpul.audit import Actor
from tests.integration.inventory_io.samples import SAMPLE

REPO = Path(__file__).resolve().parents[3]
CLAB = REPO / "labs" / "province" / "province.clab.yml"
LAB_YAML = REPO / "inventory" / "lab" / "province.yml"


@pytest.fixture
def actor() -> Actor:
    """The actor imports in tests are recorded under."""
    return Actor.system("test")


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """The sample inventory written to a file."""
    path = tmp_path / "sample.yml"
    path.write_text(SAMPLE)
    return path
