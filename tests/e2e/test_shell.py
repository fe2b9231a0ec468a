"""The web shell in a real browser: keyboard-only sign-in, language switch, sign-out."""

from __future__ import annotations

from pathlib import Path

from tests.browser import LiveServer

ARTIFACTS = Path(__file__).resolve().parents[2] / ".simpul" / "e2e"


def test_keyboard_only_sign_in_and_out(page, live_server: LiveServer) -> None:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto("/")
    assert page.url.endswith("/login?next=/")
    assert page.title() == "Masuk · simpul"
    # The username field has focus on load; the rest is typed and tabbed, no mouse.
    page.keyboard.type("admin")
    page.keyboard.press("Tab")
    page.keyboard.type(live_server.password)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("h1").inner_text() == "Selamat datang, Administrator"
    # Diskominfo staff see the audit trail; which entries are newest depends on what
    # other tests did on the shared server, so only its presence is checked.
    assert page.get_by_role("heading", name="Perubahan terbaru").is_visible()
    assert page.locator("table tbody tr").count() > 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    page.get_by_role("button", name="Keluar").click()
    page.wait_for_url(f"{live_server.url}/login")
    assert errors == [], errors  # no CSP violations or script errors


def test_wrong_password_shows_message(page, live_server: LiveServer) -> None:
    page.goto("/login")
    page.fill("#username", "helpdesk")
    page.fill("#password", "definitely-wrong")
    page.get_by_role("button", name="Masuk").click()
    assert page.get_by_role("alert").inner_text() == "Nama pengguna atau kata sandi salah."


def test_language_switch_to_english(page, live_server: LiveServer) -> None:
    page.goto("/login")
    page.get_by_role("button", name="EN").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Sign in").is_visible()
    page.get_by_role("button", name="ID").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Masuk").is_visible()
