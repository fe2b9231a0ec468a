"""Hostile input: the parser and the framer never raise, and every line yields an event."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siem.framing import Framer
from siem.normalise import raw_text
from siem.store import event_row
from tests.unit.siem.helpers import event_of

FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

PREFIXES = st.sampled_from([
    b"", b"<13>", b"<999>", b"<>", b"<13>1 ", b"<13>1 2024-11-23T10:00:00Z h a - - ",
    b"<165>1 - - - - - [x@1 a=\"", b"<38>Nov 23 10:15:01 h sshd[1]: ", b"<189>57: %SYS-5-",
    b"date=2024-11-23 logid=1 devname=x ", b"kernel: IN=eth0 SRC=", b"<30>system,info ",
    b"1.2.3.4 - - [", b"<13>1 - h simpul - nac - {", b"\xef\xbb\xbf", b"\x00\xff",
])


@FUZZ
@given(prefix=PREFIXES, body=st.binary(max_size=2000))
def test_any_bytes_become_a_storable_event(prefix: bytes, body: bytes) -> None:
    raw = prefix + body
    event = event_of(raw)
    assert event["event.id"]
    assert "\x00" not in event["message"]
    text, encoding = raw_text(raw)
    row = event_row(event, text, encoding, 1)
    json.dumps(row["doc"])
    assert len(row["source_ip"] or "") <= 45


@FUZZ
@given(prefix=PREFIXES, body=st.text(max_size=500))
def test_any_text_becomes_an_event(prefix: bytes, body: str) -> None:
    event = event_of(prefix + body.encode("utf-8", "surrogatepass"))
    assert isinstance(event["message"], str)


@FUZZ
@given(chunks=st.lists(st.binary(max_size=300), max_size=20))
def test_framer_is_bounded_and_total(chunks: list[bytes]) -> None:
    framer = Framer(128)
    out = []
    for chunk in chunks:
        out += framer.feed(chunk)
        assert len(framer._buf) <= 128 + 300 + 16
    out += framer.finish()
    assert all(len(m) <= 128 for m, _ in out)


def test_specific_hostile_lines() -> None:
    cases = [b"\x00" * 50, b"<999>x", b"<>", b"\xff\xfe\xfd", b"<13>1 9999-99-99T99:99:99Z",
             b"<13>" + b"A" * 70000, b"<13>1 - - - - - [a", b"<13>1 - - - - - [a b=\"c",
             b"<38>Nov 23 10:15:01 h sshd[1]: Failed password for " + b"x" * 5000,
             b"<13>1 3000-01-01T00:00:00Z h a - - - future", b"%%%-9-X: "]
    for raw in cases:
        event = event_of(raw)
        assert event["event.id"]
        _text, encoding = raw_text(raw)
        assert encoding == ("base64" if b"\x00" in raw or b"\xff" in raw else "utf8")
