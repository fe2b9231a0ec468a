"""Small readers of configuration text: indented blocks, set-style lines, Linux bundles."""

from __future__ import annotations

import re

BUNDLE_MARK = "#### simpul-audit: "


def lines(text: str) -> list[str]:
    """Return the non-empty lines of *text*, right-stripped."""
    return [ln.rstrip() for ln in text.splitlines() if ln.strip()]


def has(text: str, pattern: str) -> re.Match[str] | None:
    """Return the first match of *pattern* (multi-line mode) in *text*."""
    return re.search(pattern, text, re.M)


def blocks(text: str, header: str) -> list[list[str]]:
    """Return the child lines of every section whose header line matches *header*.

    IOS/EOS/FRR style: children are indented; a section ends at the next unindented
    line (``!``, ``exit`` or another command).
    """
    found: list[list[str]] = []
    current: list[str] | None = None
    pattern = re.compile(header)
    for line in text.splitlines():
        if not line.strip():
            continue
        if line[:1] not in (" ", "\t"):
            current = None
            if pattern.match(line):
                current = []
                found.append(current)
        elif current is not None:
            current.append(line.strip())
    return found


def bundle_sections(text: str) -> dict[str, str]:
    """Split a Linux evidence bundle into its sections (name → text)."""
    sections: dict[str, list[str]] = {}
    name: str | None = None
    for line in text.splitlines():
        if line.startswith(BUNDLE_MARK):
            name = line[len(BUNDLE_MARK):].strip()
            sections[name] = []
        elif name is not None:
            sections[name].append(line)
    return {k: "\n".join(v).strip("\n") + ("\n" if v else "") for k, v in sections.items()}


def directives(text: str) -> list[tuple[str, str]]:
    """Return (lower-case keyword, value) of an sshd-style file, skipping comments.

    Keywords inside a ``Match`` block are ignored: they do not apply to every login.
    """
    found = []
    in_match = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(" ")
        if "=" in key and not value:
            key, _, value = key.partition("=")
        key = key.lower()
        if key == "match":
            in_match = True
            continue
        if not in_match:
            found.append((key, value.strip()))
    return found


def first(values: list[tuple[str, str]], key: str) -> str | None:
    """Return the first value of *key* (sshd uses the first occurrence)."""
    for k, v in values:
        if k == key:
            return v
    return None
