"""The enrich stage: entities and quotes for a story.

Entity recognition is not built yet: this stage returns an empty enrichment, and stories say
so honestly (an empty ``newswire.entities`` list). Its signature is the one the NER stage keeps.
"""

from __future__ import annotations

from pipeline.records import Article, Enrichment


def enrich(article: Article) -> Enrichment:
    del article  # no recogniser yet
    return Enrichment()
