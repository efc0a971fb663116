"""Real agency files read as a newsroom would on its first day: each file of
``../shared/data/agency-dev`` through the same chain as ``newswire process FILE``.

Usage: python -m bench.agency [AGENCY_DEV_DIR] [--show]

An item is read right when one published story's headline matches the label (case and
whitespace aside; an agency slug such as ``UPDATE 2-`` may be present or not), that story's
headline and body hold every ``body_has`` snippet (case aside), and no published story's
headline or body holds a ``body_not`` snippet (case kept): header codes, routing lines and
not-for-publication blocks must never be published. Prints counts per format and every
item read wrong with why; the files themselves never enter the project.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from bench.common import SHARED
from pipeline.chain import Published, run_chain
from pipeline.dedup import DedupConfig, DedupIndex
from pipeline.ingest import InputFailure, read_inputs

AGENCY_DEV = SHARED / "data" / "agency-dev"
_SLUG = re.compile(
    r"^(?:(?:UPDATE\s*\d*|CORRECTED|REFILE|RPT|REPEAT|WRAPUP\s*\d*)\s*[-–:]\s*)+", re.I
)


def _plain(text: str) -> str:
    return " ".join(text.split()).casefold()


def _headline(text: str) -> str:
    return _plain(_SLUG.sub("", text.strip()))


@dataclass(frozen=True)
class Reading:
    file: str
    format: str
    right: bool
    why: str
    leaked: bool
    """A ``body_not`` snippet reached a published headline or body."""


def stories_of(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The stories ``newswire process`` publishes for one file, and why others were not."""
    index, stories, failures = DedupIndex(), [], []
    for found in read_inputs([str(path)], format="auto", source="agency-dev"):
        if isinstance(found, InputFailure):
            failures.append(found.reason)
            continue
        outcome = run_chain(found.to_json(), index, 1 << 24, True, DedupConfig())
        if isinstance(outcome, Published):
            stories.append(outcome.story)
        else:
            failures.append(str(getattr(outcome, "letter", {}).get("reason", outcome)))
    return stories, failures


def text_of(story: dict[str, Any]) -> tuple[str, str]:
    headline = story["headlines"][0]["value"] if story.get("headlines") else ""
    body = " ".join(b.get("value", "") for b in story.get("bodies", []))
    return headline, body


def read(label: dict[str, Any], folder: Path) -> Reading:
    stories, failures = stories_of(folder / label["file"])
    texts = [text_of(story) for story in stories]
    leaks = [s for s in label["body_not"] for h, b in texts if s in h or s in b]
    wanted = _headline(label["headline"])
    matching = [(h, b) for h, b in texts if _headline(h) == wanted]
    why = ""
    if not stories:
        why = f"no story: {failures[:1]}"
    elif not matching:
        why = f"headline {texts[0][0][:70]!r}"
    else:
        headline, body = matching[0]
        whole = _plain(headline + " " + body)
        missing = [s for s in label["body_has"] if _plain(s) not in whole]
        why = f"missing {missing[0][:50]!r}" if missing else ""
    if leaks:
        why = (why + "; " if why else "") + f"published {leaks[0][:50]!r}"
    return Reading(label["file"], label["format"], not why, why, bool(leaks))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=AGENCY_DEV)
    args = parser.parse_args()
    labels_file = args.folder / "labels.jsonl"
    if not labels_file.exists():
        print(f"agency-dev absent at {args.folder}: nothing to score (skipped)")
        return 0
    labels = [orjson.loads(line) for line in labels_file.read_bytes().splitlines() if line]
    readings = [read(label, args.folder) for label in labels]
    totals, right = (
        Counter(r.format for r in readings),
        Counter(r.format for r in readings if r.right),
    )
    print(f"{'format':10} {'right':>5} {'of':>4}")
    for name in sorted(totals):
        print(f"{name:10} {right[name]:5} {totals[name]:4}")
    count = sum(right.values())
    print(f"{'all':10} {count:5} {len(readings):4}  ({count / len(readings):.1%} read right)")
    print(f"items publishing a not-for-publication snippet: {sum(r.leaked for r in readings)}")
    for reading in readings:
        if not reading.right:
            print(f"  {reading.format:9} {reading.file}: {reading.why}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
