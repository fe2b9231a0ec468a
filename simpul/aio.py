"""Running a coroutine to completion from synchronous code, wherever that code is called.

Service functions such as one SNMP poll or one probe round are plain functions that use
asyncio inside. Called from a thread that already runs an event loop (a notebook, an
async web handler, Playwright's sync API in a test), ``asyncio.run`` refuses; such a
caller gets the coroutine run on a short-lived thread of its own instead.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Return the result of *coro*, run on a fresh event loop (its own thread if needed)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = asyncio.run(coro)
        except BaseException as exc:  # handed back to the caller below
            box["error"] = exc

    worker = threading.Thread(target=target, name="simpul-run-sync", daemon=True)
    worker.start()
    worker.join()
    if "error" in box:
        raise box["error"]
    return box["result"]  # type: ignore[no-any-return]
