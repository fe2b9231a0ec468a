"""Re-extract UI strings, merge them into each catalog and compile the .mo files.

Run after changing any translatable string: ``.venv/bin/python scripts/i18n.py``.
Indonesian is the default UI language; the test suite fails on any untranslated string.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEBUI = ROOT / "webui"
POT = WEBUI / "translations" / "messages.pot"
BIN = Path(sys.executable).parent


def main() -> None:
    """Extract, update and compile, failing loudly on any error."""
    run = [str(BIN / "pybabel")]
    subprocess.run([*run, "extract", "-F", str(WEBUI / "babel.cfg"), "-k", "_", "-k", "gettext",
                    "-k", "lazy_gettext", "--no-location", "--omit-header", "-o", str(POT),
                    str(WEBUI)], check=True)
    subprocess.run([*run, "update", "-i", str(POT), "-d", str(WEBUI / "translations"),
                    "--no-fuzzy-matching", "--ignore-obsolete"], check=True)
    subprocess.run([*run, "compile", "-d", str(WEBUI / "translations"), "--statistics"],
                   check=True)


if __name__ == "__main__":
    main()
