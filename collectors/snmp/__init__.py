"""collectors.snmp — see collectors/models.py for how the parts fit."""
