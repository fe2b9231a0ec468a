"""collectors.flows — see collectors/models.py for how the parts fit."""
