"""Finding playbook modules by name: ``playbooks/<name>.py`` with the contract's names."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from playbooks.base import PlaybookError

# The playbooks of issue 6, in the order `simpul run --help` lists them.
KNOWN = ("backbone", "vpn", "nac", "baseline", "bandwidth")
REQUIRED = ("NAME", "DESCRIPTION", "select", "render", "verify")


def get(name: str) -> ModuleType:
    """Return the playbook module *name*.

    Raises:
        PlaybookError: unknown name, or the module lacks a name the contract requires.
    """
    if name not in KNOWN:
        raise PlaybookError(f"unknown playbook {name!r}; known: {', '.join(names()) or 'none'}",
                            errors={"playbook": ["unknown playbook"]})
    try:
        module = importlib.import_module(f"playbooks.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"playbooks.{name}":
            raise PlaybookError(f"playbook {name!r} is not installed",
                                errors={"playbook": ["not installed"]}) from None
        raise
    missing = [attr for attr in REQUIRED if not hasattr(module, attr)]
    if missing:
        raise PlaybookError(f"playbook {name!r} lacks {', '.join(missing)}")
    return module


def names() -> list[str]:
    """Return the names of the playbooks present in this installation."""
    found = []
    for name in KNOWN:
        try:
            importlib.util.find_spec(f"playbooks.{name}")
        except (ImportError, ValueError):
            continue
        if importlib.util.find_spec(f"playbooks.{name}") is not None:
            found.append(name)
    return found


def describe() -> dict[str, str]:
    """Return {name: description} of the playbooks present (for --help and the UI)."""
    result = {}
    for name in names():
        try:
            result[name] = str(get(name).DESCRIPTION)
        except PlaybookError as exc:
            result[name] = f"(unusable: {exc})"
    return result
