"""Collect every package's tables into one metadata, for Alembic and for tests.

Domain packages (``inventory``, ``collectors``, ``siem``, ``nac``, ``webui``) keep their
tables in a ``models`` module; importing them here by name keeps ``simpul`` free of
import-time dependencies on the packages built on top of it.
"""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from simpul.models.base import Base
from simpul.plugins import optional_import

DOMAIN_MODEL_MODULES = (
    "inventory.models",
    "playbooks.models",
    "collectors.models",
    "siem.models",
    "nac.models",
    "webui.models",
)


def load_all_models() -> MetaData:
    """Import every package's models and return the shared metadata."""
    importlib.import_module("simpul.models")
    for name in DOMAIN_MODEL_MODULES:
        optional_import(name)
    return Base.metadata
