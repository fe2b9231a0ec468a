"""Finding the optional pieces that later packages contribute (CLI groups, services, demo data).

``simpul`` stays the bottom layer: it never imports the packages built on it at import
time, it asks for them by name at run time and carries on when one is not there.
"""

from __future__ import annotations

import importlib
from types import ModuleType


def optional_import(module_name: str) -> ModuleType | None:
    """Import *module_name*, or return None when that module (or its package) does not exist.

    A ModuleNotFoundError raised for anything else — a real missing dependency inside
    the module — is re-raised, so a broken plugin is never silently skipped.
    """
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        parents = {module_name.rsplit(".", i)[0] for i in range(module_name.count(".") + 1)}
        if exc.name in parents:
            return None
        raise
