"""The clean stage beside the event loop: parsing, cleaning and profiling a raw item is the
worker's heaviest pure-Python work, and on the loop it held back dedup and publish (one core
for all three while the other sat idle). Batches go to a small pool of processes instead.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from pipeline.chain import DeadLetter
from pipeline.hops import CleanedRecord, clean_many

log = logging.getLogger("newswire.clean")


class Cleaners:
    """``clean_many`` in ``processes`` processes (none: on the caller's loop)."""

    def __init__(self, processes: int, max_bytes: int) -> None:
        self.processes, self.max_bytes = processes, max_bytes
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        """Start the processes now, so that the first items do not wait for them."""
        if self.processes:
            self._pool = self._new_pool()
            self._pool.submit(clean_many, [], self.max_bytes).result()

    def _new_pool(self) -> ProcessPoolExecutor:
        # forkserver: children come from a clean process, not a copy of this one and its
        # Kafka threads; they import only the pipeline.
        context = multiprocessing.get_context("forkserver")
        return ProcessPoolExecutor(self.processes, mp_context=context)

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    async def clean(self, records: Sequence[bytes | None]) -> list[CleanedRecord | DeadLetter]:
        """The batch's results in its order; with more than one process, each cleans a
        share of the batch at the same time."""
        if self._pool is None:
            return clean_many(records, self.max_bytes)
        loop = asyncio.get_running_loop()
        step = max(1, -(-len(records) // self.processes))
        shares = [records[i : i + step] for i in range(0, len(records), step)]
        try:
            cleaned = await asyncio.gather(
                *(
                    loop.run_in_executor(self._pool, clean_many, share, self.max_bytes)
                    for share in shares
                )
            )
            return [result for share in cleaned for result in share]
        except BrokenProcessPool:
            # A cleaning process died (killed, out of memory): new processes for the next
            # batch, and this one cleaned here so that nothing waits or is lost.
            log.warning("a cleaning process died; starting new ones")
            self._pool.shutdown(wait=False)
            self._pool = self._new_pool()
            return clean_many(records, self.max_bytes)
