"""The disk spool: append-only segment files between the receivers and the database.

Why segment files and not a SQLite spool: an append is one ``write(2)`` of a whole batch
into the page cache (it survives a SIGKILL of the process the moment it returns), an
``fsync`` every ``fsync_ms`` bounds what an OS crash or power cut can take, the reader
streams sequentially, and dropping a fully committed segment is one ``unlink``. No
second database competes with the event database for locks or WAL space.

Layout of ``spool_dir``::

    epoch                 random id of this spool, part of every network event id
    committed             "<epoch> <position>": everything before position is in the DB
    lock                  flock()ed by the one process that owns the spool
    00000000000000000000.seg, ...  segments named by the global byte position they start at

A record is ``<u32 length><u32 crc32><payload>``; positions are global byte offsets that
only grow, so ``(epoch, position)`` names a record for ever and re-delivery after a
crash maps to the same ``event.id`` (at-least-once delivery, idempotent insert).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import struct
import threading
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from loguru import logger

from siem.errors import SpoolError

HEADER = struct.Struct("<II")
META = struct.Struct("<dBHHHH")
READ_CHUNK = 4 * 1024 * 1024
MAX_PAYLOAD = 2 * 1024 * 1024

FLAG_TRUNCATED = 1
FLAG_FRAMING_ERROR = 2


@dataclass(slots=True)
class Record:
    """One received message with where and when it came from."""

    raw: bytes
    received: float
    transport: str = ""
    peer_ip: str = ""
    peer_port: int = 0
    origin: str = ""
    flags: int = 0
    pos: int = -1


@dataclass(slots=True)
class Batch:
    """Records read from the spool, and the position just after the last one."""

    records: list[Record] = field(default_factory=list)
    end: int = 0


def encode(rec: Record) -> bytes:
    """Return the on-disk form of *rec* (header, metadata, raw bytes)."""
    t, ip, o = rec.transport.encode(), rec.peer_ip.encode(), rec.origin.encode()
    payload = b"".join((META.pack(rec.received, rec.flags, rec.peer_port, len(t), len(ip),
                                  len(o)), t, ip, o, rec.raw))
    return HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def decode(payload: bytes, pos: int) -> Record:
    """Rebuild a Record from its payload (the CRC has been checked by the caller)."""
    received, flags, port, lt, li, lo = META.unpack_from(payload)
    off = META.size
    transport = payload[off:off + lt].decode()
    off += lt
    ip = payload[off:off + li].decode()
    off += li
    origin = payload[off:off + lo].decode()
    off += lo
    return Record(payload[off:], received, transport, ip, port, origin, flags, pos)


def _scan(data: bytes, base: int, limit: int = 1 << 62) -> tuple[list[Record], int, bool]:
    """Parse up to *limit* complete records from *data*; return them, bytes used, corruption."""
    out: list[Record] = []
    off, size = 0, len(data)
    while off + HEADER.size <= size and len(out) < limit:
        length, crc = HEADER.unpack_from(data, off)
        if length < META.size or length > MAX_PAYLOAD:
            return out, off, True
        end = off + HEADER.size + length
        if end > size:
            break
        payload = data[off + HEADER.size:end]
        if zlib.crc32(payload) != crc:
            return out, off, True
        out.append(decode(payload, base + off))
        off = end
    return out, off, False


def _seg_name(start: int) -> str:
    return f"{start:020d}.seg"


class Spool:
    """A directory of segments with one appender thread and one reader thread."""

    def __init__(self, directory: Path, *, segment_bytes: int = 16 << 20,
                 fsync_ms: int = 200) -> None:
        self.dir = Path(directory)
        self.segment_bytes = segment_bytes
        self.fsync_ms = fsync_ms
        self.epoch = ""
        self._cond = threading.Condition()
        self._segments: list[int] = []
        self._fd = -1
        self._seg_start = 0
        self._written = 0
        self._committed = 0
        self._read_pos = 0
        self._rfile: tuple[int, BinaryIO] | None = None
        self._dirty = False
        self._lock_fh: BinaryIO | None = None

    # --- opening and recovery ---------------------------------------------------------

    def open(self) -> Spool:
        """Lock the directory, recover a torn tail, and start a fresh segment.

        Raises:
            SpoolError: the directory is unusable or another process holds it.
        """
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            lock_fh = open(self.dir / "lock", "a+b")  # noqa: SIM115 - held until close()
        except OSError as exc:
            raise SpoolError(f"spool directory {self.dir} cannot be used: {exc.strerror}") from None
        try:
            fcntl.flock(lock_fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock_fh.close()
            raise SpoolError(f"spool {self.dir} is in use by another simpul siem process") from None
        self._lock_fh = lock_fh
        self.epoch = self._load_epoch()
        self._segments = sorted(int(p.stem) for p in self.dir.glob("*.seg") if p.stem.isdigit())
        end = self._recover_last()
        self._committed = min(self._load_checkpoint(), end)
        if self._segments and self._committed < self._segments[0]:
            self._committed = self._segments[0]
        self._read_pos = self._committed
        self._written = end
        self._new_segment(end)
        self._drop_committed_segments()
        return self

    def _load_epoch(self) -> str:
        path = self.dir / "epoch"
        if path.is_file():
            text = path.read_text().strip()
            if text:
                return text
        epoch = uuid.uuid4().hex
        with open(path, "w") as fh:
            fh.write(epoch)
            fh.flush()
            os.fsync(fh.fileno())
        return epoch

    def _load_checkpoint(self) -> int:
        # An unreadable checkpoint means "replay everything still on disk": duplicates
        # are harmless (idempotent insert), loss is not.
        try:
            epoch, pos = (self.dir / "committed").read_text().split()
            return int(pos) if epoch == self.epoch else 0
        except (OSError, ValueError):
            return 0

    def _recover_last(self) -> int:
        if not self._segments:
            return 0
        start = self._segments[-1]
        path = self.dir / _seg_name(start)
        data = path.read_bytes()
        _, good, corrupt = _scan(data, start)
        if good < len(data):
            logger.warning("spool: truncating {} torn byte(s) at the end of {}{}",
                           len(data) - good, path.name, " (corrupt record)" if corrupt else "")
            with open(path, "r+b") as fh:
                fh.truncate(good)
        return start + good

    def _new_segment(self, start: int) -> None:
        if self._fd >= 0:
            os.fsync(self._fd)
            os.close(self._fd)
        path = self.dir / _seg_name(start)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._seg_start = start
        with self._cond:
            if not self._segments or self._segments[-1] != start:
                self._segments.append(start)

    # --- appending (receiver side) ----------------------------------------------------

    def append(self, records: list[Record]) -> int:
        """Write *records* with one system call; return the new end position.

        When this returns the records survive a crash of the process; they survive an
        OS crash once ``sync()`` has run (at once when ``fsync_ms`` is 0).
        """
        if not records:
            return self._written
        blob = b"".join(encode(r) for r in records)
        if self._written - self._seg_start + len(blob) > self.segment_bytes and \
                self._written > self._seg_start:
            self._new_segment(self._written)
        view = memoryview(blob)
        try:
            while view:
                n = os.write(self._fd, view)
                view = view[n:]
        except OSError as exc:
            # A partial write is cut off again so the next append starts on a boundary.
            os.ftruncate(self._fd, self._written - self._seg_start)
            raise SpoolError(f"spool write failed: {exc.strerror}") from None
        if self.fsync_ms == 0:
            os.fsync(self._fd)
        else:
            self._dirty = True
        with self._cond:
            self._written += len(blob)
            self._cond.notify_all()
        return self._written

    def sync(self) -> None:
        """Flush written segments to stable storage (called every ``fsync_ms``)."""
        if not self._dirty or self._fd < 0:
            return
        self._dirty = False
        with self._cond:
            fd = os.dup(self._fd)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    # --- reading and committing (database writer side) -------------------------------

    @property
    def backlog_bytes(self) -> int:
        """Bytes accepted but not yet committed to the database."""
        return self._written - self._committed

    @property
    def written(self) -> int:
        return self._written

    @property
    def committed(self) -> int:
        return self._committed

    def read(self, max_records: int, timeout: float = 0.2) -> Batch:
        """Return up to *max_records* records after the read position (waiting up to *timeout*)."""
        with self._cond:
            if self._read_pos >= self._written:
                self._cond.wait(timeout)
            if self._read_pos >= self._written:
                return Batch([], self._read_pos)
            segments, written = list(self._segments), self._written
        batch = Batch([], self._read_pos)
        while len(batch.records) < max_records and self._read_pos < written:
            idx = max(i for i, s in enumerate(segments) if s <= self._read_pos)
            seg_start = segments[idx]
            seg_end = segments[idx + 1] if idx + 1 < len(segments) else written
            if self._read_pos >= seg_end:
                self._read_pos = seg_end
                continue
            fh = self._reader_for(seg_start)
            fh.seek(self._read_pos - seg_start)
            data = fh.read(min(seg_end - self._read_pos, READ_CHUNK))
            recs, used, corrupt = _scan(data, self._read_pos, max_records - len(batch.records))
            batch.records.extend(recs)
            self._read_pos += used
            if corrupt or (used == 0 and not recs):
                logger.error("spool: corrupt data in segment {} at {}; skipping to {}",
                             _seg_name(seg_start), self._read_pos, seg_end)
                self._read_pos = seg_end
        batch.end = self._read_pos
        return batch

    def _reader_for(self, seg_start: int) -> BinaryIO:
        if self._rfile is None or self._rfile[0] != seg_start:
            if self._rfile is not None:
                self._rfile[1].close()
            self._rfile = (seg_start, open(self.dir / _seg_name(seg_start), "rb"))  # noqa: SIM115
        return self._rfile[1]

    def commit(self, position: int) -> None:
        """Record that everything before *position* is in the database; drop old segments."""
        if position <= self._committed:
            return
        tmp = self.dir / "committed.tmp"
        tmp.write_text(f"{self.epoch} {position}\n")
        os.replace(tmp, self.dir / "committed")
        self._committed = position
        self._drop_committed_segments()

    def rewind(self) -> None:
        """Read again from the committed position (after a failed database write)."""
        self._read_pos = self._committed

    def _drop_committed_segments(self) -> None:
        with self._cond:
            segments = list(self._segments)
        for i, start in enumerate(segments[:-1]):
            if segments[i + 1] <= self._committed and start != self._seg_start:
                if self._rfile is not None and self._rfile[0] == start:
                    self._rfile[1].close()
                    self._rfile = None
                with contextlib.suppress(FileNotFoundError):
                    (self.dir / _seg_name(start)).unlink()
                with self._cond:
                    self._segments.remove(start)

    def close(self) -> None:
        """Flush, close the files and release the directory lock."""
        if self._fd >= 0:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = -1
        if self._rfile is not None:
            self._rfile[1].close()
            self._rfile = None
        if self._lock_fh is not None:
            self._lock_fh.close()
            self._lock_fh = None


def spool_status(directory: Path) -> dict[str, int]:
    """Describe a spool from outside its owning process (for ``simpul siem stats``)."""
    directory = Path(directory)
    segments = sorted(directory.glob("*.seg"))
    size = sum(p.stat().st_size for p in segments)
    committed = 0
    with contextlib.suppress(OSError, ValueError):
        committed = int((directory / "committed").read_text().split()[1])
    end = int(segments[-1].stem) + segments[-1].stat().st_size if segments else 0
    return {"segments": len(segments), "bytes_on_disk": size, "written": end,
            "committed": committed, "backlog_bytes": max(0, end - committed)}
