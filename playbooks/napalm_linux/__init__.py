"""NAPALM driver for the Linux system layer (files + reload commands), issue 6.

``napalm.get_network_driver("linux")`` finds :class:`LinuxDriver` through the alias
``napalm_linux`` -> ``playbooks.napalm_linux`` installed by ``playbooks/__init__.py``.
Only the driver class is exported here: NAPALM picks the first ``NetworkDriver``
subclass among this module's names.
"""

from __future__ import annotations

from playbooks.napalm_linux.driver import LinuxDriver

__all__ = ["LinuxDriver"]
