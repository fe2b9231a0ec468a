"""Playbooks: previewed, verified, reversible configuration changes (issue 6).

Importing this package makes NAPALM find the drivers shipped here:
``napalm.get_network_driver("frr")`` imports the community name ``napalm_frr``, which a
small meta-path finder answers with ``playbooks.napalm_frr`` (likewise ``napalm_linux``).
That keeps the drivers inside the project without a top-level ``napalm_*`` directory;
nornir-napalm (``platform: frr``) works once ``playbooks`` is imported, which the runner,
the CLI and the web app do.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType

# NAPALM community module name -> module in this package.
DRIVER_ALIASES = {"napalm_frr": "playbooks.napalm_frr",
                  "napalm_linux": "playbooks.napalm_linux"}


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(self.target)

    def exec_module(self, module: ModuleType) -> None:
        """The target module is already executed by create_module."""


class _DriverAliasFinder(importlib.abc.MetaPathFinder):
    """Answer ``import napalm_frr`` with ``playbooks.napalm_frr``."""

    def find_spec(self, fullname: str, path: object = None,
                  target: object = None) -> importlib.machinery.ModuleSpec | None:
        alias = DRIVER_ALIASES.get(fullname)
        if alias is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(alias))


def install_driver_aliases() -> None:
    """Register the finder once (idempotent)."""
    if not any(isinstance(f, _DriverAliasFinder) for f in sys.meta_path):
        sys.meta_path.append(_DriverAliasFinder())


install_driver_aliases()
