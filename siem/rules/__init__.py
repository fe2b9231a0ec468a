"""Shipped detection rules (data files; the package marker makes them part of the wheel)."""
