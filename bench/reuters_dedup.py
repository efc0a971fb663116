"""Dedup on a real agency wire: the Reuters dev set fed as one source, scored on hand-labelled
pairs of its stories.

The stories (``../shared/data/reuters-dev``, research and evaluation only) never enter the
project; ``bench/data/reuters-dedup-pairs.tsv`` holds only ids and labels:

- ``exact``: the same text again;
- ``rewrite``: the same story rewritten, corrected, refiled or repeated (a desk links them);
- ``different``: look-alikes that are different stories (another issuer, company, amount or
  day of a templated report).

The pairs are every pair of stories within a week that share the normalised headline or an
LSH band with containment >= 0.3, and every pair the dedup stage linked while the rules were
written, each labelled by reading both texts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from bench.common import SHARED
from pipeline.chain import Duplicate, Published, run_chain
from pipeline.dedup import DedupConfig, DedupIndex
from pipeline.records import RawItem, rfc3339

REUTERS = SHARED / "data" / "reuters-dev" / "reuters21578-dev.jsonl"
PAIRS = Path(__file__).parent / "data" / "reuters-dedup-pairs.tsv"
_DATE = re.compile(r"\s*(\d+)-(\w+)-(\d+)\s+(\d+):(\d+):(\d+)")


def received(date: str) -> datetime:
    """A Reuters ``date`` ("26-MAR-1987 07:38:56.33"; some hours are garbled, "605:12:19")."""
    match = _DATE.match(date)
    if match is None:
        raise ValueError(f"unreadable date {date!r}")
    day, month, year, hour, minute, second = match.groups()
    start = datetime.strptime(f"{day}-{month}-{year}", "%d-%b-%Y").replace(tzinfo=UTC)
    return start + timedelta(hours=min(int(hour), 23), minutes=int(minute), seconds=int(second))


MIS_STAMPED_YEARS = 20


def reuters_items(path: Path, mis_stamped_every: int = 0) -> list[RawItem]:
    """The stories as one agency feed delivers them: in time order, each at its own wire
    time, source "Reuters", the dateline opening the body. With ``mis_stamped_every`` N, every
    Nth item is stamped ``MIS_STAMPED_YEARS`` years late (a feed's typo in its year)."""
    rows = [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    rows.sort(key=lambda row: received(row["date"]))
    items = []
    for number, row in enumerate(rows, start=1):
        at = received(row["date"])
        if mis_stamped_every and number % mis_stamped_every == 0:
            at = at.replace(year=at.year + MIS_STAMPED_YEARS)
        content = f"{row['title']}\n\n{row.get('dateline') or ''} {row['body']}"
        items.append(RawItem(row["id"], "Reuters", rfc3339(at), "text", content))
    return items


def story_of_each(items: list[RawItem], config: DedupConfig) -> dict[str, str]:
    """item id -> the uri of the story the dedup stage put it in (its own, the one it is a
    version of, or the one it duplicates)."""
    index = DedupIndex()
    stories = {}
    for item in items:
        outcome = run_chain(item.to_json(), index, 1 << 22, False, config)
        if isinstance(outcome, Published):
            stories[item.id] = str(outcome.story["uri"])
        elif isinstance(outcome, Duplicate):
            stories[item.id] = str(outcome.notice["duplicateOf"])
    return stories


@dataclass(frozen=True)
class PairScores:
    stories: int
    labelled: dict[str, int]
    linked: dict[str, int]
    """Per label, how many of its pairs the stage put in one story."""
    unlabelled_links: list[tuple[str, str]]

    def lines(self) -> list[str]:
        same = self.linked["rewrite"] + self.linked["exact"]
        predicted = same + self.linked["different"]
        precision = same / predicted if predicted else 1.0
        merged = self.linked["different"]
        lines = [
            f"{self.stories} Reuters stories as one source; "
            f"{sum(self.labelled.values())} labelled pairs",
            f"{'pairs':10} {'labelled':>8} {'linked':>7} {'recall':>7}",
        ]
        for label in ("exact", "rewrite", "different"):
            total, linked = self.labelled[label], self.linked[label]
            share = linked / total if total else 1.0
            lines.append(f"{label:10} {total:8} {linked:7} {share:7.4f}")
        lines.append(f"precision of 'same story': {precision:.4f} ({same} of {predicted})")
        lines.append(
            f"look-alikes merged: {merged} in {self.stories} stories "
            f"({merged / self.stories * 2000:.2f} per 2,000)"
        )
        lines.append(
            f"links outside the labelled pairs: {len(self.unlabelled_links)}"
            + "".join(f"\n  {a} -> {b}" for a, b in self.unlabelled_links[:20])
        )
        return lines


def score_pairs(
    path: Path, pairs_path: Path, config: DedupConfig, mis_stamped_every: int = 0
) -> PairScores:
    items = reuters_items(path, mis_stamped_every)
    stories = story_of_each(items, config)
    labels = {}
    for line in pairs_path.read_text().splitlines()[1:]:
        earlier, later, label = line.split("\t")
        labels[(earlier, later)] = label
    labelled = {"exact": 0, "rewrite": 0, "different": 0}
    linked = dict(labelled)
    for (earlier, later), label in labels.items():
        labelled[label] += 1
        if earlier in stories and stories.get(later) == stories[earlier]:
            linked[label] += 1
    # A linked item no labelled pair speaks of: a link to read and label.
    judged = {later for _, later in labels}
    first_of: dict[str, str] = {}
    unlabelled = []
    for item in items:
        uri = stories.get(item.id)
        if uri is None:
            continue
        first = first_of.setdefault(uri, item.id)
        if first != item.id and item.id not in judged:
            unlabelled.append((first, item.id))
    return PairScores(len(items), labelled, linked, unlabelled)
