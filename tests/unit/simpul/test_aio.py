"""run_sync: a coroutine's result from plain code, even where a loop already runs."""

from __future__ import annotations

import asyncio
import threading

import pytest

from simpul.aio import run_sync


async def _where() -> str:
    await asyncio.sleep(0)
    return threading.current_thread().name


async def _boom() -> None:
    raise ValueError("no route to 10.0.0.1")


def test_without_a_running_loop_it_runs_here() -> None:
    assert run_sync(_where()) == threading.current_thread().name


def test_inside_a_running_loop_it_runs_on_its_own_thread_and_raises_through() -> None:
    async def caller() -> tuple[str, str]:
        here = threading.current_thread().name
        return here, run_sync(_where())  # asyncio.run() would refuse here

    here, there = asyncio.run(caller())
    assert there == "simpul-run-sync" and there != here

    async def failing() -> None:
        run_sync(_boom())

    with pytest.raises(ValueError, match="no route"):
        asyncio.run(failing())
