"""Entity quality of the enrich stage beside plain spaCy, on two sets.

Usage: python -m bench.entity_eval [WIKINEWS_JSONL]
(default: ../shared/data/wikinews/wikinews_2019_2020.jsonl; labels: bench/data/entities-gold.json;
and ../shared/data/ner-dev/wikigold.jsonl where present)

- **WikiGold** (146 Wikipedia articles, CoNLL types; CC BY 4.0, WikiGold, Balasuriya et al.
  2009): people (PER), organisations (ORG) and places (LOC); MISC is not scored. Document
  level: per article, the set of (type, name) over every mention, against the labelled
  mentions' set. Mention level: (type, start, end) spans that match exactly.
- **Wikinews** (10 hand-checked articles): document level only, the labels being names
  without offsets; Newswire's names are its entities' canonical names.

- **Demo samples** (``bench.entity_samples``): every entity's type against a gold file, and
  the share of entities with links, per type.

Names are compared without case, accents, leading "the" or possessive. The baseline is the
same spaCy model with its raw entity spans mapped to the three types (PERSON; ORG; GPE, LOC,
FAC), so the difference is what Newswire's dictionary, canonical names, gazetteer typing,
head words and repeat-finding add.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson

from bench.common import SHARED, wikinews_article, wikinews_parser, wikinews_rows
from bench.entity_samples import report_links, report_samples
from pipeline.enrich import (
    PARAGRAPH_SEPARATOR,
    Enricher,
    Recogniser,
    load_enricher,
    spacy_model_name,
    spacy_recogniser,
)
from pipeline.records import Article

HERE = Path(__file__).resolve().parent
WIKIGOLD = SHARED / "data" / "ner-dev" / "wikigold.jsonl"
TYPES = ("person", "organisation", "place")
CONLL_TYPES = {"PER": "person", "ORG": "organisation", "LOC": "place"}
BASELINE_LABELS = {
    "PERSON": "person",
    "ORG": "organisation",
    "GPE": "place",
    "LOC": "place",
    "FAC": "place",
}


def normalise(name: str) -> str:
    name = unicodedata.normalize("NFKD", name)
    name = "".join(ch for ch in name if not unicodedata.combining(ch)).casefold()
    name = re.sub(r"^the\s+", "", name)
    name = re.sub(r"['’]s?$", "", name)
    return " ".join(name.split())


Found = set[tuple[str, str]]
Spans = set[tuple[str, int, int]]


def score(
    found: Sequence[set[tuple[Any, ...]]], gold: Sequence[set[tuple[Any, ...]]]
) -> dict[str, tuple[float, float, float]]:
    """Precision, recall and F1 per type and over all (an entry counts with its type)."""
    counts: Counter[tuple[str, str]] = Counter()
    for predicted, expected in zip(found, gold, strict=True):
        for kind in (*TYPES, "all"):
            p = {entry for entry in predicted if kind in ("all", entry[0])}
            g = {entry for entry in expected if kind in ("all", entry[0])}
            counts[(kind, "tp")] += len(p & g)
            counts[(kind, "fp")] += len(p - g)
            counts[(kind, "fn")] += len(g - p)
    result = {}
    for kind in (*TYPES, "all"):
        tp, fp, fn = (counts[(kind, x)] for x in ("tp", "fp", "fn"))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        result[kind] = (precision, recall, f1)
    return result


def print_table(title: str, base: dict[str, Any], mine: dict[str, Any]) -> None:
    print(title)
    print(f"{'type':14} {'spaCy P':>8} {'R':>6} {'F1':>6}   {'Newswire P':>10} {'R':>6} {'F1':>6}")
    for kind in (*TYPES, "all"):
        b, m = base[kind], mine[kind]
        print(
            f"{kind:14} {b[0]:8.3f} {b[1]:6.3f} {b[2]:6.3f}   {m[0]:10.3f} {m[1]:6.3f} {m[2]:6.3f}"
        )


def wikigold_article(text: str) -> tuple[Article, Callable[[int], int]]:
    """The article of a WikiGold text (its lines as paragraphs, the first as headline) and the
    map from an offset in the text to the same character in the article's body."""
    lines, starts = [], []
    position = 0
    for line in text.split("\n"):
        if line.strip():
            lines.append(line)
            starts.append(position)
        position += len(line) + 1
    body_starts = [
        sum(len(x) + len(PARAGRAPH_SEPARATOR) for x in lines[:n]) for n in range(len(lines))
    ]

    def to_body(offset: int) -> int:
        line = max(n for n, start in enumerate(starts) if start <= offset)
        return body_starts[line] + offset - starts[line]

    return Article(headline=lines[0], paragraphs=lines), to_body


def report_wikigold(path: Path, enricher: Enricher, recognise: Recogniser) -> None:
    rows = [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    rows = [row for row in rows if row["text"].strip()]
    gold_names: list[Found] = []
    gold_spans: list[Spans] = []
    ours_names: list[Found] = []
    ours_spans: list[Spans] = []
    base_names: list[Found] = []
    base_spans: list[Spans] = []
    for row in rows:
        article, to_body = wikigold_article(row["text"])
        labelled = [
            (CONLL_TYPES[e["type"]], e) for e in row["entities"] if e["type"] in CONLL_TYPES
        ]
        gold_names.append({(kind, normalise(e["text"])) for kind, e in labelled})
        gold_spans.append(
            {
                (kind, to_body(e["start"]), to_body(e["start"]) + len(e["text"]))
                for kind, e in labelled
            }
        )
        mentions = [
            (e.type, m)
            for e in enricher.enrich(article).entities
            if e.type in TYPES
            for m in e.mentions
        ]
        ours_names.append({(kind, normalise(m["text"])) for kind, m in mentions})
        ours_spans.append({(kind, m["start"], m["end"]) for kind, m in mentions})
        body = article.body
        spans = [
            (BASELINE_LABELS[label], s, e)
            for s, e, label in recognise([body])[0]
            if label in BASELINE_LABELS
        ]
        base_names.append({(kind, normalise(body[s:e])) for kind, s, e in spans})
        base_spans.append(set(spans))
    print(f"\n{len(rows)} WikiGold articles ({path})")
    print_table("document level", score(base_names, gold_names), score(ours_names, gold_names))
    print_table("mention level", score(base_spans, gold_spans), score(ours_spans, gold_spans))


def main() -> int:
    args = wikinews_parser(
        "Entity quality on hand-checked Wikinews articles and WikiGold."
    ).parse_args()
    labels = orjson.loads((HERE / "data" / "entities-gold.json").read_bytes())["documents"]
    articles = {row["id"]: row for row in wikinews_rows(args.data)}
    model = spacy_model_name()
    recognise = spacy_recogniser(model)
    enricher = load_enricher(model)
    ours: list[Found] = []
    baseline: list[Found] = []
    gold: list[Found] = []
    links: list[tuple[str, dict[str, Any]]] = []
    for doc_id, expected in labels.items():
        article = wikinews_article(articles[doc_id])
        gold.append({(kind, normalise(n)) for kind in TYPES for n in expected[kind]})
        enrichment = enricher.enrich(article)
        links += [(e.type, e.links or {}) for e in enrichment.entities]
        ours.append({(e.type, normalise(e.name)) for e in enrichment.entities if e.type in TYPES})
        spans = recognise([article.body])[0]
        baseline.append(
            {
                (BASELINE_LABELS[label], normalise(article.body[s:e]))
                for s, e, label in spans
                if label in BASELINE_LABELS
            }
        )
    # Compare entities, not spellings: an alias of the dictionary ("AFP") counts as its
    # canonical name for the labels and for both systems alike.
    canonical = {
        normalise(alias): normalise(known.name) for alias, known in enricher.gazetteer.known.items()
    }
    gold, ours, baseline = (
        [{(kind, canonical.get(name, name)) for kind, name in doc} for doc in docs]
        for docs in (gold, ours, baseline)
    )
    print(f"{len(gold)} hand-checked Wikinews articles, model {model}")
    print_table(
        "document level (no mention offsets in these labels)",
        score(baseline, gold),
        score(ours, gold),
    )
    report_links(links, "Wikinews")
    report_samples(enricher.enrich_many)
    if WIKIGOLD.exists():
        report_wikigold(WIKIGOLD, enricher, recognise)
    else:
        print(f"\nno WikiGold at {WIKIGOLD}: only the Wikinews figures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
