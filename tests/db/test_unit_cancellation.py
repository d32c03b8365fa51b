"""A unit of work gives its connection back however often its task is cancelled."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, text

from reelforge.runtime import Runtime


async def test_a_unit_cancelled_again_while_it_rolls_back_still_gives_its_connection_back(
    runtime: Runtime,
) -> None:
    """A gather cancels its children, then their caller cancels each of them again (a render
    killed mid-scene): the rollback and close run to their end anyway. Cut off halfway, they
    left the connection checked out, and its driver connection to the garbage collector
    ("unclosed connection" once the event loop was gone)."""
    thrown_away: list[object] = []
    event.listen(runtime.engine.sync_engine.pool, "invalidate", lambda *a: thrown_away.append(a))
    holding = asyncio.Event()

    async def step() -> None:
        async with runtime.unit() as unit:
            await unit.session.execute(text("SELECT 1"))
            holding.set()
            await asyncio.sleep(3600)

    task = asyncio.ensure_future(step())
    await holding.wait()
    while not task.done():
        task.cancel()
        await asyncio.sleep(0)
    with pytest.raises(asyncio.CancelledError):
        await task
    assert runtime.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    assert thrown_away == []  # rolled back and returned whole, not dropped mid-rollback
    async with runtime.unit() as unit:  # and the pool still serves
        assert (await unit.session.execute(text("SELECT 1"))).scalar_one() == 1
