"""nac — only registered devices join the network.

The register (``nac.register``), the pure policy (``nac.policy``), the RADIUS decisions
FreeRADIUS asks for through rlm_rest (``nac.decide``), accounting (``nac.accounting``)
and the generated FreeRADIUS configuration (``nac.radiusconf``). See ``nac/README.md``.
"""
