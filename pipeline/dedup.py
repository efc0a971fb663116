"""The dedup stage: is this article a story we already published?

This is the exact-content form: a fingerprint of the normalised headline and body, looked up
in an index (a Faust table in the worker, a dict in batch mode). Normalisation ignores case,
whitespace and punctuation variants, and runs on cleaned text, so the boilerplate the clean
stage removes never tells two copies apart.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Literal

from pipeline.records import Article

URI_PREFIX = "urn:newswire:story:"


def normalised_text(article: Article) -> str:
    """Headline and body, case-folded, with punctuation dropped and whitespace collapsed."""
    text = f"{article.headline}\n{article.body}".casefold()
    kept = (" " if unicodedata.category(ch)[0] in "PZC" else ch for ch in text)
    return " ".join("".join(kept).split())


def fingerprint(article: Article) -> str:
    return hashlib.sha256(normalised_text(article).encode()).hexdigest()[:32]


def story_uri(article_fingerprint: str) -> str:
    return URI_PREFIX + article_fingerprint


@dataclass(frozen=True)
class Decision:
    """``new``: publish under ``uri`` as ``version``; ``duplicate``: ``uri`` is the original."""

    status: Literal["new", "duplicate"]
    uri: str
    version: int
    fingerprint: str
    similarity: float = 1.0


def dedup(article_fingerprint: str, index: MutableMapping[str, str]) -> Decision:
    """Decide and remember: the first item with a fingerprint is new, every later one repeats it."""
    known = index.get(article_fingerprint)
    if known is not None:
        return Decision("duplicate", known, 1, article_fingerprint)
    uri = story_uri(article_fingerprint)
    index[article_fingerprint] = uri
    return Decision("new", uri, 1, article_fingerprint)


def undeduplicated(article_fingerprint: str) -> Decision:
    """The decision when dedup is skipped (``process --skip-dedup``): every item is new."""
    return Decision("new", story_uri(article_fingerprint), 1, article_fingerprint)
