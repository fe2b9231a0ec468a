"""RFC 6587 framing: octet counting, newline, and senders that lie about either."""

from __future__ import annotations

from siem.framing import Framer
from siem.spool import FLAG_FRAMING_ERROR, FLAG_TRUNCATED


def frames(chunks: list[bytes], max_message: int = 64) -> list[tuple[bytes, int]]:
    framer = Framer(max_message)
    out: list[tuple[bytes, int]] = []
    for chunk in chunks:
        out += framer.feed(chunk)
    return out + framer.finish()


def test_octet_counting_split_anywhere() -> None:
    stream = b"11 <13>1 - - a13 <13>1 - - bcd"
    for cut in range(len(stream)):
        assert frames([stream[:cut], stream[cut:]]) == [(b"<13>1 - - a", 0),
                                                        (b"<13>1 - - bcd", 0)]


def test_newline_framing_with_crlf_and_missing_final_newline() -> None:
    assert frames([b"<13>one\r\n<13>tw", b"o\n\n<13>three"]) == [
        (b"<13>one", 0), (b"<13>two", 0), (b"<13>three", 0)]


def test_long_newline_line_is_truncated_and_the_rest_skipped() -> None:
    out = frames([b"<13>" + b"x" * 200, b"y" * 100 + b"\n<13>next\n"], max_message=64)
    assert out[0] == (b"<13>" + b"x" * 60, FLAG_TRUNCATED)
    assert out[1] == (b"<13>next", 0)
    assert len(out) == 2


def test_oversize_octet_count_is_truncated_and_skipped() -> None:
    body = b"z" * 100
    out = frames([b"100 " + body + b"5 <13>a"], max_message=64)
    assert out == [(b"z" * 64, FLAG_TRUNCATED), (b"<13>a", 0)]


def test_octet_count_lie_switches_to_newline_framing() -> None:
    out = frames([b"3 <13>abc\n<13>next\n"])
    # "<13" is taken as the framed message, then "abc" is not a count: newline mode.
    assert out[0] == (b"<13", 0)
    assert out[1] == (b">abc", FLAG_FRAMING_ERROR)
    assert out[2] == (b"<13>next", 0)


def test_non_numeric_count_after_good_frames() -> None:
    out = frames([b"5 <13>a", b"xyz <13>b\n"])
    assert out == [(b"<13>a", 0), (b"xyz <13>b", FLAG_FRAMING_ERROR)]


def test_incomplete_octet_frame_at_eof_is_kept_and_flagged() -> None:
    assert frames([b"50 <13>short"]) == [(b"50 <13>short", FLAG_FRAMING_ERROR)]
