"""Domain names (Lampiran V), the Lampiran II form, field checks and the SLA clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from simpul.errors import ConflictError, ValidationError
from webui.helpdesk.domains import choose_domain, opd_domain, village_domain
from webui.helpdesk.fields import (
    addresses_for,
    clean_action_fields,
    clean_intake,
    prefix_length_for,
)
from webui.helpdesk.models import WorkOrder
from webui.helpdesk.pse import validate_pse_form
from webui.helpdesk.sla import pause_clock, resume_clock, sla_status, sla_table, target

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def test_opd_and_village_domains_with_the_clash_rule() -> None:
    assert opd_domain("Dinkes") == "dinkes.sidoarjokab.go.id"
    assert village_domain("Karangsambung") == "karangsambung.desa.id"
    taken = {"krsambung.desa.id"}
    assert choose_domain("village", "krsambung", "kebumen", taken.__contains__) == \
        "krsambung-kebumen.desa.id"
    assert choose_domain("village", "Karangsambung", "", taken.__contains__) == \
        "karangsambung.desa.id"
    with pytest.raises(ConflictError, match="give the district or regency"):
        choose_domain("village", "krsambung", "", taken.__contains__)
    with pytest.raises(ConflictError, match="already registered"):
        choose_domain("opd", "bappeda", "", {"bappeda.sidoarjokab.go.id"}.__contains__)
    for bad in ("-x", "a--b", "é", "a" * 64, ""):
        with pytest.raises(ValidationError):
            opd_domain(bad)
    with pytest.raises(ValidationError):
        choose_domain("company", "x", "", set().__contains__)


def pse_form() -> dict[str, Any]:
    return {
        "data_umum": {"nama_internal": "SIMPUS", "nama_eksternal": "Sistem Puskesmas",
                      "keterangan": "Rekam medis", "sasaran_pelayanan": "regional",
                      "kategori": "tinggi", "kategori_akses": "online",
                      "url": "https://simpus.sidoarjokab.go.id"},
        "profil_penyelenggara": dict.fromkeys(
            ("nama_satuan_kerja", "alamat", "provinsi", "kota_kabupaten", "kode_pos",
             "no_telp", "website"), "x"),
        "penanggung_jawab": dict.fromkeys(
            ("nama", "nip", "nama_satuan_kerja", "alamat_satuan_kerja", "provinsi",
             "kota_kabupaten", "kode_pos", "no_hp", "email"), "x"),
        "fungsi_utama": [{"fungsi": "Pendaftaran pasien"}],
        "ruang_lingkup": [{"ruang_lingkup": "Kesehatan"}],
        "jenis_layanan": [{"jenis_layanan": "pendaftaran"}],
        "perangkat_keras": [{"jenis": "server", "pemilik": "sewa"}],
    }


def test_lampiran_ii_form_lists_every_gap() -> None:
    assert validate_pse_form(pse_form())["data_umum"]["kategori"] == "tinggi"
    form = pse_form()
    del form["data_umum"]["url"]
    form["data_umum"]["kategori"] = "sedang"
    form["perangkat_keras"] = [{"jenis": "server"}]
    form["fungsi_utama"] = []
    form["catatan"] = "?"
    with pytest.raises(ValidationError) as exc:
        validate_pse_form(form)
    assert set(exc.value.errors) == {"data_umum.url", "data_umum.kategori",
                                     "perangkat_keras.0.pemilik", "fungsi_utama",
                                     "form.catatan"}


def test_intake_and_action_fields_are_typed() -> None:
    ok = clean_intake("penambahan_ip", {"ip_count": 2, "location": " lt 1 "},
                      requester_class="umum", vvip_title="", priority="high", channel="web")
    assert ok == {"ip_count": 2, "location": "lt 1"}
    with pytest.raises(ValidationError) as exc:
        clean_intake("penambahan_ip", {"ip_count": True, "colour": "red"},
                     requester_class="vvip", vvip_title="camat", priority="urgent",
                     channel="fax")
    assert set(exc.value.errors) == {"priority", "channel", "vvip_title", "details.ip_count",
                                     "details.location", "details.colour"}
    with pytest.raises(ValidationError) as bad:
        clean_action_fields("approve", ("prefix_id",), {"prefix_id": "7", "size": 1})
    assert bad.value.errors == {"prefix_id": ["must be a whole number"],
                                "size": ["not a field of 'approve'"]}
    with pytest.raises(ValidationError, match="event_end"):
        clean_action_fields("recommend", ("event_end",), {"event_end": "2026-12-01T17:00"})


def test_addresses_for_an_event() -> None:
    assert addresses_for(40) == 44 and addresses_for(100, 2) == 220
    assert prefix_length_for(44) == 26 and prefix_length_for(220) == 24
    assert prefix_length_for(1) == 30 and prefix_length_for(2) == 29


def make_wo(type_: str = "pengaduan", priority: str = "normal") -> WorkOrder:
    return WorkOrder(type=type_, priority=priority, created_at=T0, sla_paused_seconds=0,
                     sla_due_at=T0 + target(type_, priority))


def test_sla_targets_and_overrides() -> None:
    assert target("pengaduan", "normal") == timedelta(hours=8)
    assert target("pengaduan", "critical") == timedelta(hours=2)
    assert target("penitipan_server", "low") == timedelta(days=28)
    table = sla_table({"pengaduan:normal": 4})
    assert target("pengaduan", "normal", table) == timedelta(hours=4)
    with pytest.raises(ValueError, match="unknown type:priority"):
        sla_table({"pengaduan:asap": 1})


def test_sla_clock_pauses_and_escalates() -> None:
    wo = make_wo()
    assert sla_status(wo, T0 + timedelta(hours=7)).overdue is False
    late = sla_status(wo, T0 + timedelta(hours=9))
    assert (late.overdue, late.level, late.escalate_to) == (True, 1, "helpdesk")
    assert sla_status(wo, T0 + timedelta(hours=13)).escalate_to == "leadership"
    assert pause_clock(wo, T0 + timedelta(hours=2), "menunggu pemohon")
    assert not pause_clock(wo, T0 + timedelta(hours=3), "lagi")
    held = sla_status(wo, T0 + timedelta(hours=20))
    assert held.paused and not held.overdue and held.elapsed == timedelta(hours=2)
    assert resume_clock(wo, T0 + timedelta(hours=12))
    assert wo.sla_due_at == T0 + timedelta(hours=18)
    assert sla_status(wo, T0 + timedelta(hours=17)).remaining == timedelta(hours=1)
    wo.closed_at = T0 + timedelta(hours=30)
    done = sla_status(wo, T0 + timedelta(hours=99))
    assert done.stopped and not done.overdue and done.elapsed == timedelta(hours=20)


def test_nearest_rank_percentile() -> None:
    from webui.helpdesk.reports import percentile

    assert percentile([], 95) is None
    assert percentile([5.0], 95) == 5.0
    assert percentile([float(h) for h in range(1, 21)], 95) == 19.0
    assert percentile([float(h) for h in range(1, 101)], 95) == 95.0
