"""The console's query language: one parser, compiled to SQL for searches and to Python for rules.

Syntax (Lucene/Kibana-like, what analysts already type)::

    source.ip:10.0.0.1 AND event.outcome:failure
    user.name:"admin user" OR NOT host.name:r1*
    source.ip:10.1.0.0/16 AND (event.action:ssh_login OR event.action:login)
    event.severity:<=3  destination.port:>1024   tags:unparsed   "free text"

* ``field:value``; values may be quoted (``"..."`` with ``\\"`` escapes); ``*`` and ``?``
  are wildcards (case-insensitive match); ``field:*`` means the field is present.
* ``AND``, ``OR``, ``NOT`` (also ``&&``, ``||``, ``!`` and a leading ``-``), parentheses;
  juxtaposed terms are ANDed; AND binds tighter than OR.
* IP fields (``*.ip``, ``related.ip``) accept CIDR (``10.1.0.0/16``), compiled to exact
  prefix matches that both SQLite and PostgreSQL evaluate with their indexes where one
  exists; numeric fields accept ``>``, ``>=``, ``<``, ``<=``.
* A bare word or quoted phrase searches the message text.

``compile_sql`` returns a SQLAlchemy condition on ``siem_events`` (indexed columns where
the field has one, the JSON document otherwise) — never Python-side filtering of rows.
``compile_python`` returns a predicate over flat events for correlation rules, so rules
and searches cannot disagree about what a query means.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, cast, false, not_, or_, true
from sqlalchemy.sql.elements import ColumnElement

from siem.errors import SiemError
from siem.models import SiemEvent

MAX_QUERY = 4000
MAX_TERMS = 200

# Fields with a column of their own (fast, indexed where it matters).
COLUMNS: dict[str, Any] = {
    "event.id": SiemEvent.event_id, "host.name": SiemEvent.host_name,
    "host.ip": SiemEvent.host_ip, "source.ip": SiemEvent.source_ip,
    "destination.ip": SiemEvent.destination_ip, "user.name": SiemEvent.user_name,
    "event.action": SiemEvent.action, "event.outcome": SiemEvent.outcome,
    "event.dataset": SiemEvent.dataset, "event.severity": SiemEvent.severity,
    "message": SiemEvent.message,
}
NUMERIC = frozenset({"event.severity", "source.port", "destination.port", "process.pid",
                     "http.response.status_code", "log.syslog.priority",
                     "log.syslog.severity.code", "log.syslog.facility.code",
                     "network.bytes", "source.bytes", "destination.bytes"})
LIST_FIELDS = frozenset({"tags", "related.ip", "related.user", "event.category", "event.type",
                         "web.attack"})
_FIELD_RE = re.compile(r"^[A-Za-z@_][\w.@-]*$")


class QueryError(SiemError):
    """The query text is not valid; the message says where and why."""


@dataclass(frozen=True)
class Term:
    """``field:value`` (field None: free text on the message)."""

    field: str | None
    op: str  # eq, wild, cidr, exists, gt, gte, lt, lte
    value: Any


@dataclass(frozen=True)
class Bool:
    """AND / OR over children."""

    op: str
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    """Negation of one child."""

    child: Node


Node = Term | Bool | Not


# ---------------------------------------------------------------- tokenizer

@dataclass(frozen=True)
class _Tok:
    kind: str  # word, str, lpar, rpar, and, or, not
    text: str
    pos: int


def _tokenize(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c in "()":
            toks.append(_Tok("lpar" if c == "(" else "rpar", c, i))
            i += 1
            continue
        if text.startswith("&&", i) or text.startswith("||", i):
            toks.append(_Tok("and" if c == "&" else "or", text[i:i + 2], i))
            i += 2
            continue
        if c == "!" or (c == "-" and (not toks or toks[-1].kind in ("lpar", "and", "or", "not"))
                        and i + 1 < n and not text[i + 1].isspace()):
            toks.append(_Tok("not", c, i))
            i += 1
            continue
        if c == '"':
            j, buf = i + 1, []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(text[j])
                j += 1
            if j >= n:
                raise QueryError(f"unclosed quote starting at position {i + 1}")
            toks.append(_Tok("str", "".join(buf), i))
            i = j + 1
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] not in '()"':
            j += 1
        # field:"quoted value" — keep the quote with its field
        word = text[i:j]
        if word.endswith(":") and j < n and text[j] == '"':
            toks.append(_Tok("word", word, i))
            i = j
            continue
        upper = word.upper()
        kind = {"AND": "and", "OR": "or", "NOT": "not"}.get(upper, "word")
        toks.append(_Tok(kind, word, i))
        i = j
    return toks


# ------------------------------------------------------------------- parser

class _Parser:
    def __init__(self, toks: list[_Tok]) -> None:
        self.toks, self.i, self.terms = toks, 0, 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def parse(self) -> Node:
        node = self.or_expr()
        tok = self.peek()
        if tok is not None:
            raise QueryError(f"unexpected {tok.text!r} at position {tok.pos + 1}")
        return node

    def or_expr(self) -> Node:
        items = [self.and_expr()]
        while (tok := self.peek()) is not None and tok.kind == "or":
            self.take()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Bool("or", tuple(items))

    def and_expr(self) -> Node:
        items = [self.not_expr()]
        while (tok := self.peek()) is not None and tok.kind not in ("or", "rpar"):
            if tok.kind == "and":
                self.take()
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else Bool("and", tuple(items))

    def not_expr(self) -> Node:
        tok = self.peek()
        if tok is not None and tok.kind == "not":
            self.take()
            return Not(self.not_expr())
        return self.primary()

    def primary(self) -> Node:
        tok = self.peek()
        if tok is None:
            raise QueryError("query ends where a term was expected")
        if tok.kind == "lpar":
            self.take()
            node = self.or_expr()
            close = self.peek()
            if close is None or close.kind != "rpar":
                raise QueryError(f"missing ')' for '(' at position {tok.pos + 1}")
            self.take()
            return node
        if tok.kind in ("rpar", "and", "or"):
            raise QueryError(f"unexpected {tok.text!r} at position {tok.pos + 1}")
        self.take()
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise QueryError(f"too many terms (at most {MAX_TERMS})")
        if tok.kind == "str":
            return Term(None, "eq", tok.text)
        field, sep, value = tok.text.partition(":")
        if not sep or not _FIELD_RE.match(field):
            return Term(None, "wild" if any(c in tok.text for c in "*?") else "eq", tok.text)
        nxt = self.peek()
        if value == "" and nxt is not None and nxt.kind == "str" and nxt.pos == tok.pos + len(
                tok.text):
            self.take()
            return make_term(field, nxt.text, quoted=True)
        if value == "" and nxt is not None and nxt.kind == "lpar" \
                and nxt.pos == tok.pos + len(tok.text):
            return self.value_group(field)
        if value == "":
            raise QueryError(f"{field}: needs a value (position {tok.pos + 1})")
        return make_term(field, value, quoted=False)

    def value_group(self, field: str) -> Node:
        """``field:(a OR b OR "c d")``."""
        open_tok = self.take()
        values: list[Node] = []
        while True:
            tok = self.peek()
            if tok is None:
                raise QueryError(f"missing ')' for '(' at position {open_tok.pos + 1}")
            self.take()
            if tok.kind == "rpar":
                break
            if tok.kind == "or":
                continue
            if tok.kind not in ("word", "str"):
                raise QueryError(f"only values and OR may appear in {field}:( ... )")
            values.append(make_term(field, tok.text, quoted=tok.kind == "str"))
        if not values:
            raise QueryError(f"{field}:() is empty")
        return values[0] if len(values) == 1 else Bool("or", tuple(values))


def is_ip_field(field: str) -> bool:
    """True for address fields, where CIDR values are allowed."""
    return field.endswith(".ip") or field == "related.ip"


def make_term(field: str, value: str, *, quoted: bool) -> Term:
    """Build and validate one ``field:value`` term."""
    if not quoted and value == "*":
        return Term(field, "exists", None)
    if not quoted and field in NUMERIC:
        for prefix, op in ((">=", "gte"), ("<=", "lte"), (">", "gt"), ("<", "lt")):
            if value.startswith(prefix):
                raw = value[len(prefix):]
                try:
                    return Term(field, op, float(raw))
                except ValueError:
                    raise QueryError(f"{field}: {raw!r} is not a number") from None
    elif not quoted and value[:1] in "<>":
        raise QueryError(f"{field}: comparisons work on numeric fields only "
                         f"({', '.join(sorted(NUMERIC))})")
    if not quoted and "/" in value and is_ip_field(field):
        try:
            net = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise QueryError(f"{field}: {value!r} is not a valid CIDR network") from None
        return Term(field, "cidr", net)
    if not quoted and any(c in value for c in "*?"):
        return Term(field, "wild", value)
    if field in NUMERIC:
        try:
            number = float(value)
        except ValueError:
            raise QueryError(f"{field}: {value!r} is not a number") from None
        return Term(field, "eq", int(number) if number.is_integer() else number)
    return Term(field, "eq", value)


def parse_query(text: str) -> Node | None:
    """Parse *text*; None for an empty query (match everything).

    Raises:
        QueryError: with the position and reason of the first problem.
    """
    text = (text or "").strip()
    if not text:
        return None
    if len(text) > MAX_QUERY:
        raise QueryError(f"query too long (at most {MAX_QUERY} characters)")
    return _Parser(_tokenize(text)).parse()


# -------------------------------------------------------------- SQL compile

def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _wild_to_like(value: str) -> str:
    return _like_escape(value).replace("*", "%").replace("?", "_")


def _text_expr(field: str) -> ColumnElement[Any]:
    column = COLUMNS.get(field)
    if column is not None and field not in NUMERIC:
        return column
    return cast(SiemEvent.doc[field].as_string(), String)


def _cidr_sql(expr: ColumnElement[Any], net: ipaddress.IPv4Network | ipaddress.IPv6Network
              ) -> ColumnElement[bool]:
    """Exact CIDR membership on dotted-quad text: whole octets by prefix, the rest listed."""
    if net.version == 6:
        if net.prefixlen % 16 or net.prefixlen == 0:
            raise QueryError("IPv6 CIDR must have a prefix that is a multiple of 16")
        if net.prefixlen == 128:
            return expr == str(net.network_address)
        groups = net.network_address.exploded.split(":")[: net.prefixlen // 16]
        prefix = ":".join(g.lstrip("0") or "0" for g in groups) + ":"
        return expr.like(_like_escape(prefix) + "%", escape="\\")
    if net.prefixlen == 32:
        return expr == str(net.network_address)
    if net.prefixlen == 0:
        return expr.like("%.%.%.%")
    octets = str(net.network_address).split(".")
    full, rest = divmod(net.prefixlen, 8)
    if rest == 0:
        return expr.like(_like_escape(".".join(octets[:full]) + ".") + "%", escape="\\")
    base = int(octets[full]) & (0xFF << (8 - rest)) & 0xFF
    head = ".".join(octets[:full])
    head = head + "." if head else ""
    if full == 3:
        return expr.in_([f"{head}{v}" for v in range(base, base + (1 << (8 - rest)))])
    return or_(*(expr.like(_like_escape(f"{head}{v}.") + "%", escape="\\")
                 for v in range(base, base + (1 << (8 - rest)))))


def _term_sql(term: Term) -> ColumnElement[bool]:
    if term.field is None:
        text = str(term.value)
        pattern = _wild_to_like(text) if term.op == "wild" else "%" + _like_escape(text) + "%"
        if term.op == "wild" and not pattern.startswith("%"):
            pattern = "%" + pattern
        if term.op == "wild" and not pattern.endswith("%"):
            pattern += "%"
        return SiemEvent.message.ilike(pattern, escape="\\")
    field = term.field
    if field in LIST_FIELDS:
        listed = cast(SiemEvent.doc[field], String)
        if term.op == "exists":
            return and_(listed.is_not(None), listed != "null")
        if term.op == "cidr":
            raise QueryError(f"{field}: CIDR is not supported on list fields; use "
                             "source.ip or destination.ip")
        inner = _wild_to_like(str(term.value)) if term.op == "wild" else _like_escape(
            str(term.value))
        return listed.ilike(f'%"{inner}"%', escape="\\")
    if field in NUMERIC:
        column = COLUMNS.get(field)
        num = column if column is not None else SiemEvent.doc[field].as_float()
        if term.op == "exists":
            return num.is_not(None)
        if term.op in ("eq", "wild"):
            if term.op == "wild":
                raise QueryError(f"{field}: wildcards do not apply to numbers")
            return num == term.value
        ops = {"gt": num > term.value, "gte": num >= term.value, "lt": num < term.value,
               "lte": num <= term.value}
        return ops[term.op]
    expr = _text_expr(field)
    if term.op == "exists":
        return expr.is_not(None)
    if term.op == "cidr":
        return _cidr_sql(expr, term.value)
    if term.op == "wild":
        return expr.ilike(_wild_to_like(term.value), escape="\\")
    return expr == term.value


def compile_sql(node: Node | None) -> ColumnElement[bool]:
    """Return the SQL condition for *node* (TRUE for an empty query)."""
    if node is None:
        return true()
    if isinstance(node, Term):
        return _term_sql(node)
    if isinstance(node, Not):
        return not_(compile_sql(node.child))
    parts = [compile_sql(child) for child in node.children]
    return and_(*parts) if node.op == "and" else or_(*parts)


# ----------------------------------------------------------- Python compile

Predicate = Callable[[dict[str, Any]], bool]


def _values(event: dict[str, Any], field: str) -> list[Any]:
    value = event.get(field)
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _term_py(term: Term) -> Predicate:
    field, op, want = term.field, term.op, term.value
    if field is None:
        if op == "wild":
            rx = re.compile(fnmatch.translate(f"*{want}*"), re.IGNORECASE | re.DOTALL)
            return lambda e: bool(rx.match(str(e.get("message") or "")))
        low = str(want).lower()
        return lambda e: low in str(e.get("message") or "").lower()
    if op == "exists":
        return lambda e: e.get(field) not in (None, "", [])
    if op == "cidr":
        net = want

        def in_net(e: dict[str, Any]) -> bool:
            for v in _values(e, field):
                try:
                    if ipaddress.ip_address(v) in net:
                        return True
                except ValueError:
                    continue
            return False
        return in_net
    if op == "wild":
        rx = re.compile(fnmatch.translate(want), re.IGNORECASE | re.DOTALL)
        return lambda e: any(rx.match(str(v)) for v in _values(e, field))
    if op in ("gt", "gte", "lt", "lte"):
        cmp = {"gt": lambda a: a > want, "gte": lambda a: a >= want,
               "lt": lambda a: a < want, "lte": lambda a: a <= want}[op]

        def compare(e: dict[str, Any]) -> bool:
            for v in _values(e, field):
                try:
                    if cmp(float(v)):
                        return True
                except (TypeError, ValueError):
                    continue
            return False
        return compare
    if field in NUMERIC:
        return lambda e: any(_num_eq(v, want) for v in _values(e, field))
    if field in LIST_FIELDS:
        low = str(want).lower()
        return lambda e: any(str(v).lower() == low for v in _values(e, field))
    text = str(want)

    def equals(e: dict[str, Any]) -> bool:  # the hot path of every correlation rule
        v = e.get(field)
        if v is None:
            return False
        if v.__class__ is str:
            return v == text
        if isinstance(v, list | tuple):
            return any(str(x) == text for x in v)
        return str(v) == text
    return equals


def _num_eq(value: Any, want: float) -> bool:
    try:
        return float(value) == want
    except (TypeError, ValueError):
        return False


def compile_python(node: Node | None) -> Predicate:
    """Return a predicate over flat events equivalent to ``compile_sql(node)``."""
    if node is None:
        return lambda _e: True
    if isinstance(node, Term):
        return _term_py(node)
    if isinstance(node, Not):
        inner = compile_python(node.child)
        return lambda e: not inner(e)
    parts = [compile_python(child) for child in node.children]
    if len(parts) == 2:  # the common case, without a generator per event
        a, b = parts
        return (lambda e: a(e) and b(e)) if node.op == "and" else (lambda e: a(e) or b(e))
    if node.op == "and":
        return lambda e: all(p(e) for p in parts)
    return lambda e: any(p(e) for p in parts)


def fields_of(node: Node | None) -> set[str]:
    """The field names a query uses (for validation and docs)."""
    if node is None:
        return set()
    if isinstance(node, Term):
        return {node.field} if node.field else set()
    if isinstance(node, Not):
        return fields_of(node.child)
    out: set[str] = set()
    for child in node.children:
        out |= fields_of(child)
    return out


# -------------------------------------------------------------- time range

_REL = re.compile(r"^(\d{1,6})([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_time(value: str | None, *, now: datetime | None = None, name: str = "since"
               ) -> datetime | None:
    """``15m``/``24h``/``7d`` (that long ago) or an ISO 8601 time; None when empty.

    Raises:
        QueryError: anything else.
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    now = now or datetime.now(UTC)
    m = _REL.match(value)
    if m:
        return now - timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise QueryError(f"{name}: {value!r} is neither a relative time (15m, 24h, 7d) "
                         "nor an ISO 8601 time") from None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def always_false() -> ColumnElement[bool]:
    """A condition no row satisfies (used for empty tenancy scopes)."""
    return false()


GATE_FIELDS = ("event.action", "event.module", "event.dataset", "event.outcome")


def gate_of(node: Node | None) -> tuple[str, frozenset[str]] | None:
    """A cheap necessary condition of *node*: (field, values) every match must have.

    ``event.module:openssh AND event.outcome:failure`` -> ``("event.module", {"openssh"})``;
    ``event.action:(a OR b)`` -> ``("event.action", {"a", "b"})``. The rule engine indexes
    rules by it, so an event meets only rules that can match it. None: no such gate.
    """
    if node is None:
        return None
    if isinstance(node, Term):
        if node.field in GATE_FIELDS and node.op == "eq":
            return node.field, frozenset({str(node.value)})
        return None
    if isinstance(node, Not):
        return None
    gates = [gate_of(child) for child in node.children]
    if node.op == "and":
        found = [g for g in gates if g is not None]
        if not found:
            return None
        return min(found, key=lambda g: (GATE_FIELDS.index(g[0]), len(g[1])))
    if any(g is None for g in gates):
        return None
    fields = {g[0] for g in gates if g is not None}
    if len(fields) != 1:
        return None
    return fields.pop(), frozenset().union(*(g[1] for g in gates if g is not None))


Gate = tuple[str, frozenset[str]]


def gates_of(node: Node | None) -> list[Gate] | None:
    """Like ``gate_of``, but an OR over different fields keeps one gate per field.

    A match needs at least one of the returned gates to hold, so a rule can be indexed
    under each of them: ``event.action:firewall_deny OR (event.module:openssh AND …)``
    gives ``[("event.action", {firewall_deny}), ("event.module", {openssh})]``.
    None: some match needs no gate field at all.
    """
    if node is None:
        return None
    if isinstance(node, Term):
        gate = gate_of(node)
        return [gate] if gate is not None else None
    if isinstance(node, Not):
        return None
    if node.op == "and":
        single = gate_of(node)
        if single is not None:
            return [single]
        found = [g for g in (gates_of(child) for child in node.children) if g is not None]
        return min(found, key=len) if found else None
    merged: dict[str, frozenset[str]] = {}
    for child in node.children:
        gates = gates_of(child)
        if gates is None:
            return None
        for field, values in gates:
            merged[field] = merged.get(field, frozenset()) | values
    return sorted(merged.items(), key=lambda g: GATE_FIELDS.index(g[0]))
