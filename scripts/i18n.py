"""Re-extract UI strings, merge them into each catalog and compile the .mo files.

Run after changing any translatable string: ``.venv/bin/python scripts/i18n.py``.
Indonesian is the default UI language; the test suite fails on any untranslated string.
``--fill FRAGMENT.po ...`` also takes translations for still-empty entries from PO
fragments (written beside a change, so parallel work never edits the catalog at once).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEBUI = ROOT / "webui"
POT = WEBUI / "translations" / "messages.pot"
BIN = Path(sys.executable).parent


def fill(fragments: list[Path]) -> int:
    """Copy translations of empty Indonesian entries from *fragments*; return how many."""
    from babel.messages.pofile import read_po, write_po

    target = WEBUI / "translations" / "id" / "LC_MESSAGES" / "messages.po"
    with target.open("rb") as fh:
        catalog = read_po(fh)
    known: dict[str, str] = {}
    for path in fragments:
        with path.open("rb") as fh:
            for message in read_po(fh):
                if message.id and message.string:
                    known.setdefault(str(message.id), str(message.string))
    filled = 0
    for message in catalog:
        if message.id and not message.string and str(message.id) in known:
            message.string = known[str(message.id)]
            filled += 1
    with target.open("wb") as fh:
        write_po(fh, catalog, omit_header=False, width=100)
    return filled


def main() -> None:
    """Extract, update, fill from fragments and compile, failing loudly on any error."""
    fragments = [Path(a) for a in sys.argv[1:] if a != "--fill"]
    run = [str(BIN / "pybabel")]
    subprocess.run([*run, "extract", "-F", str(WEBUI / "babel.cfg"), "-k", "_", "-k", "gettext",
                    "-k", "lazy_gettext", "--no-location", "--omit-header", "-o", str(POT),
                    str(WEBUI)], check=True)
    subprocess.run([*run, "update", "-i", str(POT), "-d", str(WEBUI / "translations"),
                    "--no-fuzzy-matching", "--ignore-obsolete"], check=True)
    if fragments:
        print(f"filled {fill(fragments)} translation(s) from {len(fragments)} fragment(s)")
    subprocess.run([*run, "compile", "-d", str(WEBUI / "translations"), "--statistics"],
                   check=True)


if __name__ == "__main__":
    main()
