"""Optional plugin modules: absent ones are skipped, broken ones are not hidden."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from simpul.plugins import optional_import


def test_missing_module_or_package_is_none() -> None:
    assert optional_import("simpul.no_such_module") is None
    assert optional_import("no_such_package.cli") is None
    assert optional_import("simpul.cli") is not None


def test_missing_dependency_inside_a_plugin_is_raised(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "brokenplugin"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "cli.py").write_text("import a_dependency_that_is_not_installed\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with pytest.raises(ModuleNotFoundError, match="a_dependency_that_is_not_installed"):
            optional_import("brokenplugin.cli")
    finally:
        sys.modules.pop("brokenplugin", None)
