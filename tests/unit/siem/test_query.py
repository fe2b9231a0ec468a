"""The console query language: parsing, errors, and Python evaluation."""

from __future__ import annotations

import re

import pytest

from siem.query import Bool, Not, QueryError, Term, compile_python, parse_query, parse_time

EVENT = {"source.ip": "10.1.2.3", "event.outcome": "failure", "user.name": "Admin",
         "host.name": "r1.lab", "event.severity": 4, "tags": ["web_attack", "x"],
         "message": "Failed password for admin from 10.1.2.3", "source.port": 2222}


def matches(q: str) -> bool:
    return compile_python(parse_query(q))(EVENT)


def test_precedence_and_implicit_and() -> None:
    node = parse_query("a:1 OR b:2 c:3")
    assert node == Bool("or", (Term("a", "eq", "1"),
                               Bool("and", (Term("b", "eq", "2"), Term("c", "eq", "3")))))
    assert parse_query("NOT a:1") == Not(Term("a", "eq", "1"))
    assert parse_query("-a:1") == Not(Term("a", "eq", "1"))


@pytest.mark.parametrize(("query", "expected"), [
    ("source.ip:10.1.2.3 AND event.outcome:failure", True),
    ("source.ip:10.1.0.0/16", True),
    ("source.ip:10.1.2.0/25", True),
    ("source.ip:10.1.2.128/25", False),
    ("source.ip:10.2.0.0/16", False),
    ('user.name:"Admin"', True),
    ("user.name:adm*", True),
    ("host.name:r?.lab", True),
    ("NOT user.name:Admin", False),
    ("(user.name:x OR user.name:Admin) AND NOT tags:nope", True),
    ("tags:web_attack", True),
    ("event.severity:<=4", True),
    ("event.severity:>4", False),
    ("source.port:2222", True),
    ("password", True),
    ('"for admin"', True),
    ("event.outcome:(success OR failure)", True),
    ("user.name:*", True),
    ("destination.ip:*", False),
])
def test_python_evaluation(query: str, expected: bool) -> None:
    assert matches(query) is expected


@pytest.mark.parametrize(("query", "error"), [
    ("(a:1", "missing ')'"),
    ('a:"open', "unclosed quote"),
    ("a:1 OR", "ends where a term"),
    ("source.ip:10.0.0.0/33", "not a valid CIDR"),
    ("event.severity:>high", "not a number"),
    ("user.name:>3", "numeric fields only"),
    (") a:1", "unexpected ')'"),
])
def test_errors_are_clear(query: str, error: str) -> None:
    with pytest.raises(QueryError, match=re.escape(error)):
        parse_query(query)


def test_time_ranges() -> None:
    assert parse_time("") is None
    assert parse_time("2024-11-23T10:00:00Z").isoformat() == "2024-11-23T10:00:00+00:00"
    with pytest.raises(QueryError, match="relative time"):
        parse_time("yesterday")


@pytest.mark.parametrize(("query", "gates"), [
    ("event.action:firewall_deny OR (event.module:openssh AND event.outcome:failure)",
     [("event.action", {"firewall_deny"}), ("event.module", {"openssh"})]),
    ("event.module:openssh AND event.outcome:failure", [("event.module", {"openssh"})]),
    ("event.action:(a OR b) OR event.action:c", [("event.action", {"a", "b", "c"})]),
    ("event.action:a OR source.ip:10.0.0.1", None),
    ("NOT event.action:a", None),
    ("(event.action:a OR event.module:m) AND (event.action:b OR event.outcome:x)",
     [("event.action", {"a"}), ("event.module", {"m"})]),
])
def test_gates_are_necessary_conditions(query: str, gates: list | None) -> None:
    from siem.query import gates_of

    found = gates_of(parse_query(query))
    assert (None if found is None else [(f, set(v)) for f, v in found]) == gates
