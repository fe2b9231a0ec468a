"""Input checks for work orders: what each type needs at intake, what each action carries.

One name means one kind everywhere (``prefix_id`` is always a positive integer,
``event_end`` always a timezone-aware ISO time), so the checks are a table, not code per
action. Every problem is collected and raised at once, keyed by field, before anything
is written.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from nac.models import DEVICE_TYPES
from simpul.errors import ValidationError
from webui.helpdesk.pse import validate_pse_form

PRIORITIES = ("low", "normal", "high", "critical")
CHANNELS = ("web", "walk_in", "phone", "letter", "api")
REQUESTER_CLASSES = ("umum", "vvip")
VVIP_TITLES = ("bupati", "wakil_bupati", "sekda", "asisten")

# kind of every field a transition may carry: "text", "int", "bool", "datetime",
# or a tuple of allowed values; ints carry (minimum, maximum)
FIELD_KINDS: dict[str, Any] = {
    "comment": "text", "reason": "text", "location": "text", "equipment": "text",
    "server": "text", "security_notes": "text",
    "ip_count": ("int", 1, 1024), "points": ("int", 1, 500),
    "participants": ("int", 1, 100_000), "devices_per_participant": ("int", 1, 10),
    "addresses_needed": ("int", 1, 65_536), "prefix_id": ("int", 1, None),
    "public_prefix_id": ("int", 1, None), "parent_prefix_id": ("int", 1, None),
    "u_height": ("int", 1, 50), "power_w": ("int", 0, 50_000),
    "wall_outlet": "bool", "server_condition": "bool", "software_legal": "bool",
    "app_complete": "bool", "security_scan": ("passed", "failed"),
    "event_end": "datetime", "expected_version": ("int", 1, None),
    "site_id": ("int", 1, None), "location_id": ("int", 1, None),
}
# optional fields per action (beyond the machine's required ones and "comment")
OPTIONAL_FIELDS: dict[str, tuple[str, ...]] = {
    "recommend": ("equipment", "devices_per_participant", "addresses_needed", "ip_count"),
    "record_checks": ("power_w", "security_notes"),
}


def _check(errors: dict[str, list[str]], name: str, value: Any, kind: Any = None) -> Any:
    kind = kind or FIELD_KINDS.get(name, "text")
    if kind == "text":
        if not isinstance(value, str):
            errors.setdefault(name, []).append("must be text")
        elif len(value) > 5000:
            errors.setdefault(name, []).append("at most 5000 characters")
        return value.strip() if isinstance(value, str) else value
    if kind == "bool":
        if not isinstance(value, bool):
            errors.setdefault(name, []).append("must be true or false")
        return value
    if kind == "datetime":
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            errors.setdefault(name, []).append("not an ISO 8601 date-time")
            return value
        if parsed.tzinfo is None:
            errors.setdefault(name, []).append("needs a timezone (e.g. +07:00)")
        return parsed.isoformat()
    if kind[0] == "int":
        _, low, high = kind
        if isinstance(value, bool) or not isinstance(value, int):
            errors.setdefault(name, []).append("must be a whole number")
        elif value < low or (high is not None and value > high):
            bound = f"from {low} to {high}" if high is not None else f"at least {low}"
            errors.setdefault(name, []).append(f"must be {bound}")
        return value
    if value not in kind:
        errors.setdefault(name, []).append(f"one of: {', '.join(kind)}")
    return value


def optional_fields(action: str, own: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Return the optional fields of *action*: the shared ones, then the type's own."""
    return tuple(dict.fromkeys((*OPTIONAL_FIELDS.get(action, ()), *own)))


def clean_action_fields(action: str, required: tuple[str, ...], fields: Mapping[str, Any],
                        optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """Return the typed fields of one transition; refuse unknown or badly typed ones.

    Raises:
        ValidationError: keyed by field.
    """
    allowed = {"comment", *required, *optional_fields(action, optional)}
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name, value in fields.items():
        if name not in allowed:
            errors.setdefault(name, []).append(f"not a field of {action!r}")
        elif value is not None:
            cleaned[name] = _check(errors, name, value)
    if errors:
        raise ValidationError(f"invalid fields for {action!r}: {', '.join(sorted(errors))}",
                              errors=errors)
    return cleaned


def addresses_for(participants: int, devices_per_participant: int = 1) -> int:
    """Return the addresses an event needs: every device plus 10 % spare (SOP 2.2.3)."""
    devices = participants * devices_per_participant
    return devices + math.ceil(devices / 10)  # integers: 200 devices need 220, not 221


def prefix_length_for(addresses: int, family: int = 4) -> int:
    """Return the longest prefix holding *addresses* plus network, broadcast and gateway."""
    bits = 32 if family == 4 else 128
    return bits - max(2, math.ceil(math.log2(addresses + 3)))


# intake: details each type needs from the requester (name -> kind), required ones
INTAKE: dict[str, dict[str, Any]] = {
    "permintaan": {},
    "pengaduan": {},
    "penambahan_ip": {"ip_count": ("int", 1, 1024), "location": "text"},
    "titik_koneksi": {"location": "text", "points": ("int", 1, 500)},
    "kegiatan_insidentil": {"event_name": "text", "location": "text",
                            "participants": ("int", 1, 100_000), "event_end": "datetime"},
    "penitipan_server": {"server": "text", "u_height": ("int", 1, 50),
                         "power_w": ("int", 0, 50_000)},
    "penitipan_aplikasi": {"app_name": "text"},
    "gangguan_aplikasi": {"app_name": "text"},
    "domain": {"kind": ("opd", "village"), "name": "text"},
    "pse": {"form": "form"},
    "pendaftaran_perangkat": {"mac": "text", "device_type": DEVICE_TYPES, "owner": "text",
                              "purpose": "text"},
}
INTAKE_OPTIONAL: dict[str, dict[str, Any]] = {
    "penambahan_ip": {"ip_kind": ("local", "public", "both")},
    "titik_koneksi": {"equipment": "text"},
    "domain": {"suffix": "text"},
    "gangguan_aplikasi": {"url": "text"},
    "pendaftaran_perangkat": {"expires_at": "datetime", "nac_role": "text"},
}


def clean_intake(type_: str, details: Any, *, requester_class: str, vvip_title: str,
                 priority: str, channel: str) -> dict[str, Any]:
    """Return the validated type-specific details of a new WO.

    Raises:
        ValidationError: every problem, keyed by field (``details.<name>`` for details).
    """
    errors: dict[str, list[str]] = {}
    if priority not in PRIORITIES:
        errors["priority"] = [f"one of: {', '.join(PRIORITIES)}"]
    if channel not in CHANNELS:
        errors["channel"] = [f"one of: {', '.join(CHANNELS)}"]
    if requester_class not in REQUESTER_CLASSES:
        errors["requester_class"] = ["umum or vvip"]
    elif requester_class == "vvip" and vvip_title not in VVIP_TITLES:
        errors["vvip_title"] = [f"one of: {', '.join(VVIP_TITLES)}"]
    if not isinstance(details, dict):
        errors["details"] = ["must be an object"]
        details = {}
    wanted = INTAKE.get(type_, {})
    optional = INTAKE_OPTIONAL.get(type_, {})
    cleaned: dict[str, Any] = {}
    for name in sorted(set(details) - set(wanted) - set(optional)):
        errors.setdefault(f"details.{name}", []).append("unknown field")
    for name, kind in {**wanted, **optional}.items():
        value = details.get(name)
        if value is None or value == "":
            if name in wanted:
                errors.setdefault(f"details.{name}", []).append("required")
            continue
        if kind == "form":
            try:
                cleaned[name] = validate_pse_form(value)
            except ValidationError as exc:
                for key, msgs in exc.errors.items():
                    errors.setdefault(f"details.form.{key}", []).extend(msgs)
            continue
        sub: dict[str, list[str]] = {}
        cleaned[name] = _check(sub, name, value, kind)
        for key, msgs in sub.items():
            errors.setdefault(f"details.{key}", []).extend(msgs)
    if errors:
        first = next(iter(errors))
        raise ValidationError(f"{first}: {errors[first][0]}", errors=errors)
    return cleaned
