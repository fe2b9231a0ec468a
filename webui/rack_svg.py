"""Rack elevation drawings: one server-rendered SVG with the front and rear side by side.

Pure string building from an ``inventory.reports.RackView`` — no database, no request —
so the same drawing is inlined in the rack page and served as ``elevation.svg``. Colours
are SVG presentation attributes, not ``style``: the CSP forbids inline styles, and
presentation attributes are not styles. Every text and attribute value is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from html import escape

from flask_babel import gettext as _

from inventory.reports import RackDevice, RackView

U_PX = 22          # height of one rack unit
FACE_W = 240       # width of a face's mounting area
NUM_W = 30         # unit-number column left of each face
GAP = 36           # between the two faces
MARGIN = 12
HEADER = 70        # title, power and units lines
FACE_LABEL = 22
CHAR_PX = 7        # rough width of one 12 px character, to shorten long names

ROLE_FILLS = {
    "core": "#1f5fa8", "distribution": "#2d73c0", "access": "#4a8bd0", "edge": "#175a8a",
    "router": "#175a8a", "switch": "#4a8bd0", "firewall": "#b3261e", "vpn": "#8a3ca8",
    "radius": "#6b4fa8", "server": "#2e7d4f", "storage": "#3f8f6a", "host": "#2e7d4f",
    "pdu": "#7a6a2e", "patch-panel": "#5b6474",
}
DEFAULT_FILL = "#5b6474"
HIDDEN_FILL = "#9aa3b2"


def _a(value: object) -> str:
    """Escape a value for an attribute or text node."""
    return escape(str(value), quote=True)


def _fit(text: str, width: int) -> str:
    limit = max(3, (width - 12) // CHAR_PX)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def unit_top(view: RackView, unit: int) -> int:
    """Return the y of the top edge of *unit*; unit 1 is at the bottom unless descending."""
    top = HEADER + FACE_LABEL
    if view.desc_units:
        return top + (unit - 1) * U_PX
    return top + (view.u_height - unit) * U_PX


def span_box(view: RackView, position: int, height: int) -> tuple[int, int]:
    """Return (y, height in px) of a span of *height* units starting at *position*."""
    upper = position if view.desc_units else position + height - 1
    return unit_top(view, upper), height * U_PX


def _runs(units: Iterable[int]) -> list[tuple[int, int]]:
    """Return contiguous runs of units as (first, length)."""
    runs: list[tuple[int, int]] = []
    for u in sorted(set(units)):
        if runs and runs[-1][0] + runs[-1][1] == u:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((u, 1))
    return runs


def _device(view: RackView, dev: RackDevice, face: str, x: int,
            device_url: Callable[[int], str] | None) -> str:
    y, h = span_box(view, dev.position, dev.u_height)
    mounted = dev.face == face
    if dev.hidden:
        label, fill = _("occupied"), HIDDEN_FILL
    else:
        label, fill = dev.name, ROLE_FILLS.get(dev.role, DEFAULT_FILL)
    cls = "device" + ("" if mounted else " device-far") + (" device-hidden" if dev.hidden else "")
    title = label if dev.hidden else _("%(name)s (%(role)s, U%(first)s-U%(last)s, %(face)s)",
                                        name=dev.name, role=dev.role, first=dev.position,
                                        last=dev.position + dev.u_height - 1,
                                        face=_("front") if dev.face == "front" else _("rear"))
    # A far-face box is drawn lighter over a white underlay, so the unit grid stays hidden.
    under = "" if mounted else (f'<rect x="{x + 2}" y="{y + 1}" width="{FACE_W - 4}" '
                                f'height="{h - 2}" rx="3" fill="#fff"/>')
    body = under + (f'<rect class="{cls}" x="{x + 2}" y="{y + 1}" width="{FACE_W - 4}" '
            f'height="{h - 2}" rx="3" fill="{fill}" fill-opacity="{1 if mounted else 0.55}" '
            f'stroke="#10253f" stroke-width="1"'
            + ("" if dev.hidden else f' data-device-id="{dev.id}" data-name="{_a(dev.name)}"')
            + f' data-face="{face}" data-units="{dev.u_height}"/>'
            f'<text x="{x + FACE_W // 2}" y="{y + h // 2 + 4}" text-anchor="middle" '
            f'font-size="12" font-weight="600" fill="#fff">{_a(_fit(label, FACE_W))}</text>')
    if device_url is None or dev.hidden:
        return f'<g class="rack-device"><title>{_a(title)}</title>{body}</g>'
    return (f'<a class="rack-device" href="{_a(device_url(dev.id))}">'
            f'<title>{_a(title)}</title>{body}</a>')


def _face(view: RackView, face: str, x: int,
          device_url: Callable[[int], str] | None) -> list[str]:
    top = HEADER + FACE_LABEL
    caption = _("Front") if face == "front" else _("Rear")
    out = [f'<g class="rack-face" data-face="{face}">',
           f'<text x="{x + FACE_W // 2}" y="{top - 7}" text-anchor="middle" font-size="13" '
           f'font-weight="700" fill="#1d2330">{_a(caption)}</text>',
           f'<rect x="{x - 1}" y="{top - 1}" width="{FACE_W + 2}" '
           f'height="{view.u_height * U_PX + 2}" fill="#fff" stroke="#10253f" stroke-width="2"/>']
    for unit in range(1, view.u_height + 1):
        y = unit_top(view, unit)
        out.append(f'<rect class="u-free" x="{x}" y="{y}" width="{FACE_W}" height="{U_PX}" '
                   f'fill="#fff" stroke="#e1e4ea" data-unit="{unit}"/>')
        out.append(f'<text class="u-label" x="{x - 6}" y="{y + U_PX // 2 + 4}" '
                   f'text-anchor="end" font-size="11" fill="#5b6474">{unit}</text>')
    for hold in view.reservations:
        for first, length in _runs(hold.units):
            y, h = span_box(view, first, length)
            what = _("reserved: %(opd)s", opd=hold.opd_code) if hold.opd_code \
                else _("reserved")
            title = f"{what} — {hold.description}" if hold.description else what
            out.append(f'<g class="rack-reservation"><title>{_a(title)}</title>'
                       f'<rect class="u-reserved" x="{x}" y="{y}" width="{FACE_W}" '
                       f'height="{h}" fill="url(#rack-hatch)" stroke="#c98a00" '
                       f'data-first="{first}" data-units="{length}"/>'
                       f'<text x="{x + FACE_W // 2}" y="{y + h // 2 + 4}" '
                       f'text-anchor="middle" font-size="12" font-weight="600" '
                       f'fill="#6b4a00">{_a(_fit(what, FACE_W))}</text></g>')
    for dev in view.devices:
        if dev.face == face or dev.full_depth:
            out.append(_device(view, dev, face, x, device_url))
    out.append("</g>")
    return out


def header_lines(view: RackView) -> list[str]:
    """Return the header's texts: rack and site, power use, units used.

    Reserved watts (promised to a colocation, not drawn yet) are shown apart from the
    draw, and count in the percentage: they are not free to promise again.
    """
    draw, reserved = view.power_draw_w, view.power_reserved_w
    if view.power_limit_w and reserved:
        power = _("Power: draw %(draw)s W + reserved %(reserved)s W of %(limit)s W "
                  "(%(pct)s%%)", draw=draw, reserved=reserved, limit=view.power_limit_w,
                  pct=view.power_percent)
    elif view.power_limit_w:
        power = _("Power: %(draw)s W of %(limit)s W (%(pct)s%%)", draw=draw,
                  limit=view.power_limit_w, pct=view.power_percent)
    elif reserved:
        power = _("Power: draw %(draw)s W + reserved %(reserved)s W (no budget set)",
                  draw=draw, reserved=reserved)
    else:
        power = _("Power: %(draw)s W (no budget set)", draw=draw)
    units = _("Units used: %(used)s of %(total)sU", used=view.units_used, total=view.u_height)
    return [f"{view.name} · {view.site_name}", power, units]


def render_elevation(view: RackView, *,
                     device_url: Callable[[int], str] | None = None) -> str:
    """Return the SVG drawing of *view*: header, then front and rear faces side by side.

    Args:
        view: the rack as ``inventory.reports.rack_view`` builds it.
        device_url: maps a device id to its page, making each box a link (and a Tab stop).
    """
    width = 2 * (NUM_W + FACE_W) + GAP + 2 * MARGIN
    height = HEADER + FACE_LABEL + view.u_height * U_PX + MARGIN
    title_id = f"rack-{view.id}-title"
    lines = header_lines(view)
    over = view.power_percent is not None and view.power_percent > 100
    title = _("Rack elevation of %(name)s", name=view.name)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="rack-elevation" role="img" '
           f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           f'font-family="system-ui, \'Segoe UI\', Roboto, sans-serif" '
           f'aria-labelledby="{title_id}">',
           f'<title id="{title_id}">{_a(title)}</title>',
           '<defs><pattern id="rack-hatch" patternUnits="userSpaceOnUse" width="8" height="8" '
           'patternTransform="rotate(45)"><rect width="8" height="8" fill="#fff4d6"/>'
           '<line x1="0" y1="0" x2="0" y2="8" stroke="#c98a00" stroke-width="3"/></pattern>'
           '</defs>',
           f'<text class="rack-name" x="{MARGIN}" y="22" font-size="16" font-weight="700" '
           f'fill="#1d2330">{_a(lines[0])}</text>',
           f'<text class="rack-power" x="{MARGIN}" y="42" font-size="13" '
           f'fill="{"#b3261e" if over else "#1d2330"}">{_a(lines[1])}</text>',
           f'<text class="rack-units" x="{MARGIN}" y="60" font-size="13" '
           f'fill="#1d2330">{_a(lines[2])}</text>']
    out += _face(view, "front", MARGIN + NUM_W, device_url)
    out += _face(view, "rear", MARGIN + 2 * NUM_W + FACE_W + GAP, device_url)
    out.append("</svg>")
    return "\n".join(out)
