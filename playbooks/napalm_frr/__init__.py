"""NAPALM driver for FRR (``napalm.get_network_driver("frr")`` after ``import playbooks``).

NAPALM returns the first ``NetworkDriver`` subclass it finds in this module's namespace
(alphabetically), so only ``FRRDriver`` is exported here.
"""

from __future__ import annotations

from playbooks.napalm_frr.driver import FRRDriver

__all__ = ["FRRDriver"]
