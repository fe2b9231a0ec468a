"""The helpdesk pages: file, act and read through forms; another OPD gets 404 by URL."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from simpul.audit import Actor
from simpul.context import AppContext
from simpul.users import set_password

PASSWORD = "pages-password-1"


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


@pytest.fixture
def browsers(app: Flask, app_context: AppContext) -> dict[str, FlaskClient]:
    """A signed-in browser per user."""
    with app_context.db.session() as s:
        for name in ("rina", "budi", "helpdesk"):
            set_password(s, Actor.system("test"), name, PASSWORD)
    clients = {}
    for name in ("rina", "budi", "helpdesk"):
        client = app.test_client()
        token = csrf_from(client.get("/login").get_data(as_text=True))
        response = client.post("/login", data={"username": name, "password": PASSWORD,
                                               "csrf_token": token})
        assert response.status_code == 302
        clients[name] = client
    return clients


def test_file_act_and_tenancy_through_pages(browsers: dict[str, FlaskClient]) -> None:
    browser = browsers["rina"]
    form = browser.get("/helpdesk/new", headers={"Accept-Language": "id"})
    assert form.status_code == 200 and "Penambahan IP" in form.get_data(as_text=True)
    token = csrf_from(form.get_data(as_text=True))
    bad = browser.post("/helpdesk/new", headers={"Accept-Language": "en"}, data={
        "csrf_token": token, "type": "penambahan_ip", "title": "IP",
        "d_penambahan_ip_ip_count": "dua", "d_titik_koneksi_location": "elsewhere"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "Number of IP addresses: must be a whole number" in text
    assert "Location: required" in text  # another type's location is not this one's
    made = browser.post("/helpdesk/new", data={
        "csrf_token": token, "type": "penambahan_ip", "title": "IP lab komputer",
        "priority": "high", "d_penambahan_ip_ip_count": "3",
        "d_penambahan_ip_location": "Lab lt 3"})
    assert made.status_code == 302
    url = made.location
    page = browser.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "IP lab komputer" in page and "Submitted" in page and "Issue work order" not in page
    browser = browsers["budi"]
    assert browser.get(url).status_code == 404
    assert "IP lab komputer" not in browser.get("/helpdesk/").get_data(as_text=True)
    browser = browsers["helpdesk"]
    page = browser.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Reject" in page and "Issue work order" not in page  # no letter: not offered
    token = csrf_from(page)
    refused = browser.post(f"{url}/action", data={"csrf_token": token, "action": "issue"},
                           headers={"Accept-Language": "en"})
    assert refused.status_code == 400 and "signed letter" in refused.get_data(as_text=True)
    rejected = browser.post(f"{url}/action", data={
        "csrf_token": token, "action": "reject", "reason": "Tanpa surat dinas"})
    assert rejected.status_code == 302
    page = browser.get(url, headers={"Accept-Language": "id"}).get_data(as_text=True)
    assert "Ditolak" in page and "Tanpa surat dinas" in page
    listing = browser.get("/helpdesk/?type=penambahan_ip").get_data(as_text=True)
    assert "IP lab komputer" in listing


def test_notification_letter_after_three_reminders(app_context: AppContext,
                                                   browsers: dict[str, FlaskClient]) -> None:
    from datetime import timedelta

    from inventory.dcim.interfaces import create_wall_outlet
    from inventory.dcim.racks import create_rack
    from inventory.dcim.sites import create_site
    from simpul.models import utcnow
    from tests.integration.helpdesk.conftest import user
    from webui.helpdesk import services as svc

    with app_context.db.session() as s:
        site = create_site(s, Actor.system("test"), name="DC", slug="dc")
        s.flush()
        create_rack(s, Actor.system("test"), site_id=site.id, name="R1", u_height=10)
        create_wall_outlet(s, Actor.system("test"), site_id=site.id, label="DC-01")

    def act(username: str, wid: int, action: str, **kw: object) -> None:
        with app_context.db.session() as s:
            svc.transition(s, user(app_context, username), wid, action, kw.pop("fields", {}),
                           **kw)  # type: ignore[arg-type]

    with app_context.db.session() as s:
        wid = svc.create_work_order(s, user(app_context, "rina"), type="penitipan_server",
                                    title="Server SIMPUS", letter_ref="ND/1",
                                    details={"server": "1U", "u_height": 1, "power_w": 0}).id
    act("helpdesk", wid, "issue")
    act("datacenter", wid, "record_checks", fields={
        "u_height": 1, "server_condition": True, "software_legal": True})
    act("leadership", wid, "approve")
    url = f"/helpdesk/{wid}/letter"
    assert browsers["rina"].get(url).status_code == 409
    later = utcnow()
    for i in range(1, 4):
        act("datacenter", wid, "send_reminder", now=later + timedelta(hours=49 * i))
    page = browsers["rina"].get(url, headers={"Accept-Language": "id"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "setelah 3 kali pengingat" in text and "R1, U1" in text
    assert browsers["budi"].get(url).status_code == 404


def test_the_lampiran_ii_form_can_be_filed_from_the_page(
        browsers: dict[str, FlaskClient]) -> None:
    browser = browsers["rina"]
    form = browser.get("/helpdesk/new", headers={"Accept-Language": "en"})
    text = form.get_data(as_text=True)
    assert 'name="pse__data_umum__kategori"' in text and "perangkat_keras" in text
    token = csrf_from(text)
    data = {"csrf_token": token, "type": "pse", "title": "SIMPUS", "letter_ref": "ND/9",
            "pse__data_umum__nama_internal": "SIMPUS",
            "pse__data_umum__nama_eksternal": "Sistem Informasi Puskesmas",
            "pse__data_umum__keterangan": "Rekam medis puskesmas",
            "pse__data_umum__sasaran_pelayanan": "lokal",
            "pse__data_umum__kategori": "tinggi", "pse__data_umum__kategori_akses": "online"}
    incomplete = browser.post("/helpdesk/new", data=data, headers={"Accept-Language": "en"})
    body = incomplete.get_data(as_text=True)
    # every gap named, the online service's URL among them, and nothing filed
    assert incomplete.status_code == 400 and "data_umum › url: required" in body
    assert "fungsi_utama: at least one entry" in body
    assert "penanggung_jawab › nip: required" in body
    assert "SIMPUS" not in browser.get("/helpdesk/").get_data(as_text=True)
    data.update({"pse__data_umum__url": "https://simpus.example.go.id"})
    for name in ("nama_satuan_kerja", "alamat", "provinsi", "kota_kabupaten", "kode_pos",
                 "no_telp", "website"):
        data[f"pse__profil_penyelenggara__{name}"] = "isi"
    for name in ("nama", "nip", "nama_satuan_kerja", "alamat_satuan_kerja", "provinsi",
                 "kota_kabupaten", "kode_pos", "no_hp", "email"):
        data[f"pse__penanggung_jawab__{name}"] = "isi"
    data.update({"pse__fungsi_utama__0__fungsi": "Pendaftaran pasien",
                 "pse__ruang_lingkup__0__ruang_lingkup": "Puskesmas se-kabupaten",
                 "pse__jenis_layanan__0__jenis_layanan": "pendaftaran",
                 "pse__perangkat_keras__0__jenis": "server",
                 "pse__perangkat_keras__0__pemilik": "milik_sendiri",
                 "pse__dasar_hukum__lines": "Perbup 46/2018\nUU 27/2022\n"})
    made = browser.post("/helpdesk/new", data=data)
    assert made.status_code == 302, made.get_data(as_text=True)[:2000]
    page = browser.get(made.location).get_data(as_text=True)
    assert "SIMPUS" in page
