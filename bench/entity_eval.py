"""Entity quality of the enrich stage on hand-checked Wikinews articles, beside plain spaCy.

Usage: python -m bench.entity_eval [WIKINEWS_JSONL]
(default: ../shared/data/wikinews/wikinews_2019_2020.jsonl; labels: bench/data/entities-gold.json)

Scored as document-level entity F1 over people, organisations and places: per document, the
set of (type, name) found against the labelled set, names compared without case, accents,
leading "the" or possessive. The baseline is the same spaCy model with its raw entity spans
mapped to the three types (PERSON; ORG; GPE, LOC, FAC), so the difference is what Newswire's
dictionary, canonical names, gazetteer typing and repeat-finding add.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import orjson

from bench.common import wikinews_article, wikinews_parser, wikinews_rows
from pipeline.enrich import load_enricher, spacy_model_name, spacy_recogniser

HERE = Path(__file__).resolve().parent
TYPES = ("person", "organisation", "place")
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


def score(found: list[Found], gold: list[Found]) -> dict[str, tuple[float, float, float]]:
    counts: Counter[tuple[str, str]] = Counter()
    for predicted, expected in zip(found, gold, strict=True):
        for kind in (*TYPES, "all"):
            p = {n for t, n in predicted if kind in ("all", t)}
            g = {n for t, n in expected if kind in ("all", t)}
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


def main() -> int:
    args = wikinews_parser("Entity quality on hand-checked Wikinews articles.").parse_args()
    labels = orjson.loads((HERE / "data" / "entities-gold.json").read_bytes())["documents"]
    articles = {row["id"]: row for row in wikinews_rows(args.data)}
    model = spacy_model_name()
    recognise = spacy_recogniser(model)
    enricher = load_enricher(model)
    ours: list[Found] = []
    baseline: list[Found] = []
    gold: list[Found] = []
    for doc_id, expected in labels.items():
        article = wikinews_article(articles[doc_id])
        gold.append({(kind, normalise(n)) for kind in TYPES for n in expected[kind]})
        enrichment = enricher.enrich(article)
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
    print(f"{'type':14} {'spaCy P':>8} {'R':>6} {'F1':>6}   {'Newswire P':>10} {'R':>6} {'F1':>6}")
    base, mine = score(baseline, gold), score(ours, gold)
    for kind in (*TYPES, "all"):
        b, m = base[kind], mine[kind]
        print(
            f"{kind:14} {b[0]:8.3f} {b[1]:6.3f} {b[2]:6.3f}   {m[0]:10.3f} {m[1]:6.3f} {m[2]:6.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
