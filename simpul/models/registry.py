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
    "webui.helpdesk.models",
)


def table_packages() -> dict[str, str]:
    """Map every table name to the top-level package whose model defines it."""
    load_all_models()
    owners: dict[str, str] = {}
    for mapper in Base.registry.mappers:
        package = mapper.class_.__module__.split(".", 1)[0]
        for table in mapper.tables:
            owners[table.name] = package
    for table in Base.metadata.tables.values():  # plain Table() objects say so in info
        if "package" in table.info:
            owners[table.name] = table.info["package"]
    return owners


def load_all_models() -> MetaData:
    """Import every package's models and return the shared metadata."""
    importlib.import_module("simpul.models")
    for name in DOMAIN_MODEL_MODULES:
        optional_import(name)
    return Base.metadata
