"""Extraction quality and cost of the clean stage on real news pages.

Usage: python -m bench.extraction_quality [DATA_DIR]   (default: ../shared/data/extraction-dev)

Where ``../shared/data/extraction-more`` is present, the same run scores it too: per page,
the share of its ``with`` snippets the text contains and of its ``without`` snippets it
leaves out, summed over the pages, and the pages an extractor nearly loses (at most 10% of
their ``with`` snippets found).

DATA_DIR holds ``html/ID.html.gz`` and ``ground-truth.json`` ({id: {articleBody, url}}), as in
the article-extraction benchmark. The score compares word 4-gram shingles (lower-cased ``\\w+``
words) of the extracted text with the ground truth: per page, the counts of shared, extra and
missing shingles are normalised to sum 1; these are summed over pages; precision, recall and
F1 come from the sums. On the dev pages this reproduces the published trafilatura figures
within 0.005.

Newswire's text is what the clean stage keeps of the page: the dateline (moved into its own
field, still the story's words) and the body; the headline is left out, as in the ground
truth. The same run times plain trafilatura on the same pages, so the cost ratio is measured
on one machine at one moment.
"""

from __future__ import annotations

import gzip
import json
import multiprocessing
import os
import re
import sys
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlparse

import trafilatura

from bench.common import SHARED
from pipeline.clean import clean
from pipeline.records import Article, RawItem, Rejected

DEFAULT_DATA = SHARED / "data" / "extraction-dev"
MORE_DATA = SHARED / "data" / "extraction-more"
LOST_SHARE = 0.1
"""A page whose text holds at most this share of its ``with`` snippets is nearly lost."""
WORD = re.compile(r"\w+")


def shingles(text: str, size: int = 4) -> set[tuple[str, ...]]:
    words = WORD.findall(text.lower())
    return {tuple(words[i : i + size]) for i in range(max(1, len(words) - size + 1))}


def _article(html: str) -> Article | None:
    """What the clean stage makes of the page, or None where it rejects it."""
    item = RawItem(
        id="bench", source="bench", receivedAt="2020-01-01T00:00:00Z", format="html", content=html
    )
    try:
        return clean(item)
    except Rejected:
        return None


def newswire_text(html: str) -> str:
    article = _article(html)
    if article is None:
        return ""
    dateline = article.dateline.text + " " if article.dateline else ""
    return dateline + article.body


def trafilatura_default(html: str) -> str:
    return trafilatura.extract(html) or ""


def trafilatura_precision(html: str) -> str:
    return trafilatura.extract(html, include_comments=False, favor_precision=True) or ""


class PageScore(NamedTuple):
    precision: float
    recall: float
    f1: float
    recalls: dict[str, float]
    """Per page, the share of its ground-truth shingles found."""


def score(pages: dict[str, str], truth: dict[str, str], extract: Callable[[str], str]) -> PageScore:
    shared = extra = missing = 0.0
    recalls = {}
    for page_id, html in pages.items():
        expected, found = shingles(truth[page_id]), shingles(extract(html))
        tp, fp, fn = len(expected & found), len(found - expected), len(expected - found)
        total = tp + fp + fn or 1
        shared, extra, missing = shared + tp / total, extra + fp / total, missing + fn / total
        recalls[page_id] = tp / max(1, tp + fn)
    precision = shared / (shared + extra)
    recall = shared / (shared + missing)
    return PageScore(precision, recall, 2 * precision * recall / (precision + recall), recalls)


def best_seconds(
    pages: list[str], extractors: Mapping[str, Callable[[str], str]], rounds: int = 3
) -> dict[str, float]:
    """Each extractor's best time over the pages in ``rounds`` interleaved passes, so that a
    slow moment of the machine does not fall on one extractor only."""
    best = dict.fromkeys(extractors, float("inf"))
    for _ in range(rounds):
        for name, extract in extractors.items():
            started = time.perf_counter()
            for html in pages:
                extract(html)
            best[name] = min(best[name], time.perf_counter() - started)
    return best


def load_dataset(data: Path) -> tuple[dict[str, str], dict[str, str]]:
    """The pages (id -> HTML) and their ground-truth bodies (id -> text)."""
    labels = json.loads((data / "ground-truth.json").read_text())
    truth = {page_id: label["articleBody"] for page_id, label in labels.items()}
    pages = {
        page_id: gzip.decompress((data / "html" / f"{page_id}.html.gz").read_bytes()).decode(
            "utf-8", "replace"
        )
        for page_id in truth
    }
    return pages, truth


def newswire_story_text(html: str) -> str:
    """Headline, summary and body: every text a story carries (extraction-more's snippets
    include headlines and standfirsts)."""
    article = _article(html)
    if article is None:
        return ""
    return "\n".join(filter(None, (article.headline, article.summary, article.body)))


def load_more(data: Path) -> list[tuple[str, str, list[str], list[str]]]:
    """(URL, HTML, with, without) per page. The pages are stored under names that do not say
    which entry of ``evaldata.json`` they are, so each entry takes the page that holds most
    of its ``with`` snippets among those naming its host; entries whose snippets are in no
    page (escaped in the HTML) are left out, for every extractor alike."""
    entries = json.loads((data / "evaldata.json").read_text())
    pages = [
        gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
        for path in sorted((data / "html").glob("*.gz"))
    ]
    found = []
    for url, entry in entries.items():
        snippets = [s for s in entry["with"] if len(s) >= 8] or entry["with"]
        host = urlparse(url).netloc
        candidates = [html for html in pages if host in html] or pages
        hits, best = max(
            ((sum(s in html for s in snippets), n) for n, html in enumerate(candidates)),
            default=(0, -1),
        )
        if hits:
            found.append((url, candidates[best], list(entry["with"]), list(entry["without"])))
    return found


@dataclass
class SnippetScore:
    kept: float
    left_out: float
    shares: list[float]
    """Per page, the share of its ``with`` snippets found."""

    @property
    def lost(self) -> list[int]:
        return [n for n, share in enumerate(self.shares) if share <= LOST_SHARE]


SHARED_FROM_PAGES = 50
"""Fewer pages are extracted in this process: starting the others costs seconds."""


def extracted(
    pages: list[tuple[str, str, list[str], list[str]]], extract: Callable[[str], str]
) -> list[str]:
    """Each page's text, the pages shared among the machine's cores (spawned processes: the
    caller may hold threads that a fork would copy mid-lock)."""
    htmls = [html for _, html, _, _ in pages]
    if len(htmls) < SHARED_FROM_PAGES:
        return [extract(html) for html in htmls]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(os.cpu_count() or 1, mp_context=context) as pool:
        return list(pool.map(extract, htmls, chunksize=16))


def score_snippets(
    pages: list[tuple[str, str, list[str], list[str]]], extract: Callable[[str], str]
) -> SnippetScore:
    kept = wanted = left_out = unwanted = 0
    shares = []
    for (_, _, with_, without), text in zip(pages, extracted(pages, extract), strict=True):
        found = sum(snippet in text for snippet in with_)
        kept, wanted = kept + found, wanted + len(with_)
        left_out += sum(snippet not in text for snippet in without)
        unwanted += len(without)
        shares.append(found / len(with_) if with_ else 1.0)
    return SnippetScore(kept / max(wanted, 1), left_out / max(unwanted, 1), shares)


def report_more(data: Path) -> None:
    pages = load_more(data)
    print(f"\n{len(pages)} pages from {data} (matched to their evaldata.json entries)")
    print(f"{'extractor':40} {'with kept':>9} {'without left out':>16} {'pages lost':>10}")
    rows = [
        ("trafilatura (default)", trafilatura_default),
        ("trafilatura (precision, no comments)", trafilatura_precision),
        ("newswire clean stage (headline+summary+body)", newswire_story_text),
    ]
    results = {name: score_snippets(pages, extract) for name, extract in rows}
    for name, result in results.items():
        print(f"{name:40} {result.kept:9.3f} {result.left_out:16.3f} {len(result.lost):10}")
    default = results["trafilatura (default)"].shares
    ours = results["newswire clean stage (headline+summary+body)"]
    worse = [n for n in ours.lost if default[n] >= 0.5]
    print(f"pages trafilatura's default half finds and Newswire nearly loses: {len(worse)}")
    for n in ours.lost:
        print(f"  lost: {pages[n][0]} (with found {ours.shares[n]:.0%}, default {default[n]:.0%})")


def main() -> int:
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DATA
    if not (data / "ground-truth.json").exists():
        print(f"no extraction data at {data} (ground-truth.json and html/)", file=sys.stderr)
        return 1
    pages, truth = load_dataset(data)
    rows = {
        "trafilatura (default)": trafilatura_default,
        "trafilatura (precision, no comments)": trafilatura_precision,
        "newswire clean stage": newswire_text,
    }
    results = {name: score(pages, truth, extract) for name, extract in rows.items()}
    seconds = best_seconds(list(pages.values()), rows)
    print(f"{len(pages)} pages from {data}")
    print(f"{'extractor':40} {'precision':>9} {'recall':>7} {'F1':>6} {'pages/s':>8}")
    for name, result in results.items():
        rate = len(pages) / seconds[name]
        figures = f"{result.precision:9.4f} {result.recall:7.4f} {result.f1:6.4f} {rate:8.1f}"
        print(f"{name:40} {figures}")
    ours = results["newswire clean stage"]
    default = results["trafilatura (default)"]
    for page_id, recall in ours.recalls.items():
        if recall <= LOST_SHARE:
            theirs = default.recalls[page_id]
            print(f"  lost: {page_id} (recall {recall:.0%}, default {theirs:.0%})")
    ratio = seconds["newswire clean stage"] / seconds["trafilatura (precision, no comments)"]
    print(f"cost of the clean stage / trafilatura alone: {ratio:.2f}x (goal <= 1.5x)")
    if (MORE_DATA / "evaldata.json").exists():
        report_more(MORE_DATA)
    return 0


if __name__ == "__main__":
    sys.exit(main())
