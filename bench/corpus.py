"""The streaming benchmarks' corpus, rebuilt by anyone from ``../shared/data/wikinews``.

Stories are Wikinews headlines over paragraphs drawn from several articles (so that there are
more distinct stories than the 295 articles), and a share of the items are what wires carry
besides: exact copies from a second agency and new versions (same guid, a paragraph more).

    .venv/bin/python -m bench.corpus --stories 2000 > corpus.jsonl
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from bench.common import WIKINEWS, wikinews_rows
from pipeline.records import RawItem, rfc3339, utc_now

COPIES = 0.15
VERSIONS = 0.15


def paragraphs_of(rows: list[dict[str, object]]) -> list[str]:
    found = []
    for row in rows:
        for block in str(row["body"]).split("\n\n"):
            block = " ".join(block.split())
            if len(block.split()) >= 15:
                found.append(block)
    return found


def build(count: int, seed: int = 11, data: Path = WIKINEWS) -> list[RawItem]:
    """``count`` items: about 70% new stories, 15% exact copies, 15% new versions."""
    rng = random.Random(seed)
    rows = wikinews_rows(data)
    pool = paragraphs_of(rows)
    received = rfc3339(utc_now())
    items: list[RawItem] = []
    stories: list[RawItem] = []
    while len(items) < count:
        roll = rng.random()
        if stories and roll < COPIES:
            original = rng.choice(stories)
            items.append(
                RawItem(
                    id=f"copy-{len(items)}",
                    source="second-agency",
                    receivedAt=received,
                    format="text",
                    content=original.content,
                )
            )
        elif stories and roll < COPIES + VERSIONS:
            original = rng.choice(stories)
            items.append(
                RawItem(
                    id=f"version-{len(items)}",
                    source=original.source,
                    receivedAt=received,
                    format="text",
                    content=original.content + "\n\n" + rng.choice(pool),
                    guid=original.guid,
                    version=f"{len(items)}",
                )
            )
        else:
            row = rng.choice(rows)
            body = "\n\n".join(rng.sample(pool, rng.randint(4, 9)))
            story = RawItem(
                id=f"story-{len(items)}",
                source=f"agency-{len(items) % 4}",
                receivedAt=received,
                format="text",
                content=f"{row['title']}\n\n{body}",
                guid=f"bench-{seed}-{len(items)}",
                version="1",
            )
            stories.append(story)
            items.append(story)
    return items


def main() -> int:
    parser = argparse.ArgumentParser(description="Write the benchmark corpus as JSON Lines.")
    parser.add_argument("--stories", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    for item in build(args.stories, args.seed):
        sys.stdout.buffer.write(item.to_json() + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
