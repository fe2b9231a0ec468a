"""Attachments: type by content, size limit, stored outside the database, OPD-private."""

from __future__ import annotations

import io
from pathlib import Path

from flask.testing import FlaskClient

from simpul.context import AppContext
from webui.helpdesk.attachments import MAX_BYTES

WO = "/api/helpdesk/work-orders/"
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"


def upload(client: FlaskClient, headers: dict[str, str], wid: int, data: bytes,
           name: str = "surat.pdf", kind: str = "letter") -> tuple[int, dict]:
    response = client.post(f"{WO}{wid}/attachments/", headers=headers,
                           data={"file": (io.BytesIO(data), name), "kind": kind},
                           content_type="multipart/form-data")
    return response.status_code, response.get_json()


def test_letter_upload_becomes_the_letter_and_stays_private(
        app_context: AppContext, client: FlaskClient,
        tokens: dict[str, dict[str, str]]) -> None:
    wid = client.post(WO, headers=tokens["rina"], json={
        "type": "permintaan", "title": "Akun SSO"}).get_json()["id"]
    status, body = upload(client, tokens["rina"], wid, b"MZ\x90\x00 not a pdf", "surat.pdf")
    assert (status, body["errors"]) == (400, {"file": ["only PDF, PNG or JPEG"]})
    status, body = upload(client, tokens["rina"], wid, b"%PDF-" + b"0" * MAX_BYTES)
    assert status == 400 and body["errors"] == {"file": ["larger than 10 MB"]}
    status, body = upload(client, tokens["rina"], wid, PDF, "../../etc/surat dinas.pdf")
    assert status == 201 and body["content_type"] == "application/pdf"
    assert body["filename"] == "surat dinas.pdf"
    stored = list((Path(app_context.settings.data_dir) / "helpdesk" / "attachments").iterdir())
    assert len(stored) == 1 and stored[0].read_bytes() == PDF  # only the accepted file
    wo = client.get(f"{WO}{wid}/", headers=tokens["helpdesk"]).get_json()
    assert wo["letter_ref"] == f"attachment:{body['id']}"
    assert client.post(f"{WO}{wid}/transitions/", headers=tokens["helpdesk"],
                       json={"action": "issue"}).status_code == 200
    got = client.get(body["url"], headers=tokens["helpdesk"])
    assert got.status_code == 200 and got.data == PDF
    assert "attachment" in got.headers["Content-Disposition"]
    assert client.get(body["url"], headers=tokens["budi"]).status_code == 404
    assert client.get(f"{WO}{wid}/attachments/", headers=tokens["budi"]).status_code == 404
    assert upload(client, tokens["budi"], wid, PDF)[0] == 404
    listed = client.get(f"{WO}{wid}/attachments/", headers=tokens["rina"]).get_json()
    assert [a["filename"] for a in listed] == ["surat dinas.pdf"]
