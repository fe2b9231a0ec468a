"""Playbook ``baseline``: the security baseline of REQUIREMENTS.md on every device.

Unneeded services off, SSH on a non-standard port, management only from the management
subnet (ACL), SNMPv3 only, syslog to the SIEM, NTP, a login banner, password
encryption and an idle timeout — values from ``playbooks.audit.policy`` (``SIMPUL_BASELINE_*``).
``simpul audit`` checks the same rules and renders each failure's remediation from
these same templates (``want(rule)`` keeps only that rule's lines).

Layers: FRR routers get the vtysh side (``frr``); Linux servers the system layer
(``linux``: sshd, snmpd, rsyslog, chrony, nftables). The Linux layer of FRR boxes is
rendered only with ``SIMPUL_BASELINE_ROUTER_LINUX=on`` (in the lab the boxes share the
host's filesystem, so it stays off there). ``ios``, ``eos``, ``junos`` and ``ros`` are
rendered and golden-tested only.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from playbooks.audit.policy import BaselinePolicy, load_policy
from playbooks.base import RenderContext, render_template

if TYPE_CHECKING:
    from napalm.base import NetworkDriver
    from nornir.core.inventory import Host

NAME = "baseline"
DESCRIPTION = "Security baseline: services, SSH port, management ACL, SNMPv3, syslog, NTP, banner"

# simpul platform -> baseline layer (a NAPALM driver name of the contract)
LAYER_OF_PLATFORM = {"frr": "frr", "linux": "linux", "ios": "ios", "iosxe": "ios",
                     "eos": "eos", "junos": "junos", "routeros": "ros", "ros": "ros"}


def _want(only: Iterable[str] | None) -> Callable[[str], bool]:
    chosen = None if only is None else set(only)
    return lambda rule: chosen is None or rule in chosen


def render_baseline(layer: str, policy: BaselinePolicy, *, name: str = "", role: str = "",
                    only: Iterable[str] | None = None) -> str:
    """Render the baseline of *layer* for one device (or only the lines of rules *only*)."""
    nets = policy.networks()
    return render_template(
        layer, "baseline", p=policy, want=_want(only), mgmt=nets,
        mgmt4=[str(n) for n in nets if n.version == 4],
        ports=policy.ports_for(name, role), device=name, role=role)


def router_linux_layer() -> bool:
    """Return whether FRR boxes also get the Linux layer (``SIMPUL_BASELINE_ROUTER_LINUX``)."""
    return os.environ.get("SIMPUL_BASELINE_ROUTER_LINUX", "").lower() in ("1", "on", "yes", "true")


def layers_for(platform: str) -> list[str]:
    """Return the baseline layers of a device of simpul *platform*."""
    layer = LAYER_OF_PLATFORM.get(platform)
    if layer is None:
        return []
    if layer == "frr" and router_linux_layer():
        return ["frr", "linux"]
    return [layer]


def _policy(ctx: RenderContext) -> BaselinePolicy:
    if "baseline_policy" not in ctx.cache:
        ctx.cache["baseline_policy"] = load_policy()
    return ctx.cache["baseline_policy"]


def select(host: Host) -> bool:
    """Every device of a platform the baseline knows."""
    return bool(layers_for(str(host.data.get("platform") or "")))


def render(host: Host, ctx: RenderContext) -> dict[str, str]:
    """Return the baseline candidate per layer of *host*."""
    policy = _policy(ctx)
    name, role = host.data.get("device_name") or host.name, host.data.get("role") or ""
    return {layer: render_baseline(layer, policy, name=name, role=role)
            for layer in layers_for(str(host.data.get("platform") or ""))}


def verify(host: Host, ctx: RenderContext, devices: dict[str, NetworkDriver]) -> list[str]:
    """Audit the committed FRR config: every baseline rule of the vtysh side must pass."""
    from playbooks.audit.rules import check_config

    if "frr" not in devices:
        return []
    running = devices["frr"].get_config(retrieve="running")["running"]
    results = check_config("frr", {"frr": running}, _policy(ctx), name=host.name)
    return [f"{r.rule_id}: {r.detail}" for r in results if r.status == "fail"]


def mgmt_networks(policy: BaselinePolicy) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The management subnets (for callers that need them as networks)."""
    return policy.networks()
