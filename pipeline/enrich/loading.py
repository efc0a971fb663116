"""Loading the enricher of a process, and choosing what the enrich stage runs."""

from __future__ import annotations

from pathlib import Path

from pipeline.config import Settings
from pipeline.enrich.enricher import Enricher
from pipeline.enrich.model import (
    EnrichMany,
    ParagraphCache,
    no_enrichment,
    spacy_model_name,
    spacy_recogniser,
)
from pipeline.gazetteer import (
    Gazetteer,
)
from pipeline.records import Article


def load_enricher(model: str = "", dictionary: Path | None = None) -> Enricher:
    """The enricher of this process: the spaCy model and the gazetteer loaded once, and
    warmed up so that the first story does not pay for lazy loading."""
    name = spacy_model_name(model)
    enricher = Enricher(spacy_recogniser(name), Gazetteer(dictionary), name)
    warm = Article(
        headline="Warm-up",
        paragraphs=[
            'Jane Doe met officials of Ohio in Paris, France, and said: "Hello to you all."'
        ],
    )
    enricher.enrich(warm)
    enricher.cache = ParagraphCache(enricher.cache.size)
    return enricher


def enrichment_for(settings: Settings) -> EnrichMany:
    """What the enrich stage runs with these settings."""
    if not settings.enrich:
        return no_enrichment
    dictionary = Path(settings.entity_dictionary) if settings.entity_dictionary else None
    return load_enricher(settings.spacy_model, dictionary).enrich_many
