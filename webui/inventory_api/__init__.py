"""The inventory's JSON REST API: NetBox's paths and payloads under ``/api/``.

``bp`` (name ``inventory_api``) carries every route; each module registers one area's
resources on it when imported. The app factory registers ``bp`` when this package exists.
``/api/dcim/``, ``/api/ipam/`` and ``/api/tenancy/`` list their endpoints, as NetBox's
API root does, so a client can discover them.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_login import login_required

from webui.inventory_api import (  # noqa: F401  (each import registers its routes)
    bandwidth,
    devices,
    interfaces,
    ip_addresses,
    prefixes,
    racks,
    sites,
    tenants,
    vlans,
    vrfs,
)
from webui.inventory_api.resource import bp
from webui.inventory_api.serializers import MODEL_PATHS
from webui.openapi import spec

__all__ = ["bp"]


def _index(app_label: str) -> Any:
    """Return ``{endpoint: absolute URL}`` for one NetBox app (dcim, ipam, tenancy)."""
    root = request.host_url.rstrip("/")
    paths = sorted(p for p in MODEL_PATHS.values() if p.startswith(f"/api/{app_label}/"))
    return jsonify({p.rstrip("/").rsplit("/", 1)[-1]: f"{root}{p}" for p in paths})


def _register_index(app_label: str) -> None:
    def view() -> Any:
        return _index(app_label)

    view.__name__ = f"{app_label}_index"  # before spec.operation: it names the operation
    documented = spec.operation(f"/api/{app_label}/", "GET", tag=app_label,
                                summary=f"The {app_label} endpoints",
                                response={"type": "object",
                                          "additionalProperties": {"type": "string"}})(view)
    bp.add_url_rule(f"/{app_label}/", endpoint=view.__name__,
                    view_func=login_required(documented))


for _label in ("dcim", "ipam", "tenancy"):
    _register_index(_label)
