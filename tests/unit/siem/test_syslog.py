"""RFC 5424 and RFC 3164 header parsing, with the edge cases senders really produce."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from siem.parsers.syslog import parse_rfc3339, parse_syslog
from tests.unit.siem.helpers import RECEIVED, event_of


def test_rfc5424_full_example_with_structured_data_and_bom() -> None:
    line = ('<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 '
            '[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"]'
            '[examplePriority@32473 class="high"] \ufeffAn application event log entry...')
    msg = parse_syslog(line.encode(), RECEIVED)
    assert msg.format == "rfc5424"
    assert (msg.priority, msg.facility, msg.severity, msg.version) == (165, 20, 5, 1)
    assert msg.timestamp == datetime(2003, 10, 11, 22, 14, 15, 3000, tzinfo=UTC)
    assert msg.hostname == "mymachine.example.com"
    assert msg.app_name == "evntslog"
    assert msg.procid is None
    assert msg.msgid == "ID47"
    assert msg.structured_data == {
        "exampleSDID@32473": {"iut": "3", "eventSource": "Application", "eventID": "1011"},
        "examplePriority@32473": {"class": "high"},
    }
    assert msg.message == "An application event log entry..."
    assert msg.errors == []


def test_rfc5424_nilvalues_and_no_message() -> None:
    msg = parse_syslog(b"<34>1 - - - - - -", RECEIVED)
    assert msg.format == "rfc5424"
    assert (msg.timestamp, msg.hostname, msg.app_name, msg.procid, msg.msgid) == (
        None, None, None, None, None)
    assert msg.structured_data is None
    assert msg.message == ""
    assert msg.errors == []


def test_rfc5424_timezone_offset_and_long_fraction() -> None:
    msg = parse_syslog(b"<13>1 2024-11-23T17:15:01.123456789+07:00 r1 app 42 - - hello",
                       RECEIVED)
    assert msg.timestamp == datetime(2024, 11, 23, 17, 15, 1, 123456,
                                     tzinfo=timezone(timedelta(hours=7)))
    assert msg.timestamp.astimezone(UTC) == datetime(2024, 11, 23, 10, 15, 1, 123456, tzinfo=UTC)
    assert msg.procid == "42"
    assert msg.message == "hello"


def test_rfc5424_escaped_sd_values() -> None:
    msg = parse_syslog(b'<13>1 - h a - - [x@1 k="a \\"q\\" \\] \\\\ b"] m', RECEIVED)
    assert msg.structured_data == {"x@1": {"k": 'a "q" ] \\ b'}}
    assert msg.message == "m"


def test_rfc5424_bad_structured_data_is_flagged_not_lost() -> None:
    msg = parse_syslog(b'<13>1 - h a - - [broken k=unquoted] text', RECEIVED)
    assert "bad STRUCTURED-DATA" in msg.errors
    assert "text" in msg.message


def test_rfc5424_bad_timestamp() -> None:
    msg = parse_syslog(b"<13>1 2024-13-45T99:00:00Z h a - - - m", RECEIVED)
    assert msg.timestamp is None
    assert msg.errors and msg.errors[0].startswith("bad timestamp")


def test_rfc3164_classic() -> None:
    msg = parse_syslog(b"<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on "
                       b"/dev/pts/8", RECEIVED)
    assert msg.format == "rfc3164"
    assert (msg.facility, msg.severity) == (4, 2)
    assert msg.timestamp == datetime(2024, 10, 11, 22, 14, 15, tzinfo=UTC)
    assert (msg.hostname, msg.app_name, msg.procid) == ("mymachine", "su", None)
    assert msg.message == "'su root' failed for lonvick on /dev/pts/8"


def test_rfc3164_single_digit_day_pid_and_year_rollover() -> None:
    msg = parse_syslog(b"<38>Dec  3 23:59:59 bastion sshd[812]: x", datetime(2025, 1, 1,
                                                                          tzinfo=UTC))
    assert msg.timestamp == datetime(2024, 12, 3, 23, 59, 59, tzinfo=UTC)
    assert (msg.app_name, msg.procid, msg.message) == ("sshd", "812", "x")


def test_rfc3164_without_hostname() -> None:
    msg = parse_syslog(b"<13>Nov 23 10:00:00 sshd[1]: hello", RECEIVED)
    assert msg.hostname is None
    assert msg.app_name == "sshd"


def test_rfc3164_with_iso_timestamp_as_rsyslog_writes_files() -> None:
    msg = parse_syslog(b"2024-11-23T17:15:01.123456+07:00 web1 nginx: hello", RECEIVED,
                       require_pri=False)
    assert msg.format == "rfc3164"
    assert msg.timestamp == datetime(2024, 11, 23, 10, 15, 1, 123456, tzinfo=UTC)
    assert (msg.hostname, msg.app_name, msg.errors) == ("web1", "nginx", [])


def test_default_timezone_applies_to_rfc3164() -> None:
    wib = timezone(timedelta(hours=7))
    msg = parse_syslog(b"<13>Nov 23 17:00:00 h p: m", RECEIVED, tz=wib)
    assert msg.timestamp == datetime(2024, 11, 23, 10, 0, tzinfo=UTC)


def test_bad_pri_values_keep_the_line_raw() -> None:
    for line in (b"<999>Nov 23 10:00:00 h p: m", b"<>hello", b"<192>x", b"<012>x",
                 b"<99999999>x"):
        msg = parse_syslog(line, RECEIVED)
        assert msg.priority is None
        assert msg.errors[0].startswith("bad PRI"), line
        assert msg.message == line.decode()


def test_missing_pri_is_flagged_on_the_network_but_not_in_files() -> None:
    assert parse_syslog(b"Nov 23 10:00:00 h p: m", RECEIVED).errors == ["missing PRI"]
    msg = parse_syslog(b"Nov 23 10:00:00 h p: m", RECEIVED, require_pri=False)
    assert msg.errors == [] and msg.app_name == "p"


def test_invalid_utf8_and_nul_bytes() -> None:
    msg = parse_syslog(b"<13>1 - h a - - - caf\xe9 \x00 end", RECEIVED)
    assert msg.message == "caf\ufffd \ufffd end"
    assert msg.errors == ["invalid UTF-8", "NUL byte"]


def test_rfc3339_helper() -> None:
    assert parse_rfc3339("1985-04-12T23:20:50.52Z") == datetime(1985, 4, 12, 23, 20, 50, 520000,
                                                                 tzinfo=UTC)
    assert parse_rfc3339("not a time") is None
    assert parse_rfc3339("2024-02-30T00:00:00Z") is None


def test_normalised_header_fields() -> None:
    event = event_of("<86>1 2024-11-23T10:15:01.5Z bastion sshd 2211 - - Server listening")
    assert event["@timestamp"] == datetime(2024, 11, 23, 10, 15, 1, 500000, tzinfo=UTC)
    assert event["event.created"] == RECEIVED
    assert event["host.name"] == "bastion"
    assert event["host.ip"] == "192.0.2.1"
    assert event["log.syslog.facility.name"] == "authpriv"
    assert event["log.syslog.severity.name"] == "informational"
    assert event["log.syslog.priority"] == 86
    assert event["event.severity"] == 6
    assert event["process.name"] == "sshd"
    assert event["process.pid"] == 2211
    assert event["message"] == "Server listening"
    assert event["tags"] == ["unparsed"]
    assert len(event["event.id"]) == 32


def test_timestamps_far_from_arrival_fall_back_to_arrival() -> None:
    for stamp in ("2999-01-01T00:00:00Z", "1971-01-01T00:00:00Z"):
        event = event_of(f"<13>1 {stamp} h a - - - m")
        assert event["@timestamp"] == RECEIVED
        assert event["log.syslog.original_timestamp"].startswith(stamp[:4])
        assert "timestamp_out_of_range" in event["tags"]


def test_event_id_is_stable_per_position_and_differs_between_positions() -> None:
    a, b, c = event_of("x", pos=10), event_of("x", pos=10), event_of("x", pos=11)
    assert a["event.id"] == b["event.id"] != c["event.id"]
