"""Extraction quality and cost of the clean stage on real news pages.

Usage: python -m bench.extraction_quality [DATA_DIR]   (default: ../shared/data/extraction-dev)

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
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import trafilatura

from bench.common import SHARED
from pipeline.clean import clean
from pipeline.records import RawItem, Rejected

DEFAULT_DATA = SHARED / "data" / "extraction-dev"
WORD = re.compile(r"\w+")


def shingles(text: str, size: int = 4) -> set[tuple[str, ...]]:
    words = WORD.findall(text.lower())
    return {tuple(words[i : i + size]) for i in range(max(1, len(words) - size + 1))}


def newswire_text(html: str) -> str:
    item = RawItem(
        id="bench", source="bench", receivedAt="2020-01-01T00:00:00Z", format="html", content=html
    )
    try:
        article = clean(item)
    except Rejected:
        return ""
    dateline = article.dateline.text + " " if article.dateline else ""
    return dateline + article.body


def trafilatura_default(html: str) -> str:
    return trafilatura.extract(html) or ""


def trafilatura_precision(html: str) -> str:
    return trafilatura.extract(html, include_comments=False, favor_precision=True) or ""


def score(
    pages: dict[str, str], truth: dict[str, str], extract: Callable[[str], str]
) -> tuple[float, float, float, float]:
    """Precision, recall, F1 and seconds spent extracting."""
    shared = extra = missing = 0.0
    spent = 0.0
    for page_id, html in pages.items():
        started = time.perf_counter()
        text = extract(html)
        spent += time.perf_counter() - started
        expected, found = shingles(truth[page_id]), shingles(text)
        tp, fp, fn = len(expected & found), len(found - expected), len(expected - found)
        total = tp + fp + fn or 1
        shared, extra, missing = shared + tp / total, extra + fp / total, missing + fn / total
    precision = shared / (shared + extra)
    recall = shared / (shared + missing)
    return precision, recall, 2 * precision * recall / (precision + recall), spent


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


def main() -> int:
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DATA
    if not (data / "ground-truth.json").exists():
        print(f"no extraction data at {data} (ground-truth.json and html/)", file=sys.stderr)
        return 1
    pages, truth = load_dataset(data)
    rows = [
        ("trafilatura (default)", trafilatura_default),
        ("trafilatura (precision, no comments)", trafilatura_precision),
        ("newswire clean stage", newswire_text),
    ]
    results = {name: score(pages, truth, extract) for name, extract in rows}
    print(f"{len(pages)} pages from {data}")
    print(f"{'extractor':40} {'precision':>9} {'recall':>7} {'F1':>6} {'pages/s':>8}")
    for name, (precision, recall, f1, spent) in results.items():
        print(f"{name:40} {precision:9.4f} {recall:7.4f} {f1:6.4f} {len(pages) / spent:8.1f}")
    baseline = results["trafilatura (precision, no comments)"][3]
    ours = results["newswire clean stage"][3]
    print(f"cost of the clean stage / trafilatura alone: {ours / baseline:.2f}x (goal <= 1.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
