"""The Lampiran II form as web-form inputs, and back to the object the service checks.

The API takes the form as one JSON object; the page lays the same sections out as
inputs named ``pse__<section>__<field>`` (list sections: ``pse__<section>__0__<field>``,
or one entry per line for the optional lists), so a paper form can be typed in section
by section. Checking stays in ``pse.validate_pse_form``: the page only reshapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webui.helpdesk.pse import (
    DATA_UMUM,
    OPTIONAL_LISTS,
    PENANGGUNG_JAWAB,
    PROFIL,
    REQUIRED_LISTS,
    TEXT,
)


@dataclass(frozen=True)
class PseSection:
    """One section of the page: an object, one row of a list, or free lines."""

    name: str
    shape: str  # "object" | "row" | "lines"
    fields: tuple[tuple[str, Any, bool], ...] = ()  # (name, TEXT or choices, required)


PSE_LAYOUT: tuple[PseSection, ...] = (
    PseSection("data_umum", "object",
               (*((n, k, True) for n, k in DATA_UMUM.items()), ("url", TEXT, False))),
    PseSection("profil_penyelenggara", "object", tuple((n, TEXT, True) for n in PROFIL)),
    PseSection("penanggung_jawab", "object", tuple((n, TEXT, True) for n in PENANGGUNG_JAWAB)),
    *(PseSection(section, "row", tuple((n, k, True) for n, k in row.items()))
      for section, row in REQUIRED_LISTS.items()),
    *(PseSection(section, "lines") for section in OPTIONAL_LISTS),
)


def _value(form: Any, key: str) -> str:
    return str(form.get(key) or "").strip()


def pse_form_from(form: Any) -> dict[str, Any]:
    """Return the Lampiran II object from the page's inputs (empty inputs left out)."""
    result: dict[str, Any] = {}
    for section in PSE_LAYOUT:
        prefix = f"pse__{section.name}__"
        if section.shape == "object":
            body = {n: v for n, _, _ in section.fields if (v := _value(form, prefix + n))}
            result[section.name] = body
        elif section.shape == "row":
            row = {n: v for n, _, _ in section.fields if (v := _value(form, f"{prefix}0__{n}"))}
            result[section.name] = [row] if row else []
        else:
            lines = [line.strip() for line in _value(form, prefix + "lines").splitlines()]
            if any(lines):
                result[section.name] = [{"uraian": line} for line in lines if line]
    return result
