"""FRR configuration as contexts, and the delta between two configs.

The same idea as FRR's ``frr-reload.py`` (Config.get_contexts, compare_context_objects):
a config is an ordered map from a context path (``("router bgp 65001",
"address-family ipv4 unicast")``; ``()`` for top-level lines) to its lines. The delta
between the running config and a candidate is the lines to remove (replace only) and
the lines to add, each with the contexts to enter first. Applying deletes before adds
lets a changed value that FRR refuses to overwrite (``ip ospf area``) be replaced.

frr-reload.py itself is not used: it needs the ``frr-pythontools`` package and a local
vtysh on the machine running simpul, while simpul reaches routers over SSH.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

Context = tuple[str, ...]

# Lines that are not configuration (show running-config banners, version stamps).
IGNORED = re.compile(r"^(!.*|end|Building configuration\.\.\.|Current configuration:?.*"
                     r"|frr version .*|frr defaults .*)$")
# Contexts that cannot be removed with "no <opener>": remove their lines instead.
KEEP_CONTEXTS = re.compile(r"^(interface \S+$|line vty$)")
# "no" forms that must drop trailing arguments (FRR refuses the full line).
NO_FORMS = (
    (re.compile(r"^(ip ospf message-digest-key \d+)\b.*"), r"\1"),
    (re.compile(r"^(ip ospf authentication-key)\b.*"), r"\1"),
    (re.compile(r"^(description)\b.*"), r"\1"),
    (re.compile(r"^(hostname)\b.*"), r"\1"),
    (re.compile(r"^(ospf router-id)\b.*"), r"\1"),
    (re.compile(r"^(bgp router-id)\b.*"), r"\1"),
    (re.compile(r"^(timers throttle spf)\b.*"), r"\1"),
)
# Lines whose "no" form is the line without its leading "no ".
NEGATED = re.compile(r"^no (.+)$")
# Lines removed by setting the default back: FRR's "no exec-timeout" means "never time
# out" (0 0), not the default 10 minutes that the running config leaves unprinted.
RESTORE_DEFAULT = ((re.compile(r"^exec-timeout\b"), "exec-timeout 10 0"),)
EXITS = {"address-family": "exit-address-family"}


@dataclass
class FrrConfig:
    """An FRR config split into contexts, in the order they appear."""

    contexts: dict[Context, list[str]] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> FrrConfig:
        """Split *text* (show running-config or a candidate) into contexts by indentation."""
        lines = [ln.rstrip() for ln in text.replace("\r", "").splitlines()]
        lines = [ln for ln in lines if ln.strip() and not IGNORED.match(ln.strip())]
        config = cls()
        config.contexts[()] = []
        stack: list[tuple[int, str]] = []  # (indent, opener)
        for i, raw in enumerate(lines):
            indent = len(raw) - len(raw.lstrip(" "))
            line = " ".join(raw.split())
            while stack and indent <= stack[-1][0] and not _is_exit(line):
                stack.pop()
            if _is_exit(line):
                # "exit"/"exit-address-family" closes the innermost context at its level.
                while stack and stack[-1][0] > indent:
                    stack.pop()
                if stack:
                    stack.pop()
                continue
            following = lines[i + 1] if i + 1 < len(lines) else ""
            next_indent = len(following) - len(following.lstrip(" "))
            opens = following and (next_indent > indent or (
                next_indent == indent and _is_exit(following.strip())))
            path = tuple(o for _, o in stack)
            if opens:
                stack.append((indent, line))
                config.contexts.setdefault((*path, line), [])
            else:
                config.contexts.setdefault(path, []).append(line)
        return config

    def lines(self, context: Context) -> list[str]:
        """Return the lines of *context* ([] when absent)."""
        return self.contexts.get(context, [])

    def text(self) -> str:
        """Return the config as vtysh reads it (contexts indented, closed by exits)."""
        out = list(self.contexts.get((), []))
        open_path: Context = ()
        items = [(c, body) for c, body in self.contexts.items() if c]
        for ctx, lines in [*items, ((), [])]:  # the final () closes what is open
            while open_path and open_path != ctx[:len(open_path)]:
                out.append(" " * (len(open_path) - 1) + _exits(open_path[-1:])[0])
                open_path = open_path[:-1]
            if not ctx:
                continue
            for depth in range(len(open_path), len(ctx)):
                out.append(" " * depth + ctx[depth])
            open_path = ctx
            out.extend(" " * len(ctx) + line for line in lines)
        return "\n".join(out) + "\n"

    def without(self, *, contexts: tuple[str, ...] = (), lines: tuple[str, ...] = ()
                ) -> FrrConfig:
        """Return a copy without contexts whose opener starts with one of *contexts*
        and without lines (anywhere) starting with one of *lines*."""
        copy = FrrConfig()
        for ctx, body in self.contexts.items():
            if ctx and ctx[0].startswith(contexts) if contexts else False:
                continue
            copy.contexts[ctx] = [ln for ln in body if not (lines and ln.startswith(lines))]
        return copy


def _is_exit(line: str) -> bool:
    return line in ("exit", "exit-address-family", "exit-vrf", "exit-vnc", "quit")


def no_form(line: str) -> str:
    """Return the command that removes *line*."""
    negated = NEGATED.match(line)
    if negated:
        return negated.group(1)
    for pattern, default in RESTORE_DEFAULT:
        if pattern.match(line):
            return default
    for pattern, repl in NO_FORMS:
        if pattern.match(line):
            return "no " + pattern.sub(repl, line)
    return "no " + line


@dataclass(frozen=True)
class Change:
    """One command in a context: ``sign`` '+' adds it, '-' removes it (``command`` is what
    vtysh is sent: the line itself or its "no" form)."""

    context: Context
    sign: str
    line: str
    command: str


def delta(running: FrrConfig, candidate: FrrConfig, *, replace: bool) -> list[Change]:
    """Return the changes that make *running* hold *candidate* (deletes first).

    Merge: only what the candidate adds. Replace: also remove what the running config has
    and the candidate does not.
    """
    deletes: list[Change] = []
    if replace:
        removed_contexts: list[Context] = []
        for ctx, lines in running.contexts.items():
            if any(ctx[:n] == r for r in removed_contexts for n in range(1, len(ctx) + 1)):
                continue  # inside a context removed as a whole
            if ctx and ctx not in candidate.contexts and len(ctx) == 1 and not (
                    KEEP_CONTEXTS.match(ctx[0])):
                removed_contexts.append(ctx)
                deletes.append(Change((), "-", ctx[0], no_form(ctx[0])))
                continue
            wanted = set(candidate.lines(ctx))
            deletes.extend(Change(ctx, "-", ln, no_form(ln)) for ln in lines
                           if ln not in wanted)
    adds: list[Change] = []
    for ctx, lines in candidate.contexts.items():
        have = set(running.lines(ctx))
        new_context = bool(ctx) and ctx not in running.contexts
        if new_context and not lines:
            adds.append(Change(ctx[:-1], "+", ctx[-1], ctx[-1]))
        adds.extend(Change(ctx, "+", ln, ln) for ln in lines if ln not in have)
    return deletes + adds


def commands(changes: Iterable[Change]) -> list[str]:
    """Return the config-mode commands (context openers and exits included) for *changes*."""
    out: list[str] = []
    current: Context = ()
    for change in changes:
        if change.context != current:
            out.extend(_exits(current))
            out.extend(change.context)
            current = change.context
        out.append(change.command)
    out.extend(_exits(current))
    return out


def _exits(context: Context) -> list[str]:
    return [EXITS.get(opener.split()[0], "exit") for opener in reversed(context)]


def render_diff(changes: Iterable[Change]) -> str:
    """Return a readable diff: contexts as headers, '+'/'-' lines, '' when nothing changes."""
    out: list[str] = []
    current: Context | None = None
    for change in changes:
        if change.context != current:
            for depth, opener in enumerate(change.context):
                if current is None or current[:depth + 1] != change.context[:depth + 1]:
                    out.append(" " * depth + "  " + opener)
            current = change.context
        out.append(f"{change.sign}{' ' * len(change.context)} {change.line}")
    return "\n".join(out) + ("\n" if out else "")
