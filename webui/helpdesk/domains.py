"""Domain-name rules of Perbup Sidoarjo 46/2018 (Lampiran V) and the regency's domain.

OPD sites use a sub-domain of the regency's domain (``dinkes.sidoarjokab.go.id``).
Village sites use ``<name or abbreviation>.desa.id``; when that is taken by a village
elsewhere, the district or regency is appended: ``krsambung-kebumen.desa.id``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from simpul.errors import ConflictError, ValidationError

REGENCY_DOMAIN = "sidoarjokab.go.id"
VILLAGE_DOMAIN = "desa.id"
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def normalise_label(text: str, field: str = "name") -> str:
    """Return *text* as a DNS label (lower case, spaces to hyphens), or raise."""
    label = re.sub(r"\s+", "-", text.strip().lower())
    if not _LABEL.match(label) or "--" in label:
        raise ValidationError(
            f"{text!r} is not a valid domain label (letters, digits and single hyphens, "
            "1-63 characters, not starting or ending with a hyphen)",
            errors={field: ["not a valid domain label"]})
    return label


def opd_domain(name: str, regency_domain: str = REGENCY_DOMAIN) -> str:
    """Return the OPD sub-domain for *name* (``dinkes`` -> ``dinkes.sidoarjokab.go.id``)."""
    return f"{normalise_label(name)}.{regency_domain}"


def village_domain(name: str, suffix: str = "") -> str:
    """Return ``<name>.desa.id``, or ``<name>-<suffix>.desa.id`` with a clash suffix."""
    label = normalise_label(name)
    if suffix:
        label = normalise_label(f"{label}-{normalise_label(suffix, 'suffix')}")
    return f"{label}.{VILLAGE_DOMAIN}"


def choose_domain(kind: str, name: str, suffix: str, is_taken: Callable[[str], bool],
                  regency_domain: str = REGENCY_DOMAIN) -> str:
    """Return the name to register, applying the clash rule; refuse taken names.

    A village whose plain name is taken gets the suffix when one is given; without a
    suffix the error says which name to try.

    Raises:
        ValidationError: bad kind or label.
        ConflictError: the name (and, for villages, the suffixed name) is taken.
    """
    if kind == "opd":
        fqdn = opd_domain(name, regency_domain)
        if is_taken(fqdn):
            raise ConflictError(f"{fqdn} is already registered", errors={"name": ["taken"]})
        return fqdn
    if kind != "village":
        raise ValidationError("kind must be opd or village", errors={"kind": ["opd or village"]})
    plain = village_domain(name)
    if not is_taken(plain):
        return plain
    if not suffix:
        raise ConflictError(f"{plain} is already registered; give the district or regency "
                            "as suffix (e.g. krsambung-kebumen.desa.id)",
                            errors={"suffix": ["required: the name is taken"]})
    suffixed = village_domain(name, suffix)
    if is_taken(suffixed):
        raise ConflictError(f"{suffixed} is already registered", errors={"suffix": ["taken"]})
    return suffixed
