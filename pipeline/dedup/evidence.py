"""The evidence that links an item to an earlier story of its own source, and how headlines
are matched: a kill quoting one, a headline corrected over the same body."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pipeline.dedup.store import (
    DedupConfig,
    Incoming,
    StoryRecord,
    VersionRule,
    headline_words,
    marks_update,
)
from pipeline.evidence import lead_figures_missing, names_agree, share_ticker
from pipeline.similarity import (
    TextProfile,
    numbers_agree,
)

HEADLINE_MATCH = 0.7
"""How well a headline a kill quotes must match a story's (``headline_match``)."""


CORRECTED_HEADLINE = 0.9
"""Character similarity from which a changed headline is a corrected one."""


SUBSTANTIAL_BODY = 40
"""Word 3-grams from which the same body is the same story whatever its headline."""


REFILE_HEADLINE_OVERLAP = 0.7
"""Share of headline words a company's refile keeps ("3RD QTR NET" and "3RD QTR NET SEPT")."""


TABULAR_FIGURES = 0.15
"""Distinct figures per distinct word 3-gram from which a text is a table (prose: under
0.07; results and supply tables: 0.19 and more)."""


def overlap(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    small, large = sorted((set(a), set(b)), key=len)
    return len(small & large) / len(small) if small else 0.0


def tabular(profile: TextProfile) -> bool:
    return len(profile.numbers) >= TABULAR_FIGURES * max(profile.size, 1)


@dataclass(frozen=True)
class Evidence:
    """What links an item to an earlier story of its source, so a reader sees what decided."""

    similarity: float
    marked: bool
    """An update or correction is marked in the headline or lead."""
    same_subject: bool
    same_ticker: bool
    """Both leads name the same ticker: the one company, beyond doubt."""
    same_headline: bool
    """The two carry the same headline, update markers aside."""
    headline_overlap: float
    """Share of the shorter headline's words in the other."""
    tabular: bool
    """Either text is a table (results, supply and demand, rates): mostly figures."""
    lead_figures_missing: int
    """Figures of one lead the other text lacks."""
    figures: bool
    hours_apart: float

    @classmethod
    def between(
        cls, incoming: Incoming, record: StoryRecord, similarity: float, same_headline: bool
    ) -> Evidence:
        seen = datetime.fromtimestamp(record.seen, UTC)
        marked = marks_update(incoming.headline, incoming.opening)
        return cls(
            similarity=round(similarity, 3),
            marked=marked,
            same_subject=names_agree(incoming.names, record.names, by_tickers=not marked),
            same_ticker=share_ticker(incoming.names, record.names),
            same_headline=same_headline,
            headline_overlap=round(overlap(headline_words(incoming.headline), record.headline), 2),
            tabular=tabular(incoming.profile) or tabular(record.profile),
            lead_figures_missing=lead_figures_missing(
                incoming.lead_figures,
                incoming.profile.numbers,
                record.lead_figures,
                record.profile.numbers,
            ),
            figures=numbers_agree(incoming.profile.numbers, record.profile.numbers),
            hours_apart=round(abs((incoming.received - seen).total_seconds()) / 3600, 1),
        )

    def rule(self, config: DedupConfig) -> VersionRule | None:
        """Which rule makes the item a version of that story, if one does, in this order:

        - the leads must name the same subject;
        - ``refile``: a company's refile (same ticker, its headline kept, hours later),
          whatever its figures;
        - ``marked``: a marked update or correction;
        - a table otherwise only under a headline that keeps every word of the other's:
          tables of one template share their words and many of their figures;
        - ``rewrite`` hours later, or ``repeat`` (near-verbatim, within the version window),
          with the figures agreeing: the texts', and the leads' but for one in a near-verbatim
          text or under the same ticker (an unmarked correction). Another issuer's or day's
          report differs in more figures, or comes a day later.
        """
        if not self.same_subject:
            return None
        soon = self.hours_apart <= config.rewrite_window.total_seconds() / 3600
        kept_headline = self.same_headline or self.headline_overlap >= REFILE_HEADLINE_OVERLAP
        if self.same_ticker and kept_headline and soon:
            return "refile"
        if self.marked:
            return "marked"
        if self.tabular and self.headline_overlap < 1:
            return None
        repeat = self.similarity >= config.repeat_threshold
        lead_agrees = self.lead_figures_missing == 0 or (
            soon and (repeat or self.same_ticker) and self.lead_figures_missing == 1
        )
        if not (lead_agrees and self.figures):
            return None
        return "rewrite" if soon else "repeat" if repeat else None

    def to_json(self) -> dict[str, Any]:
        return {
            "similarity": self.similarity,
            "marked": self.marked,
            "sameSubject": self.same_subject,
            "sameTicker": self.same_ticker,
            "sameHeadline": self.same_headline,
            "headlineOverlap": self.headline_overlap,
            "tabular": self.tabular,
            "leadFiguresMissing": self.lead_figures_missing,
            "figures": self.figures,
            "hoursApart": self.hours_apart,
        }


def headline_match(named: tuple[str, ...], headline: tuple[str, ...]) -> float:
    """How well a quoted headline names a story's: the share of words the two have in
    common, of the longer; a mistyped word counts when it is nearly the other's."""
    if not named or not headline:
        return 0.0
    rest = list(headline)
    shared = 0.0
    for word in named:
        if word in rest:
            rest.remove(word)
            shared += 1
        elif close := difflib.get_close_matches(word, rest, n=1, cutoff=0.75):
            rest.remove(close[0])
            shared += 0.75
    return shared / max(len(named), len(headline))


def corrects_headline(new: tuple[str, ...], old: tuple[str, ...]) -> bool:
    """Whether ``new`` mends ``old`` (a typo, a figure, a word) rather than rewrites it."""
    ratio = difflib.SequenceMatcher(None, " ".join(new), " ".join(old)).ratio()
    return CORRECTED_HEADLINE <= ratio < 1.0
