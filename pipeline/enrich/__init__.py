"""The enrich stage: people, organisations, places and who said what (``enricher``), from
mentions (``mentions``) the recogniser (``model``) and the rules find, loaded once per
process (``loading``)."""

from pipeline.enrich.enricher import Enricher
from pipeline.enrich.loading import enrichment_for, load_enricher
from pipeline.enrich.model import (
    DEFAULT_MODELS,
    PARAGRAPH_SEPARATOR,
    EnrichMany,
    ParagraphCache,
    Recogniser,
    detect_language,
    no_enrichment,
    spacy_model_name,
    spacy_recogniser,
)

__all__ = [
    "DEFAULT_MODELS",
    "PARAGRAPH_SEPARATOR",
    "EnrichMany",
    "Enricher",
    "ParagraphCache",
    "Recogniser",
    "detect_language",
    "enrichment_for",
    "load_enricher",
    "no_enrichment",
    "spacy_model_name",
    "spacy_recogniser",
]
