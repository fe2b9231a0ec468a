"""Reading import files: YAML with line numbers, items that know where they came from.

Every error an import can raise names the file, the line (or item) and the field, so
an operator can fix a 1,000-line file without guessing: ``lab.yml:42: device core1:
site: unknown site 'dc-x'``. Items keep the line of the mapping they were read from.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from inventory.errors import InventoryValidationError
from simpul.errors import SimpulError

FORMAT = "simpul-inventory/1"


class ImportFileError(InventoryValidationError):
    """An import file is unreadable or one of its items is invalid; nothing was written."""


class LineDict(dict[str, Any]):
    """A mapping read from YAML that remembers its first line (1-based)."""

    line: int = 0


class _LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings are LineDicts."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    mapping = LineDict(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(path: Path) -> Any:
    """Load *path* keeping line numbers.

    Raises:
        ImportFileError: the file cannot be read or is not YAML (with the line).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot read ({exc.strerror or exc})",
                              errors={"file": [str(exc.strerror or exc)]}) from None
    except UnicodeDecodeError:
        raise ImportFileError(f"{path}: not UTF-8 text", errors={"file": ["not UTF-8"]}) from None
    try:
        return yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path.name}:{mark.line + 1}" if mark is not None else path.name
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ImportFileError(f"{where}: not valid YAML ({problem})",
                              errors={"file": [f"not valid YAML: {problem}"]}) from None


@dataclass
class Item:
    """One object of an import file: its kind, its key, where it is and its fields."""

    kind: str
    key: str
    where: str
    data: dict[str, Any]

    def fail(self, field: str, message: str) -> ImportFileError:
        """Return the error for a bad *field* of this item."""
        return ImportFileError(f"{self.where}: {self.kind} {self.key}: {field}: {message}",
                               errors={field: [message]})

    def wrap(self, exc: SimpulError, prefix: str = "") -> ImportFileError:
        """Return a service error re-raised with this item's place and key."""
        if exc.errors:
            field, messages = next(iter(exc.errors.items()))
            return self.fail(prefix + field, messages[0] if messages else str(exc))
        return ImportFileError(f"{self.where}: {self.kind} {self.key}: {exc}")

    def get(self, field: str, default: Any = None) -> Any:
        """Return *field*, or *default* when absent or null."""
        value = self.data.get(field)
        return default if value is None else value

    def text(self, field: str, default: str = "") -> str:
        """Return *field* as text (numbers such as VLAN names are accepted)."""
        value = self.data.get(field)
        if value is None:
            return default
        if isinstance(value, dict | list):
            raise self.fail(field, "must be text")
        return str(value)

    def require(self, field: str) -> Any:
        """Return a required field.

        Raises:
            ImportFileError: the field is missing or empty.
        """
        value = self.data.get(field)
        if value is None or value == "":
            raise self.fail(field, "required")
        return value

    def integer(self, field: str, default: int | None = None) -> int | None:
        """Return *field* as a whole number (or *default*)."""
        value = self.data.get(field)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(field, f"must be a whole number, not {value!r}")
        return value

    def boolean(self, field: str, default: bool) -> bool:
        """Return *field* as true/false (or *default*)."""
        value = self.data.get(field)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(field, f"must be true or false, not {value!r}")
        return value


def items(doc: dict[str, Any], section: str, kind: str, key_field: str | tuple[str, ...],
          file: str, allowed: frozenset[str]) -> Iterator[Item]:
    """Yield the items of *section*, checking each is a mapping with only *allowed* keys."""
    raw = doc.get(section)
    if raw is None:
        return
    if not isinstance(raw, list):
        line = getattr(doc, "line", 0)
        raise ImportFileError(f"{file}:{line}: {section}: must be a list",
                              errors={section: ["must be a list"]})
    fields = (key_field,) if isinstance(key_field, str) else key_field
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise ImportFileError(f"{file}: {section}[{index}]: must be a mapping",
                                  errors={section: ["must be a mapping"]})
        line = getattr(entry, "line", 0)
        where = f"{file}:{line}" if line else file
        key = "/".join(str(entry.get(f, "?")) for f in fields)
        item = Item(kind, key if key.strip("/?") else f"#{index + 1}", where, dict(entry))
        unknown = sorted(set(entry) - allowed)
        if unknown:
            raise item.fail(unknown[0], f"unknown field (allowed: {', '.join(sorted(allowed))})")
        yield item
