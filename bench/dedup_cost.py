"""Cost of one dedup decision, and the state kept per story, as the index grows.

Usage: python -m bench.dedup_cost [--sizes 10000,100000,1000000]

The index is filled with synthetic stories (random MinHash signatures and figures, unique
guids, headlines and lead names, spread over the retention window), then 2,000 probes are
decided against it: half new stories, a quarter exact repeats, a quarter near copies of
stored stories. The decision time excludes what the clean stage computes (fingerprint,
signature), as in the worker. State size is the bytes the stories table holds as stored
(JSON keys and values), which is what its changelog topic and RocksDB keep; the lookup keys
and the band index are rebuilt from it in memory after each assignment, and the time that
takes is printed too.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import orjson

from pipeline.dedup import DedupConfig, DedupIndex, Incoming, decide, rebuild_derived, remember
from pipeline.similarity import PERMUTATIONS, Signature, TextProfile

START = datetime(2026, 1, 1, tzinfo=UTC)
PROBES = 2000


def synthetic(rng: np.random.Generator, number: int, when: datetime) -> Incoming:
    signature: Signature = rng.integers(0, 1 << 16, PERMUTATIONS, dtype=np.uint16)
    numbers = tuple(sorted(str(n) for n in rng.integers(0, 10000, 6)))
    return Incoming(
        item_id=f"item-{number}",
        source=f"agency-{number % 7}",
        guid=f"g{number}",
        provider_version="1",
        fingerprint=rng.bytes(16).hex(),
        profile=TextProfile(signature, 400, numbers),
        headline=f"Company {number} sets quarterly dividend",
        opening=f"Opening words of story {number} here",
        created="2026-01-01T00:00:00Z",
        received=when,
        # What an agency lead names and counts: a ticker, three name words, four figures.
        names=(f"<c{number}>", f"company{number}", "holdings", "london"),
        lead_figures=tuple(numbers[:4]),
    )


def near_copy(original: Incoming, rng: np.random.Generator, number: int) -> Incoming:
    signature = original.profile.signature.copy()
    changed = rng.choice(PERMUTATIONS, 4, replace=False)
    signature[changed] = rng.integers(0, 1 << 16, 4, dtype=np.uint16)
    return Incoming(
        item_id=f"copy-{number}",
        source="agency-copy",
        guid=None,
        provider_version=None,
        fingerprint=rng.bytes(16).hex(),
        profile=TextProfile(signature, 410, original.profile.numbers),
        headline=f"Copied headline {number}",
        opening=f"Copy opening {number}",
        created="2026-01-01T00:00:00Z",
        received=original.received,
    )


def stored_bytes(index: DedupIndex) -> int:
    return sum(len(key) + len(orjson.dumps(value)) for key, value in index.stories.items())


def measure(size: int, config: DedupConfig) -> tuple[float, float, float, float, float]:
    """p50 and p99 decision time (ms), stored bytes per story, fill time and the derived
    indexes' rebuild time (s)."""
    rng = np.random.default_rng(size)
    index = DedupIndex()
    window = config.retention.total_seconds()
    stored: list[Incoming] = []
    started = time.perf_counter()
    for number in range(size):
        when = START + timedelta(seconds=window * number / size)
        incoming = synthetic(rng, number, when)
        remember(incoming, decide(incoming, index, config), index, config)
        if number % max(1, size // PROBES) == 0:
            stored.append(incoming)
    filled = time.perf_counter() - started
    picker = random.Random(size)
    timings = []
    for probe in range(PROBES):
        kind = probe % 4
        if kind < 2:
            incoming = synthetic(rng, size + probe, START + timedelta(seconds=window))
        elif kind == 2:
            incoming = picker.choice(stored)
        else:
            incoming = near_copy(picker.choice(stored), rng, probe)
        began = time.perf_counter()
        decide(incoming, index, config)
        timings.append(time.perf_counter() - began)
    timings.sort()
    per_story = stored_bytes(index) / size
    began = time.perf_counter()
    rebuild_derived(index)
    rebuilt = time.perf_counter() - began
    return (
        timings[len(timings) // 2] * 1e3,
        timings[int(len(timings) * 0.99)] * 1e3,
        per_story,
        filled,
        rebuilt,
    )


def main() -> int:
    sizes = [10_000, 100_000, 1_000_000]
    if "--sizes" in sys.argv:
        sizes = [int(s) for s in sys.argv[sys.argv.index("--sizes") + 1].split(",")]
    config = DedupConfig()
    print(
        f"{'stories':>10} {'p50 ms':>8} {'p99 ms':>8} {'bytes/story':>12} {'fill s':>8}"
        f" {'rebuild s':>10}"
    )
    for size in sizes:
        p50, p99, per_story, filled, rebuilt = measure(size, config)
        print(
            f"{size:>10} {p50:8.3f} {p99:8.3f} {per_story:12.0f} {filled:8.1f} {rebuilt:10.1f}",
            flush=True,
        )
    print("goal: p99 <= 1 ms; state well under 1 KB per story, growing linearly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
