"""Follow local log files like ``tail -F``: by inode, across rotation and truncation.

A file seen for the first time is followed from its end (history is what ``simpul siem
ingest`` is for); after a rotation the new file is read from its start, and the old one
to its end first. Offsets are saved in the spool directory once the lines they cover
are in the spool, so a restart resumes where the spool left off. Every line carries
``file:<dev>:<inode>:<offset>`` as its origin, which makes its ``event.id`` stable: a
line read twice around a crash is stored once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from pathlib import Path
from typing import BinaryIO

from loguru import logger

from siem.intake import RecordQueue
from siem.spool import FLAG_TRUNCATED, Record
from siem.stats import SourceStats

READ_CHUNK = 1 << 20


class TailState:
    """``{path: {"dev", "ino", "offset"}}`` persisted as JSON, replaced atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, dict[str, int]] = {}
        with contextlib.suppress(OSError, ValueError):
            loaded = json.loads(path.read_text())
            if isinstance(loaded, dict):
                self.data = loaded

    def save(self) -> None:
        """Write the offsets (a lost save only means lines read again, deduplicated)."""
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data))
        os.replace(tmp, self.path)


class FileTailer:
    """Follow one path; lines go to the queue and are awaited into the spool."""

    def __init__(self, path: str, queue: RecordQueue, stats: SourceStats, state: TailState,
                 *, max_message: int = 65536, poll: float = 0.5) -> None:
        self.path = str(Path(path).expanduser().absolute())
        self.queue, self.stats, self.state = queue, stats, state
        self.max_message, self.poll = max_message, poll
        self._fh: BinaryIO | None = None
        self._dev = self._ino = 0
        self._pending = bytearray()
        self._pending_start = 0
        self._discard = False

    async def run(self) -> None:
        """Poll the file until cancelled."""
        saved = self.state.data.get(self.path)
        try:
            st = os.stat(self.path)
            if saved and saved.get("ino") == st.st_ino and saved.get("dev") == st.st_dev:
                self._open(st, min(int(saved.get("offset", 0)), st.st_size))
            else:
                self._open(st, st.st_size)
        except OSError:
            pass
        while True:
            try:
                await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("tail {}: {}", self.path, exc)
            await asyncio.sleep(self.poll)

    def _open(self, st: os.stat_result, offset: int) -> None:
        if self._fh is not None:
            self._fh.close()
        self._fh = open(self.path, "rb")  # noqa: SIM115 - kept open to follow the inode
        if os.fstat(self._fh.fileno()).st_ino != st.st_ino:  # replaced between stat and open
            st = os.fstat(self._fh.fileno())
            offset = 0
        self._dev, self._ino = st.st_dev, st.st_ino
        self._fh.seek(offset)
        self._pending = bytearray()
        self._pending_start = offset
        self._discard = False

    async def poll_once(self) -> None:
        """Read what is new; follow a rotation or truncation."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            st = None
        if self._fh is None:
            if st is not None:
                self._open(st, 0)
            else:
                return
        await self._drain()
        if st is None:
            return
        if (st.st_ino, st.st_dev) != (self._ino, self._dev):
            await self._drain(final=True)  # the rest of the rotated file first
            self._open(st, 0)
            await self._drain()
        elif st.st_size < self._pending_start + len(self._pending):  # copytruncate
            self._open(st, 0)
            await self._drain()

    def _lines(self, data: bytes, final: bool) -> list[tuple[bytes, int, int]]:
        """Split into (line, flags, file offset of the line); keep a partial last line."""
        buf = self._pending
        buf += data
        out: list[tuple[bytes, int, int]] = []
        while True:
            i = buf.find(b"\n")
            if i == -1:
                if final and buf and not self._discard:
                    out.append((bytes(buf[:self.max_message]), 0, self._pending_start))
                    self._pending_start += len(buf)
                    buf.clear()
                elif len(buf) > self.max_message and not self._discard:
                    out.append((bytes(buf[:self.max_message]), FLAG_TRUNCATED,
                                self._pending_start))
                    self._discard = True
                if self._discard:
                    self._pending_start += len(buf)
                    buf.clear()
                return out
            line, start = bytes(buf[:i]), self._pending_start
            del buf[:i + 1]
            self._pending_start += i + 1
            if self._discard:
                self._discard = False
                continue
            line = line.rstrip(b"\r\x00") or line.rstrip(b"\r")
            if line:
                flags = FLAG_TRUNCATED if len(line) > self.max_message else 0
                out.append((line[:self.max_message], flags, start))

    async def _drain(self, final: bool = False) -> None:
        assert self._fh is not None
        while True:
            data = self._fh.read(READ_CHUNK)
            if not data and not final:
                break
            await self._send(self._lines(data, final and len(data) < READ_CHUNK))
            if not data or (final and len(data) < READ_CHUNK):
                break

    async def _send(self, lines: list[tuple[bytes, int, int]]) -> None:
        now = time.time()
        records = [Record(data, now, "file", "", 0,
                          f"file:{self._dev}:{self._ino}:{offset}|{self.path}", flags)
                   for data, flags, offset in lines]
        if records:
            fut = await self.queue.put(records)
            await fut
            self.stats.received("file:" + self.path, "file", len(records),
                                sum(len(d) for d, _, _ in lines),
                                sum(1 for _, f, _ in lines if f))
        self.state.data[self.path] = {"dev": self._dev, "ino": self._ino,
                                      "offset": self._pending_start}
