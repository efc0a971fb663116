"""Subscription matching with many saved filters: the index beside trying every filter.

Usage: python -m bench.subscription_match [--subscriptions N]

Filters draw from a vocabulary of 50,000 entity names, 2,000 places, 50 sources and 20,000 words
(one to three fields each, as desks write them); stories carry 20 entities, 5 places and 300
words from the same vocabulary. Both matchers see the same stories and must agree.
"""

from __future__ import annotations

import random
import sys
import time
from typing import Any

from pipeline.subscriptions import Subscription, SubscriptionIndex, naive_match

STORIES = 300


def vocabulary(prefix: str, size: int) -> list[str]:
    return [f"{prefix}{number}" for number in range(size)]


ENTITIES, PLACES = vocabulary("Entity ", 50_000), vocabulary("Place ", 2_000)
SOURCES, WORDS = vocabulary("source", 50), vocabulary("word", 20_000)
FIELDS = {"entities": ENTITIES, "places": PLACES, "sources": SOURCES, "keywords": WORDS}


def subscriptions(rng: random.Random, count: int) -> list[Subscription]:
    found = []
    for number in range(count):
        fields = rng.sample(sorted(FIELDS), rng.randint(1, 3))
        found.append(
            Subscription(
                f"s{number}", {f: rng.sample(FIELDS[f], rng.randint(1, 3)) for f in fields}
            )
        )
    return found


def story(rng: random.Random) -> dict[str, Any]:
    entities = [
        {"name": n, "type": "person", "mentions": [], "salience": 0.5}
        for n in rng.sample(ENTITIES, 20)
    ]
    entities += [
        {"name": n, "type": "place", "mentions": [], "salience": 0.5} for n in rng.sample(PLACES, 5)
    ]
    return {
        "headlines": [{"value": " ".join(rng.sample(WORDS, 10))}],
        "bodies": [{"value": " ".join(rng.choices(WORDS, k=300))}],
        "newswire": {"source": rng.choice(SOURCES), "entities": entities},
    }


def main() -> int:
    count = 10_000
    if "--subscriptions" in sys.argv:
        count = int(sys.argv[sys.argv.index("--subscriptions") + 1])
    rng = random.Random(11)
    saved = subscriptions(rng, count)
    stories = [story(rng) for _ in range(STORIES)]
    index = SubscriptionIndex(saved)
    started = time.perf_counter()
    indexed = [index.match(s) for s in stories]
    by_index = time.perf_counter() - started
    started = time.perf_counter()
    naive = [naive_match(saved, s) for s in stories]
    by_loop = time.perf_counter() - started
    assert indexed == naive, "the index and the loop disagree"
    matches = sum(len(m) for m in indexed) / len(stories)
    print(f"{count} subscriptions, {len(stories)} stories, {matches:.1f} matches per story")
    print(f"{'':24} {'stories/s':>10}")
    print(f"{'naive loop over filters':24} {len(stories) / by_loop:10.0f}")
    print(f"{'inverted index':24} {len(stories) / by_index:10.0f}")
    print(f"speed-up: {by_loop / by_index:.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
