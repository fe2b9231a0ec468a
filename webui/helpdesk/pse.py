"""The Lampiran II form (*pendaftaran sistem elektronik*) as a schema of required fields.

Sections and fields keep the form's own (Indonesian) names, so a filled form can be
checked against the paper one line by line. Fields marked ``*)`` on the form are
required here; lists the form says hold "at least one" need one entry.
"""

from __future__ import annotations

from typing import Any

from simpul.errors import ValidationError

TEXT = "text"
# field -> TEXT or a tuple of allowed values
DATA_UMUM: dict[str, Any] = {
    "nama_internal": TEXT,
    "nama_eksternal": TEXT,
    "keterangan": TEXT,
    "sasaran_pelayanan": ("lokal", "regional", "nasional", "internasional"),
    "kategori": ("strategis", "tinggi", "rendah"),
    "kategori_akses": ("online", "offline"),
}
PROFIL = ("nama_satuan_kerja", "alamat", "provinsi", "kota_kabupaten", "kode_pos", "no_telp",
          "website")
PENANGGUNG_JAWAB = ("nama", "nip", "nama_satuan_kerja", "alamat_satuan_kerja", "provinsi",
                    "kota_kabupaten", "kode_pos", "no_hp", "email")
# lists the form requires at least one row of, with each row's required fields
REQUIRED_LISTS: dict[str, dict[str, Any]] = {
    "fungsi_utama": {"fungsi": TEXT},
    "ruang_lingkup": {"ruang_lingkup": TEXT},
    "jenis_layanan": {"jenis_layanan": ("pelaporan_masyarakat", "pembayaran", "pendaftaran",
                                        "perizinan", "publikasi_informasi", "lainnya")},
    "perangkat_keras": {"jenis": ("pc", "server", "lainnya"),
                        "pemilik": ("milik_sendiri", "sewa")},
}
OPTIONAL_LISTS = ("sistem_pengamanan", "sistem_terkait", "sertifikasi", "pengguna_layanan",
                  "perangkat_jaringan", "perangkat_khusus", "perangkat_lunak_utama",
                  "perangkat_lunak_pendukung", "tenaga_ahli", "dasar_hukum", "sop",
                  "helpdesk")
SECTIONS = ("data_umum", "profil_penyelenggara", "penanggung_jawab", *REQUIRED_LISTS,
            *OPTIONAL_LISTS)


def _check_value(errors: dict[str, list[str]], path: str, value: Any, kind: Any) -> None:
    if kind == TEXT:
        if not isinstance(value, str) or not value.strip():
            errors.setdefault(path, []).append("required")
    elif value not in kind:
        errors.setdefault(path, []).append(f"one of: {', '.join(kind)}")


def _check_object(errors: dict[str, list[str]], form: dict[str, Any], section: str,
                  fields: dict[str, Any]) -> None:
    body = form.get(section)
    if not isinstance(body, dict):
        errors.setdefault(section, []).append("required section")
        return
    for name, kind in fields.items():
        _check_value(errors, f"{section}.{name}", body.get(name), kind)


def validate_pse_form(form: Any) -> dict[str, Any]:
    """Return the form if every required field is filled, else raise with every gap.

    Raises:
        ValidationError: keyed by dotted path (``data_umum.kategori``,
            ``perangkat_keras.0.pemilik``).
    """
    if not isinstance(form, dict):
        raise ValidationError("form must be a JSON object (Lampiran II sections)",
                              errors={"form": ["not an object"]})
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(form) - set(SECTIONS))
    for name in unknown:
        errors.setdefault(f"form.{name}", []).append("unknown section")
    _check_object(errors, form, "data_umum", DATA_UMUM)
    _check_object(errors, form, "profil_penyelenggara", dict.fromkeys(PROFIL, TEXT))
    _check_object(errors, form, "penanggung_jawab", dict.fromkeys(PENANGGUNG_JAWAB, TEXT))
    umum = form.get("data_umum")
    if isinstance(umum, dict) and umum.get("kategori_akses") == "online":
        _check_value(errors, "data_umum.url", umum.get("url"), TEXT)
    for section, row_fields in REQUIRED_LISTS.items():
        rows = form.get(section)
        if not isinstance(rows, list) or not rows:
            errors.setdefault(section, []).append("at least one entry")
            continue
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                errors.setdefault(f"{section}.{i}", []).append("must be an object")
                continue
            for name, kind in row_fields.items():
                _check_value(errors, f"{section}.{i}.{name}", row.get(name), kind)
    for section in OPTIONAL_LISTS:
        if section in form and not isinstance(form[section], list):
            errors.setdefault(section, []).append("must be a list")
    if errors:
        first = next(iter(errors))
        raise ValidationError(f"Lampiran II form incomplete: {first} {errors[first][0]} "
                              f"({len(errors)} problem(s))", errors=errors)
    return form
