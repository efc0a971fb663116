"""Enrichment throughput beside raw spaCy, and the cost of re-enriching a new version.

Usage: python -m bench.enrich_speed [WIKINEWS_JSONL] [--stories N]

1. Raw ``nlp.pipe`` over the story bodies (the NER pipeline Newswire loads), then Newswire's
   enricher over the same stories in batches of 32, as the worker runs it, with an empty
   paragraph cache; three rounds alternated, the best of each: stories/s, words/s and the
   ratio (goal >= 0.85).
2. A ten-paragraph story enriched fresh, then a new version with one paragraph changed (the
   other nine come from the paragraph cache): the ratio of the two times (goal <= 0.25).
"""

from __future__ import annotations

import statistics
import sys
import time

from bench.common import wikinews_article, wikinews_parser, wikinews_rows
from pipeline.enrich import ParagraphCache, load_enricher
from pipeline.records import Article

BATCH = 32
ROUNDS = 3


def main() -> int:
    parser = wikinews_parser("Enrichment throughput beside raw spaCy; re-enrichment cost.")
    parser.add_argument("--stories", type=int, default=200)
    args = parser.parse_args()
    stories = [wikinews_article(row) for row in wikinews_rows(args.data)[: args.stories]]
    words = sum(len(a.body.split()) for a in stories)
    enricher = load_enricher()
    import spacy

    nlp = spacy.load(
        enricher.model,
        exclude=["tagger", "parser", "attribute_ruler", "lemmatizer", "senter", "morphologizer"],
    )
    list(nlp.pipe([a.body for a in stories[:10]]))  # warm-up
    raw_times, our_times = [], []
    for _ in range(ROUNDS):  # alternated, and the best of each: the machine's load varies
        started = time.perf_counter()
        list(nlp.pipe([a.body for a in stories], batch_size=BATCH))
        raw_times.append(time.perf_counter() - started)
        enricher.cache = ParagraphCache(50_000)
        started = time.perf_counter()
        for first in range(0, len(stories), BATCH):
            enricher.enrich_many(stories[first : first + BATCH])
        our_times.append(time.perf_counter() - started)
    raw, ours = min(raw_times), min(our_times)

    print(f"{len(stories)} Wikinews stories, {words} words, model {enricher.model}")
    print(f"{'':32} {'stories/s':>10} {'words/s':>10}")
    print(f"{'raw spaCy nlp.pipe':32} {len(stories) / raw:10.1f} {words / raw:10.0f}")
    print(
        f"{'Newswire enricher (batches of 32)':32} {len(stories) / ours:10.1f} {words / ours:10.0f}"
    )
    print(f"ratio: {raw / ours:.2f} (goal >= 0.85)")

    long_story = next(a for a in stories if len(a.paragraphs) >= 10)
    paragraphs = long_story.paragraphs[:10]
    fresh_times, update_times = [], []
    for round_number in range(5):
        enricher.cache = ParagraphCache(50_000)
        started = time.perf_counter()
        enricher.enrich(Article(headline=long_story.headline, paragraphs=paragraphs))
        fresh_times.append(time.perf_counter() - started)
        changed = [
            *paragraphs[:4],
            paragraphs[4] + f" It was update {round_number}.",
            *paragraphs[5:],
        ]
        started = time.perf_counter()
        enricher.enrich(Article(headline=long_story.headline, paragraphs=changed))
        update_times.append(time.perf_counter() - started)
    fresh, update = statistics.median(fresh_times), statistics.median(update_times)
    print(
        f"new version, 1 of 10 paragraphs changed: {update * 1e3:.1f} ms beside "
        f"{fresh * 1e3:.1f} ms fresh: ratio {update / fresh:.2f} (goal <= 0.25)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
