"""simpul — network and data-center infrastructure management for a Diskominfo.

The thin core: settings, database, users/roles/OPD tenants, audit log, logging, CLI.
Domain packages (inventory, playbooks, collectors, siem, nac) build on it; webui on them.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("simpul")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
