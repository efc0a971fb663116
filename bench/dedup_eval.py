"""A labelled dedup evaluation set built from Wikinews, and the scores of the dedup stage on it.

Usage: python -m bench.dedup_eval [WIKINEWS_JSONL] [--seed N] [--reuters JSONL]
(default: ../shared/data/wikinews/wikinews_2019_2020.jsonl; the Reuters dev set, scored on
the labelled pairs of ``bench/reuters_dedup.py``, from ../shared/data/reuters-dev)

Each Wikinews article becomes a group of wire items, in delivery order, each labelled with
what a desk would call it:

- the first publication (``new``), by agency A, sometimes with a provider guid;
- an exact copy from agency B with other boilerplate, whitespace, entities or mojibake
  (``duplicate``);
- a redelivery of the same guid and version (``duplicate``);
- an update from agency A: more paragraphs (an extension), a write-thru that replaces a
  paragraph and adds one, or a correction of a figure or word, with or without "UPDATE n" /
  "CORRECTED" markers, and with a newer provider version when it has a guid (``version``);
- a re-syndicated copy of the update from agency C with a new intro and a credit line
  (``duplicate``);
- distinct stories on the same subject: the other Wikinews articles (``new``), and daily
  market reports, weather and football results from one template with other figures, each
  a story of its own (``new``).

Precision and recall are printed per class over every item after the first of its group; a
"merged" count says how many distinct stories were wrongly folded into another.
"""

from __future__ import annotations

import random
import sys
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from bench.common import wikinews_parser, wikinews_rows
from bench.reuters_dedup import PAIRS, REUTERS, score_pairs
from pipeline.chain import Cleaned, DeadLetter, Duplicate, Published, clean_step, run_chain
from pipeline.dedup import DedupConfig, DedupIndex
from pipeline.records import RawItem, rfc3339
from pipeline.similarity import TextProfile, containment, numbers_agree

START = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Labelled:
    item: RawItem
    label: str  # "new", "duplicate" or "version"
    group: str


def paragraphs(body: str) -> list[str]:
    blocks = [" ".join(b.split()) for b in body.split("\n\n")]
    return [b for b in blocks if b]


def text(headline: str, blocks: list[str]) -> str:
    return headline + "\n\n" + "\n\n".join(blocks)


def change_figure(block: str, rng: random.Random) -> str:
    """A correction: one figure changed, or where there is none, one word."""
    words = block.split()
    numbers = [i for i, w in enumerate(words) if any(ch.isdigit() for ch in w)]
    if numbers:
        index = rng.choice(numbers)
        words[index] = str(rng.randint(1000, 9999))
    else:
        index = rng.randrange(len(words))
        words[index] = "reportedly " + words[index]
    return " ".join(words)


def noisy_copy(blocks: list[str], rng: random.Random) -> list[str]:
    """The same words with other boilerplate, spacing, entities or encoding damage."""
    copy = []
    for number, block in enumerate(blocks):
        kind = rng.random()
        if kind < 0.25:
            block = block.replace("'", "&#39;").replace("&", "&amp;")
        elif kind < 0.5:
            block = block.replace("’", "â€™").replace(". ", ".  ")
        copy.append("  " + block + " ")
        if number % 3 == 1:
            copy.append(rng.choice(["Advertisement", "Story continues below advertisement"]))
    return [*copy, "Share this article", "Latest Headlines"]


def template_items(rng: random.Random, count: int) -> list[list[tuple[str, str]]]:
    """Daily reports that share a template and differ in their figures: distinct stories."""
    markets = (
        "Stocks close {dir} as investors weigh rate outlook",
        [
            "NEW YORK (Wire) -- The Dow Jones Industrial Average {dir2} {a} points, or {b} "
            "percent, to {c} on {day}, while the S&P 500 moved {d} percent to {e}.",
            "The Nasdaq Composite ended at {f}, and the yield on the 10-year Treasury note "
            "stood at {g} percent.",
            "Trading volume on U.S. exchanges was {h} billion shares, compared with the "
            "{i} billion average over the last 20 sessions.",
        ],
    )
    weather = (
        "Weather: {dir} skies and highs near {a} degrees",
        [
            "LONDON (Wire) -- Forecasters expect highs of {a} degrees on {day} with winds of "
            "{b} km/h and a {c} percent chance of rain in the afternoon.",
            "Overnight lows will fall to {d} degrees, and pollen counts are expected to be "
            "{dir2} across the region, the weather service said.",
        ],
    )
    football = (
        "Football results: {dir} weekend in the league",
        [
            "LONDON (Wire) -- Arsenal beat Chelsea {a}-{b} and Liverpool drew {c}-{c} with "
            "Everton on {day}, while Tottenham lost {d}-{b} at home.",
            "Manchester City top the table with {e} points from {f} games, {g} clear of "
            "second place, with {h} goals scored.",
        ],
    )
    days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
    groups = []
    for n in range(count):
        headline, blocks = (markets, weather, football)[n % 3]
        values = {k: str(rng.randint(1, 40000)) for k in "abcdefghi"}
        values |= {
            "dir": rng.choice(["higher", "lower", "mixed"]),
            "dir2": rng.choice(["rose", "fell", "high", "low"]),
            "day": days[n % 5],
        }
        groups.append([(headline.format(**values), text("", [b.format(**values) for b in blocks]))])
    return groups


def build(articles: list[dict[str, str]], seed: int) -> list[Labelled]:
    """The evaluation stream, in delivery order."""
    rng = random.Random(seed)
    stream: list[Labelled] = []
    clock = START

    def deliver(group: str, label: str, content: str, source: str, **fields: Any) -> None:
        nonlocal clock
        clock += timedelta(minutes=rng.randint(1, 20))
        item = RawItem(
            id=f"{group}/{len(stream)}",
            source=source,
            receivedAt=rfc3339(clock),
            format="text",
            content=content,
            **fields,
        )
        stream.append(Labelled(item, label, group))

    for number, article in enumerate(articles):
        group = article["id"]
        blocks = paragraphs(article["body"])
        if len(blocks) < 4:
            continue
        headline = article["title"]
        with_guid = number % 2 == 0
        guid = {"guid": f"A-{number}", "version": "1"} if with_guid else {}
        first = blocks[: max(3, (2 * len(blocks)) // 3)]
        deliver(group, "new", text(headline, first), "agency-a", **guid)
        deliver(group, "duplicate", text(headline, noisy_copy(first, rng)), "agency-b")
        if with_guid:
            deliver(group, "duplicate", text(headline, first), "agency-a", **guid)
        kind = number % 3
        marker = rng.random() < 0.5
        if kind == 0:  # extension: the rest of the story arrives
            update = blocks
            head = ("UPDATE 1-" if marker else "") + headline
        elif kind == 1:  # write-thru: a paragraph rewritten (replaced), one more added
            unseen = blocks[len(first) :] or [blocks[0]]
            update = [*first]
            update[len(first) // 2] = unseen[0]
            update += unseen[1:2]
            head = ("WRITETHRU: " if marker else "") + headline
        else:  # correction of a figure or word
            fixed = list(first)
            fixed[1] = change_figure(fixed[1], rng)
            update = fixed
            head = ("CORRECTED-" if marker else "") + headline
        if rng.random() < 0.3:  # the desk rewrote the headline too
            head += rng.choice([", officials say", " as inquiry widens", ": what we know"])
        version = {"guid": f"A-{number}", "version": "2"} if with_guid else {}
        deliver(group, "version", text(head, update), "agency-a", **version)
        intro = f"(Agency C) -- This report was first published by Wikinews on {article['date']}."
        credit = "Distributed by Agency C under licence."
        deliver(group, "duplicate", text(headline, [intro, *update, credit]), "agency-c")

    for index, items in enumerate(template_items(rng, 60)):
        for headline, body in items:
            deliver(f"template-{index}", "new", headline + body, "agency-t")
    return stream


def evaluate(stream: list[Labelled], config: DedupConfig) -> dict[str, Counter[str]]:
    """Per label, how the dedup stage decided (new, version, duplicate, rejected)."""
    index = DedupIndex()
    decided: dict[str, Counter[str]] = {
        "new": Counter(),
        "version": Counter(),
        "duplicate": Counter(),
    }
    for entry in stream:
        outcome = run_chain(entry.item.to_json(), index, 1 << 22, False, config)
        if isinstance(outcome, Published):
            got = "version" if outcome.story["newswire"]["dedup"].get("versionOf") else "new"
        elif isinstance(outcome, Duplicate):
            got = "duplicate"
        else:
            assert isinstance(outcome, DeadLetter)
            got = "rejected"
        decided[entry.label][got] += 1
    return decided


def report(decided: dict[str, Counter[str]]) -> list[str]:
    lines = [f"{'class':10} {'items':>6} {'precision':>9} {'recall':>7}"]
    for label in ("duplicate", "version"):
        true_positive = decided[label][label]
        predicted = sum(counts[label] for counts in decided.values())
        total = sum(decided[label].values())
        precision = true_positive / predicted if predicted else 1.0
        lines.append(f"{label:10} {total:6} {precision:9.4f} {true_positive / total:7.4f}")
    merged = decided["new"]["duplicate"] + decided["new"]["version"]
    lines.append(f"distinct stories wrongly merged: {merged} of {sum(decided['new'].values())}")
    lines.append(
        "confusion (label -> decided): "
        + orjson.dumps({label: dict(counts) for label, counts in decided.items()}).decode()
    )
    return lines


def margins(stream: list[Labelled]) -> tuple[float, float, float]:
    """The highest containment between two distinct stories whose figures agree, the same
    among those the figures tell apart (templated reports), and the lowest between a
    re-syndicated copy (agency C) and the story it copies: the gap the threshold sits in."""
    profiles: dict[str, list[tuple[Labelled, TextProfile]]] = {}
    for entry in stream:
        cleaned = clean_step(entry.item.to_json(), 1 << 22)
        if isinstance(cleaned, Cleaned):
            profiles.setdefault(entry.group, []).append((entry, cleaned.profile))
    firsts = [group[0][1] for group in profiles.values()]
    pairs = [(a, b) for i, a in enumerate(firsts) for b in firsts[i + 1 :]]
    agreeing = max(
        containment(a.signature, a.size, b.signature, b.size)
        for a, b in pairs
        if numbers_agree(a.numbers, b.numbers)
    )
    told_apart = max(
        containment(a.signature, a.size, b.signature, b.size)
        for a, b in pairs
        if not numbers_agree(a.numbers, b.numbers)
    )
    lowest_copy = min(
        containment(copy.signature, copy.size, original.signature, original.size)
        for group in profiles.values()
        for entry, copy in group
        if entry.item.source == "agency-c"
        for other, original in group
        if other.label == "version"
    )
    return agreeing, told_apart, lowest_copy


def main() -> int:
    parser = wikinews_parser("Dedup precision and recall on a labelled set built from Wikinews.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reuters", type=Path, default=REUTERS, help="the Reuters dev set")
    args = parser.parse_args()
    if args.reuters.exists():
        for title, every in (("at its own wire time", 0), ("1% stamped 20 years late", 100)):
            print(f"Reuters dev, every item {title}:")
            for line in score_pairs(args.reuters, PAIRS, DedupConfig(), every).lines():
                print(line)
            print()
    else:
        print(f"Reuters dev set absent at {args.reuters}: its figures are skipped\n")
    articles = wikinews_rows(args.data)
    seed = args.seed
    stream = build(articles, seed)
    print(f"{len(stream)} items from {len(articles)} Wikinews articles (seed {seed})")
    for line in report(evaluate(stream, DedupConfig())):
        print(line)
    agreeing, told_apart, copy = margins(stream)
    print(
        f"\nhighest containment between distinct stories: {agreeing:.3f} "
        f"({told_apart:.3f} where only their figures differ, as in templated reports); "
        f"lowest between a re-syndicated copy and its story: {copy:.3f}"
    )
    print("near-duplicate threshold sweep (re-syndicated copies are duplicates):")
    for threshold in (0.6, 0.7, 0.8, 0.85, 0.9, 0.95):
        decided = evaluate(stream, replace(DedupConfig(), near_threshold=threshold))
        print(
            f"  {threshold:.2f}: "
            + report(decided)[1].strip()
            + f" | merged {decided['new']['duplicate'] + decided['new']['version']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
