"""The candidate format of the Linux layer, and the pure logic around it.

A candidate is one text of sections, in order::

    ### file /etc/swanctl/conf.d/simpul-vpn.conf mode=0640
    ...the whole content of the file...
    ### absent /etc/swanctl/conf.d/old.conf
    ### run swanctl --load-all

``file`` sets a file's whole content (and mode), ``absent`` removes a file, ``run`` lines
run in order after every file is written — on commit, and again on rollback after the
previous files are restored, so they must be idempotent reload commands.

Everything here is pure (no SSH): parsing, the state of a file on the device, the plan
of a commit (what changes), its unified diff, and the manifest arithmetic of replace
mode. The driver only reads and writes what these functions decide.
"""

from __future__ import annotations

import difflib
import posixpath
import re
from dataclasses import dataclass, field

HEADER = "### "
DEFAULT_MODE = 0o644
_PATH_RE = re.compile(r"^/[A-Za-z0-9_@%+=:,./-]+$")
_MODE_RE = re.compile(r"^mode=([0-7]{3,4})$")


class BundleError(ValueError):
    """The candidate text does not follow the ``### file / absent / run`` format."""


@dataclass(frozen=True)
class FileSection:
    """``### file PATH [mode=NNNN]`` and the content after it."""

    path: str
    content: str
    mode: int = DEFAULT_MODE


@dataclass(frozen=True)
class Bundle:
    """A parsed candidate: files to set, files to remove, commands to run."""

    files: tuple[FileSection, ...] = ()
    absent: tuple[str, ...] = ()
    run: tuple[str, ...] = ()

    @property
    def paths(self) -> list[str]:
        """Every path the bundle manages (set or removed), in order."""
        return [f.path for f in self.files] + list(self.absent)


@dataclass(frozen=True)
class FileState:
    """A file as it is (or should be) on the device; ``content is None`` = absent."""

    path: str
    content: str | None
    mode: int | None = None

    @property
    def exists(self) -> bool:
        return self.content is not None


@dataclass
class Plan:
    """What a commit changes: the new state of every managed path that differs."""

    before: dict[str, FileState] = field(default_factory=dict)
    after: dict[str, FileState] = field(default_factory=dict)
    run: tuple[str, ...] = ()

    @property
    def changed(self) -> list[str]:
        """Paths whose content or mode changes, in order."""
        return [p for p, new in self.after.items() if new != self.before.get(p)]

    def diff(self) -> str:
        """Return the unified diff of every changed file plus the run lines ('' if none)."""
        parts = [file_diff(self.before[p], self.after[p]) for p in self.changed]
        if not parts:
            return ""
        parts += [f"{HEADER}run {line}\n" for line in self.run]
        return "".join(parts)


def check_path(path: str) -> str:
    """Return *path* if it is a plain absolute path (no spaces, no ``..``)."""
    if not _PATH_RE.match(path) or "/../" in f"{path}/" or "/./" in f"{path}/" or \
            path.endswith("/"):
        raise BundleError(f"bad path {path!r}: use an absolute path of plain characters")
    return path


def parse(text: str) -> Bundle:
    """Parse a candidate text into a :class:`Bundle`.

    Raises:
        BundleError: text before the first section, an unknown section, a bad path or
            mode, or a path managed twice.
    """
    files: list[FileSection] = []
    absent: list[str] = []
    run: list[str] = []
    current: tuple[str, int] | None = None
    body: list[str] = []

    def close() -> None:
        if current is not None:
            content = "".join(body)
            files.append(FileSection(current[0], content, current[1]))

    for number, line in enumerate(text.splitlines(keepends=True), 1):
        if line.startswith(HEADER):
            words = line[len(HEADER):].split()
            kind = words[0] if words else ""
            if kind not in ("file", "absent", "run"):
                raise BundleError(f"line {number}: unknown section {line.strip()!r} "
                                  "(use ### file, ### absent or ### run)")
            close()
            current, body = None, []
            if kind == "run":
                command = line[len(HEADER) + 3:].strip()
                if not command:
                    raise BundleError(f"line {number}: ### run without a command")
                run.append(command)
            elif kind == "absent":
                if len(words) != 2:
                    raise BundleError(f"line {number}: use '### absent PATH'")
                absent.append(check_path(words[1]))
            else:
                if len(words) not in (2, 3):
                    raise BundleError(f"line {number}: use '### file PATH [mode=NNNN]'")
                mode = DEFAULT_MODE
                if len(words) == 3:
                    match = _MODE_RE.match(words[2])
                    if match is None:
                        raise BundleError(f"line {number}: bad mode {words[2]!r} "
                                          "(use mode=0640)")
                    mode = int(match.group(1), 8)
                current = (check_path(words[1]), mode)
        elif current is not None:
            body.append(line if line.endswith("\n") else line + "\n")
        elif line.strip():
            raise BundleError(f"line {number}: text outside a section: {line.strip()!r}")
    close()
    seen: set[str] = set()
    for path in [f.path for f in files] + absent:
        if path in seen:
            raise BundleError(f"{path} is managed twice in one candidate")
        seen.add(path)
    return Bundle(tuple(files), tuple(absent), tuple(run))


def dump(bundle: Bundle) -> str:
    """Return the candidate text of *bundle* (``parse(dump(b)) == b``)."""
    out: list[str] = []
    for f in bundle.files:
        out.append(f"{HEADER}file {f.path} mode={f.mode:04o}\n")
        out.append(f.content)
    out += [f"{HEADER}absent {p}\n" for p in bundle.absent]
    out += [f"{HEADER}run {r}\n" for r in bundle.run]
    return "".join(out)


def replaced_paths(bundle: Bundle, manifest: list[str]) -> list[str]:
    """Return manifest paths a *replace* removes: in a directory the bundle writes to,
    previously written by simpul, and not in the bundle."""
    dirs = {posixpath.dirname(f.path) for f in bundle.files}
    keep = set(bundle.paths)
    return [p for p in manifest if posixpath.dirname(p) in dirs and p not in keep]


def plan(bundle: Bundle, current: dict[str, FileState], replace_removes: list[str] = ()
         ) -> Plan:
    """Return the :class:`Plan` taking the device from *current* to *bundle*.

    *current* holds the device's state of every path in ``bundle.paths`` and
    *replace_removes*.
    """
    result = Plan(run=bundle.run)
    for f in bundle.files:
        result.before[f.path] = current[f.path]
        result.after[f.path] = FileState(f.path, f.content, f.mode)
    for path in [*bundle.absent, *replace_removes]:
        result.before[path] = current[path]
        result.after[path] = FileState(path, None)
    return result


def next_manifest(manifest: list[str], result: Plan) -> list[str]:
    """Return the manifest after committing *result*: written files in, removed out."""
    out = [p for p in manifest if not (p in result.after and not result.after[p].exists)]
    out += [p for p, s in result.after.items() if s.exists and p not in out]
    return sorted(out)


def file_diff(old: FileState, new: FileState) -> str:
    """Return a unified diff of one file (``/dev/null`` for a missing side)."""
    a = old.content.splitlines(keepends=True) if old.content is not None else []
    b = new.content.splitlines(keepends=True) if new.content is not None else []
    head_a = f"a{old.path}" if old.exists else "/dev/null"
    head_b = f"b{new.path}" if new.exists else "/dev/null"
    lines = list(difflib.unified_diff(a, b, head_a, head_b))
    lines = [ln if ln.endswith("\n") else ln + "\n\\ No newline at end of file\n"
             for ln in lines]
    text = "".join(lines)
    if old.exists and new.exists and old.mode != new.mode and new.mode is not None:
        old_mode = f"{old.mode:04o}" if old.mode is not None else "?"
        mode_line = f"mode {old_mode} -> {new.mode:04o} {new.path}\n"
        text = (text or f"--- {head_a}\n+++ {head_b}\n") + mode_line
    return text
