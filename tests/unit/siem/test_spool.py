"""The segment spool: append, read, commit, recovery from a torn tail, rotation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from siem.errors import SpoolError
from siem.spool import Record, Spool, spool_status


def recs(n: int, start: int = 0) -> list[Record]:
    return [Record(f"message {i}".encode(), 1700000000.0 + i, "tcp", "192.0.2.1", 514)
            for i in range(start, start + n)]


def read_all(spool: Spool) -> list[Record]:
    out: list[Record] = []
    while True:
        batch = spool.read(1000, timeout=0)
        if not batch.records:
            return out
        out.extend(batch.records)


def test_append_read_commit_and_reopen(tmp_path: Path) -> None:
    spool = Spool(tmp_path, segment_bytes=4096).open()
    for i in range(5):  # a batch never spans segments; rotation is between appends
        spool.append(recs(20, i * 20))
    first = spool.read(40, timeout=0)
    assert [r.raw for r in first.records] == [f"message {i}".encode() for i in range(40)]
    assert first.records[0].peer_ip == "192.0.2.1" and first.records[0].transport == "tcp"
    spool.commit(first.end)
    rest = read_all(spool)
    assert len(rest) == 60
    assert len(list(tmp_path.glob("*.seg"))) > 1  # rotated at 4 KiB
    spool.close()
    # Not committed -> delivered again after a restart, with the same positions.
    again = Spool(tmp_path, segment_bytes=4096).open()
    redelivered = read_all(again)
    assert [r.pos for r in redelivered] == [r.pos for r in rest]
    again.commit(redelivered[-1].pos + 1)
    again.close()


def test_committed_segments_are_deleted(tmp_path: Path) -> None:
    spool = Spool(tmp_path, segment_bytes=4096).open()
    for i in range(10):
        spool.append(recs(20, i * 20))
    got = read_all(spool)
    assert len(got) == 200
    spool.commit(spool.written)
    assert len(list(tmp_path.glob("*.seg"))) == 1
    assert spool.backlog_bytes == 0
    spool.close()
    assert spool_status(tmp_path)["backlog_bytes"] == 0


def test_torn_tail_is_truncated_on_open(tmp_path: Path) -> None:
    spool = Spool(tmp_path).open()
    spool.append(recs(5))
    spool.close()
    seg = max(tmp_path.glob("*.seg"))
    with open(seg, "ab") as fh:
        fh.write(b"\x40\x00\x00\x00garbage-partial")
    reopened = Spool(tmp_path).open()
    assert [r.raw for r in read_all(reopened)] == [f"message {i}".encode() for i in range(5)]
    reopened.append(recs(1, 5))
    assert read_all(reopened)[0].raw == b"message 5"
    reopened.close()


def test_corrupt_record_in_the_middle_is_skipped_not_fatal(tmp_path: Path) -> None:
    spool = Spool(tmp_path).open()
    spool.append(recs(3))
    spool.append(recs(3, 3))
    seg = min(tmp_path.glob("*.seg"), key=lambda p: int(p.stem))
    data = bytearray(seg.read_bytes())
    data[12] ^= 0xFF  # flip a payload byte of the first record
    seg.write_bytes(bytes(data))
    got = read_all(spool)  # rest of that segment is skipped, nothing raises
    assert all(r.raw.startswith(b"message") for r in got)
    spool.close()


def test_second_process_cannot_open_the_same_spool(tmp_path: Path) -> None:
    spool = Spool(tmp_path).open()
    with pytest.raises(SpoolError, match="in use"):
        Spool(tmp_path).open()
    spool.close()


def test_positions_never_repeat_and_epoch_is_kept(tmp_path: Path) -> None:
    spool = Spool(tmp_path).open()
    epoch = spool.epoch
    spool.append(recs(3))
    batch = read_all(spool)
    spool.commit(spool.written)
    spool.close()
    reopened = Spool(tmp_path).open()
    reopened.append(recs(1))
    newer = read_all(reopened)
    assert reopened.epoch == epoch
    assert newer[0].pos >= batch[-1].pos + 1
    reopened.close()


def test_fsync_every_append_mode(tmp_path: Path) -> None:
    spool = Spool(tmp_path, fsync_ms=0).open()
    spool.append(recs(2))
    assert len(read_all(spool)) == 2
    spool.close()
    assert os.path.getsize(tmp_path / "epoch") == 32
