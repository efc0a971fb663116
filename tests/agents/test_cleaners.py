"""The clean step's processes: the same results as cleaning in-process, and a dead process
neither loses a batch nor stops the next ones."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from agents.stages.cleaners import Cleaners
from pipeline.chain import DeadLetter
from pipeline.hops import CleanedRecord, clean_many
from tests.conftest import raw_item

BATCH = [
    raw_item("A headline for cleaners\n\nThe first paragraph.\n\nAdvertisement").to_json(),
    b"\x00 not json",
    raw_item("Another headline\n\nIts only paragraph, long enough to keep.").to_json(),
]


@pytest.fixture()
def cleaners() -> Iterator[Cleaners]:
    started = Cleaners(processes=1, max_bytes=1 << 20)
    started.start()
    yield started
    started.stop()


def summary(results: list[CleanedRecord | DeadLetter]) -> list[object]:
    return [r.value if isinstance(r, CleanedRecord) else r.letter["code"] for r in results]


async def test_a_batch_cleaned_in_a_process_is_the_one_cleaned_here(cleaners: Cleaners) -> None:
    results = await cleaners.clean(BATCH)
    assert summary(results) == summary(clean_many(BATCH, 1 << 20))
    assert [type(r) for r in results] == [CleanedRecord, DeadLetter, CleanedRecord]


async def test_two_processes_clean_a_batch_in_its_order() -> None:
    pair = Cleaners(processes=2, max_bytes=1 << 20)
    pair.start()
    try:
        results = await pair.clean(BATCH * 3)
    finally:
        pair.stop()
    assert summary(results) == summary(clean_many(BATCH * 3, 1 << 20))


async def test_a_killed_process_loses_no_batch(cleaners: Cleaners) -> None:
    pool = cleaners._pool
    assert pool is not None
    await cleaners.clean(BATCH)  # the process is up
    for pid in list(pool._processes):
        os.kill(pid, signal.SIGKILL)
    results = await cleaners.clean(BATCH)
    assert summary(results) == summary(clean_many(BATCH, 1 << 20))
    assert cleaners._pool is not pool  # new processes for the next batches
    assert summary(await cleaners.clean(BATCH)) == summary(results)
