"""Pure rack arithmetic: which (face, unit) slots a device holds, where a device fits.

Units are numbered from 1 at the bottom; ``position`` is a device's lowest unit. A
full-depth device holds its units on both faces; a half-depth one only on its face.
"""

from __future__ import annotations

from collections.abc import Iterable

Slot = tuple[str, int]


def device_slots(position: int, u_height: int, face: str, full_depth: bool) -> set[Slot]:
    """Return the (face, unit) slots of a device mounted at *position*."""
    faces = ("front", "rear") if full_depth else (face,)
    return {(f, u) for f in faces for u in range(position, position + u_height)}


def free_runs(rack_height: int, blocked: Iterable[int]) -> list[tuple[int, int]]:
    """Return maximal runs of free units as (first unit, length), bottom first."""
    taken = set(blocked)
    runs: list[tuple[int, int]] = []
    start = None
    for unit in range(1, rack_height + 2):
        free = unit <= rack_height and unit not in taken
        if free and start is None:
            start = unit
        elif not free and start is not None:
            runs.append((start, unit - start))
            start = None
    return runs


def blocked_units(occupied: Iterable[Slot], face: str, full_depth: bool) -> set[int]:
    """Return the units unusable for a device on *face* (both faces when full depth)."""
    faces = {"front", "rear"} if full_depth else {face}
    return {unit for f, unit in occupied if f in faces}


def best_fit(rack_height: int, blocked: Iterable[int], u_height: int) -> tuple[int, int] | None:
    """Return (position, run length) in the smallest free run that holds *u_height* units.

    Best fit keeps large runs whole for large devices; ties go to the lowest unit.
    """
    fitting = [run for run in free_runs(rack_height, blocked) if run[1] >= u_height]
    if not fitting:
        return None
    start, length = min(fitting, key=lambda run: (run[1], run[0]))
    return start, length
