"""The bounded in-memory queue in front of the spool, and the task that empties it.

Receivers hand over batches of records. TCP/TLS/file readers ``await`` the returned
future, which resolves once the batch is written to the spool: that is the moment a
message counts as *accepted*, and only then does the reader take more bytes from its
socket. When the database falls behind, the spool's backlog reaches its limit, the pump
stops draining, the queue fills, and ``put`` waits: TCP senders see a closed window
(back-pressure) instead of losing data. UDP has no such channel, so ``offer`` refuses
and the receiver counts a drop.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

from loguru import logger

from siem.spool import Record, Spool


class RecordQueue:
    """A FIFO of record batches bounded by the number of records it holds."""

    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, capacity)
        self.size = 0
        self._batches: deque[tuple[list[Record], asyncio.Future[int] | None]] = deque()
        self._space = asyncio.Event()
        self._space.set()
        self._data = asyncio.Event()

    async def put(self, records: list[Record]) -> asyncio.Future[int]:
        """Queue *records*, waiting while the queue is full; return the spooled-future."""
        while self.size >= self.capacity:
            self._space.clear()
            await self._space.wait()
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._push(records, fut)
        return fut

    def offer(self, records: list[Record]) -> bool:
        """Queue *records* if there is room now; False means the caller must drop them."""
        if self.size >= self.capacity:
            return False
        self._push(records, None)
        return True

    def _push(self, records: list[Record], fut: asyncio.Future[int] | None) -> None:
        self._batches.append((records, fut))
        self.size += len(records)
        self._data.set()

    async def take(self, max_records: int, timeout: float
                   ) -> list[tuple[list[Record], asyncio.Future[int] | None]]:
        """Return queued batches (at least one unless *timeout* passes), up to *max_records*."""
        if not self._batches:
            self._data.clear()
            try:
                await asyncio.wait_for(self._data.wait(), timeout)
            except TimeoutError:
                return []
        out = []
        count = 0
        while self._batches and (count == 0 or count + len(self._batches[0][0]) <= max_records):
            records, fut = self._batches.popleft()
            count += len(records)
            out.append((records, fut))
        self.size -= count
        self._space.set()
        return out


class SpoolPump:
    """Moves batches from the queue into the spool and fsyncs it every ``fsync_ms``."""

    def __init__(self, queue: RecordQueue, spool: Spool, *, max_backlog: int,
                 max_records: int = 5000) -> None:
        self.queue, self.spool = queue, spool
        self.max_backlog = max_backlog
        self.max_records = max_records
        self.spooled = 0
        self._stopping = False

    def stop(self) -> None:
        """Ask the pump to finish: it empties the queue, syncs and returns."""
        self._stopping = True

    async def run(self) -> None:
        """Pump until stopped and the queue is empty."""
        loop = asyncio.get_running_loop()
        last_sync = time.monotonic()
        interval = self.spool.fsync_ms / 1000
        while True:
            # The database is behind: leave records in the (bounded) queue so that
            # producers wait, instead of growing the spool without limit.
            while self.spool.backlog_bytes > self.max_backlog and not self._stopping:
                await asyncio.sleep(0.02)
            items = await self.queue.take(self.max_records, timeout=0.05)
            if items:
                records = [r for batch, _ in items for r in batch]
                try:
                    self.spool.append(records)
                except Exception as exc:
                    logger.error("spool append failed: {}", exc)
                    for _, fut in items:
                        if fut is not None and not fut.done():
                            fut.set_exception(exc)
                    await asyncio.sleep(0.5)
                    continue
                self.spooled += len(records)
                for _, fut in items:
                    if fut is not None and not fut.done():
                        fut.set_result(len(records))
            if interval and time.monotonic() - last_sync >= interval:
                last_sync = time.monotonic()
                await loop.run_in_executor(None, self.spool.sync)
            if self._stopping and self.queue.size == 0:
                break
        await loop.run_in_executor(None, self.spool.sync)
