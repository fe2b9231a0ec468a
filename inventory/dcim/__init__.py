"""DCIM services: sites, locations, racks, power, devices, interfaces, cables, outlets."""
