"""``/metrics``: the SNMP poller's latest state in Prometheus text format.

Existing Prometheus/Grafana users scrape simpul like any exporter. Who may scrape:

- a scraper sending ``Authorization: Bearer <SIMPUL_METRICS_TOKEN>`` (Prometheus:
  ``authorization: {credentials_file: ...}`` in the scrape config);
- a client whose address is in ``SIMPUL_METRICS_ALLOW`` (comma-separated addresses or
  CIDRs, e.g. ``127.0.0.1,10.10.30.0/24``; the peer address of the connection, never
  ``X-Forwarded-For``);
- a signed-in user or an API token (``Authorization: Token ...``).

Anyone else gets 401. Every value is read from the database at scrape time, so any
number of simpul processes (pollers, Celery workers) show up through one endpoint.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, request
from flask_login import current_user
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import select
from sqlalchemy.orm import Session

from collectors.snmp import queries
from collectors.snmp.models import SnmpInterface
from collectors.snmp.settings import SnmpSettings, load_snmp_settings
from inventory.models import Device
from webui.extensions import app_context, csrf

bp = Blueprint("metrics", __name__)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_IF_LABELS = ["device", "ifname", "ifindex", "ifalias"]


def _settings() -> SnmpSettings:
    from flask import current_app

    found = current_app.extensions.get("simpul.snmp_settings")
    if found is None:
        found = load_snmp_settings()
        current_app.extensions["simpul.snmp_settings"] = found
    return found


def _allowed_address(allow: tuple[str, ...], remote: str | None) -> bool:
    if not allow or not remote:
        return False
    try:
        addr = ipaddress.ip_address(remote)
    except ValueError:
        return False
    for entry in allow:
        try:
            if addr in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def authorised(settings: SnmpSettings) -> bool:
    """True when the request may read the metrics (bearer token, allow-list or a user)."""
    scheme, _sep, credential = request.headers.get("Authorization", "").partition(" ")
    if (settings.metrics_token and scheme.lower() == "bearer"
            and hmac.compare_digest(credential.strip().encode(),
                                    settings.metrics_token.encode())):
        return True
    if _allowed_address(settings.metrics_allow, request.remote_addr):
        return True
    return bool(current_user.is_authenticated)


class SnmpCollector:
    """A prometheus_client collector reading the SNMP tables once per scrape."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def collect(self) -> Iterator[Metric]:
        s = self.session
        up = GaugeMetricFamily("simpul_snmp_device_up",
                               "1 when the last SNMP poll of the device succeeded.",
                               labels=["device", "address"])
        failures = GaugeMetricFamily("simpul_snmp_device_consecutive_failures",
                                     "Failed SNMP polls in a row.", labels=["device"])
        duration = GaugeMetricFamily("simpul_snmp_poll_duration_seconds",
                                     "Duration of the last poll of the device.", labels=["device"])
        uptime = GaugeMetricFamily("simpul_snmp_device_uptime_seconds",
                                   "sysUpTime at the last successful poll.", labels=["device"])
        last = GaugeMetricFamily("simpul_snmp_last_poll_timestamp_seconds",
                                 "When the device was last polled (Unix time).",
                                 labels=["device"])
        for d in queries.list_device_reachability(s):
            up.add_metric([d.device_name, d.address], 1.0 if d.reachable else 0.0)
            failures.add_metric([d.device_name], float(d.consecutive_failures))
            if d.poll_seconds is not None:
                duration.add_metric([d.device_name], d.poll_seconds)
            if d.uptime_seconds is not None:
                uptime.add_metric([d.device_name], d.uptime_seconds)
            if d.last_poll is not None:
                last.add_metric([d.device_name], d.last_poll.timestamp())
        yield from (up, failures, duration, uptime, last)
        yield from self._interfaces()
        yield from self._hosts()
        yield from self._opds()

    def _interfaces(self) -> Iterator[Metric]:
        counters = {
            name: CounterMetricFamily(f"simpul_interface_{name}", help_, labels=_IF_LABELS)
            for name, help_ in (
                ("in_octets", "Octets received (ifHCInOctets, or ifInOctets)."),
                ("out_octets", "Octets sent (ifHCOutOctets, or ifOutOctets)."),
                ("in_errors", "Inbound errors (ifInErrors)."),
                ("out_errors", "Outbound errors (ifOutErrors)."),
                ("in_discards", "Inbound discards (ifInDiscards)."),
                ("out_discards", "Outbound discards (ifOutDiscards)."))}
        gauges = {
            name: GaugeMetricFamily(f"simpul_interface_{name}", help_, labels=_IF_LABELS)
            for name, help_ in (
                ("in_bps", "Inbound rate over the last poll interval, bits/s."),
                ("out_bps", "Outbound rate over the last poll interval, bits/s."),
                ("speed_bps", "Interface speed (ifHighSpeed or ifSpeed), bits/s."),
                ("oper_up", "1 when ifOperStatus is up."),
                ("admin_up", "1 when ifAdminStatus is up."),
                ("last_change_timestamp_seconds", "When the oper status last changed."))}
        rows = self.session.execute(
            select(SnmpInterface, Device.name).join(Device, Device.id == SnmpInterface.device_id)
            .order_by(Device.name, SnmpInterface.if_index))
        for row, device in rows:
            labels = [device, row.name or row.descr, str(row.if_index), row.alias]
            for name, metric in counters.items():
                value = getattr(row, name)
                if value is not None:
                    metric.add_metric(labels, float(value))
            for name in ("in_bps", "out_bps", "speed_bps"):
                value = getattr(row, name)
                if value is not None:
                    gauges[name].add_metric(labels, float(value))
            gauges["oper_up"].add_metric(labels, 1.0 if row.oper_status == "up" else 0.0)
            gauges["admin_up"].add_metric(labels, 1.0 if row.admin_status == "up" else 0.0)
            if row.last_change_ts is not None:
                gauges["last_change_timestamp_seconds"].add_metric(labels, row.last_change_ts)
        yield from counters.values()
        yield from gauges.values()

    def _hosts(self) -> Iterator[Metric]:
        cpu = GaugeMetricFamily("simpul_host_cpu_percent", "CPU load (hrProcessorLoad mean).",
                                labels=["device"])
        mem = GaugeMetricFamily("simpul_host_memory_used_percent",
                                "Memory used excluding buffers and cache.", labels=["device"])
        disk = GaugeMetricFamily("simpul_host_disk_max_used_percent",
                                 "The fullest disk's use.", labels=["device"])
        storage = GaugeMetricFamily("simpul_host_storage_used_bytes",
                                    "Used bytes per storage area (hrStorageTable).",
                                    labels=["device", "storage", "kind"])
        size = GaugeMetricFamily("simpul_host_storage_size_bytes",
                                 "Size per storage area (hrStorageTable).",
                                 labels=["device", "storage", "kind"])
        for h in queries.list_host_resources(self.session):
            for metric, value in ((cpu, h.cpu_pct), (mem, h.mem_pct), (disk, h.disk_max_pct)):
                if value is not None:
                    metric.add_metric([h.device_name], value)
            for st in h.storages:
                storage.add_metric([h.device_name, st.descr, st.kind], float(st.used_bytes))
                size.add_metric([h.device_name, st.descr, st.kind], float(st.size_bytes))
        yield from (cpu, mem, disk, storage, size)

    def _opds(self) -> Iterator[Metric]:
        in_bps = GaugeMetricFamily("simpul_opd_in_bps", "Traffic into the OPD (its uplinks).",
                                   labels=["opd"])
        out_bps = GaugeMetricFamily("simpul_opd_out_bps", "Traffic out of the OPD.",
                                    labels=["opd"])
        alloc = GaugeMetricFamily("simpul_opd_allocation_bps", "The OPD's committed bandwidth.",
                                  labels=["opd"])
        for o in queries.list_opd_bandwidth(self.session):
            in_bps.add_metric([o.code], o.in_bps)
            out_bps.add_metric([o.code], o.out_bps)
            if o.allocation_mbps:
                alloc.add_metric([o.code], o.allocation_mbps * 1e6)
        yield from (in_bps, out_bps, alloc)


def render_metrics(session: Session) -> bytes:
    """Return the exposition text for the database behind *session*."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnmpCollector(session))  # type: ignore[arg-type]
    return generate_latest(registry)


@bp.route("/metrics")
@csrf.exempt
def metrics() -> Any:
    """Serve the Prometheus exposition (401 unless token, allow-list or signed in)."""
    if not authorised(_settings()):
        return Response("unauthorised: send Authorization: Bearer <SIMPUL_METRICS_TOKEN>\n",
                        status=401, mimetype="text/plain",
                        headers={"WWW-Authenticate": 'Bearer realm="simpul metrics"'})
    session = app_context().db.new_session(write=False)
    try:
        body = render_metrics(session)
    finally:
        session.close()
    return Response(body, status=200, content_type=CONTENT_TYPE)
