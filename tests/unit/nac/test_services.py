"""``simpul up`` keeps running without FreeRADIUS, saying clearly why RADIUS is not served."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from loguru import logger

from nac.services import NacService, background_services
from nac.settings import load_nac_settings
from simpul.settings import load_settings


def _messages(service: NacService) -> list[str]:
    seen: list[str] = []
    sink = logger.add(lambda m: seen.append(str(m)), level="INFO")
    try:
        service.start()
        service.stop()
    finally:
        logger.remove(sink)
    return seen


def test_missing_binary_is_a_warning_not_a_crash(tmp_path: Path) -> None:
    nac = replace(load_nac_settings(load_settings(env={}, data_dir=str(tmp_path)), env={}),
                  binary=str(tmp_path / "no-freeradius"))
    seen = _messages(NacService(app=None, nac=nac))  # type: ignore[arg-type]
    assert any("WARNING" in m and "NOT served" in m for m in seen)
    assert not (tmp_path / "nac").exists()  # nothing generated for nothing


def test_disabled_radius_starts_nothing(tmp_path: Path) -> None:
    nac = replace(load_nac_settings(load_settings(env={}, data_dir=str(tmp_path)), env={}),
                  enabled=False)
    assert any("disabled" in m for m in _messages(NacService(app=None, nac=nac)))  # type: ignore[arg-type]


def test_background_services_discovers_one_service() -> None:
    class App:
        settings = load_settings(env={}, data_dir="/nonexistent-simpul")

    (service,) = background_services(App())  # type: ignore[arg-type]
    assert service.name == "nac (FreeRADIUS)"
