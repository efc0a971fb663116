"""What an item's headline and lead say it is about: the names and the figures that two items
must share before one is taken for a rewrite of the other.

An agency feed has one source, so "the same source, a similar text" is not enough: templated
copy (bond issues, contract awards, results, daily market reports) shares most of its words
between different issuers, days and amounts. Two things tell such look-alikes apart in any
language of the wire, without a list of templates:

- **names**: who the lead is about. Tickers (``<ESX>``) and the capitalised words of the first
  sentence that do not merely start it; corporate designators (Corp, Ltd, ...), days and
  months do not count, since every issuer has one and every story a date.
- **lead figures**: the amounts, dates and counts of the headline and first sentence, with
  the numbers agency style spells out (one to ten). A rewrite keeps them; another day's report
  or another issuer's deal does not.
"""

from __future__ import annotations

import re

from pipeline.similarity import normalised_words

_TICKER = re.compile(r"<\s*([A-Za-z][\w.]{0,11})\s*>")
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)\"'])[.!?]\s+(?=[A-Z<\"'])")
_FIGURE = re.compile(r"\d+(?:[.,]\d+)*(?:-\d+/\d+)?|\d+/\d+")
SPELLED_FIGURES = frozenset(
    ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
)
"""Figures agency style writes as words."""
_NAME_WORD = re.compile(r"[^\W\d_][\w'&.-]*")
NOT_NAMES = frozenset(
    [
        "corp",
        "corporation",
        "co",
        "cos",
        "company",
        "companies",
        "inc",
        "incorporated",
        "ltd",
        "limited",
        "plc",
        "llc",
        "lp",
        "llp",
        "sa",
        "ag",
        "nv",
        "bv",
        "gmbh",
        "spa",
        "srl",
        "kk",
        "oy",
        "ab",
        "asa",
        "as",
        "group",
        "holdings",
        "holding",
        "the",
        "of",
        "and",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "today",
        "yesterday",
        "tomorrow",
        "international",
        "national",
        "bank",
        "banking",
        "trust",
        "financial",
        "finance",
        "capital",
        "securities",
        "investment",
        "investments",
        "industries",
        "resources",
        "partners",
    ]
)
"""Capitalised words that name no one: kinds of company and of business, days, months."""


LEAD_WORDS = 40
"""At most this many words of the first sentence: copy set as one block (tables, wire text
without blank lines) has no sentence end where a lead would stop."""


def opening(paragraphs: list[str]) -> str:
    """The start of a body that its lead may run over: a lead ends at its first sentence
    end, and a table's rows or a short opening line have none."""
    taken, words = [], 0
    for paragraph in paragraphs:
        taken.append(paragraph)
        words += len(paragraph.split())
        if words >= LEAD_WORDS:
            break
    return " ".join(taken)


def first_sentence(paragraph: str) -> str:
    """The lead: the first sentence of the paragraph, at most ``LEAD_WORDS`` words of it."""
    sentence = _SENTENCE_END.split(paragraph.strip(), maxsplit=1)[0]
    return " ".join(sentence.split()[:LEAD_WORDS])


def lead_names(headline: str, opening: str) -> tuple[str, ...]:
    """Who the headline and the lead's first sentence name, as folded words."""
    text = headline + " " + opening
    found = {f"<{t.casefold()}>" for t in _TICKER.findall(text.replace("&lt;", "<"))}
    sentence = _TICKER.sub(" ", first_sentence(opening.replace("&lt;", "<")))
    words = [word.strip(".'-&") for word in _NAME_WORD.findall(sentence)]
    for position, word in enumerate(words):
        if not word[:1].isupper():
            continue
        # A sentence's first word is capitalised anyway: a name only if the next one is too.
        if position == 0 and not (len(words) > 1 and words[1][:1].isupper()):
            continue
        folded = word.casefold().removesuffix("'s")
        if folded not in NOT_NAMES:
            found.add(folded)
    return tuple(sorted(found))


def lead_figures(headline: str, opening: str) -> tuple[str, ...]:
    """The figures of the headline and the lead, each whole ("2.83", "1,143", "6-1/8",
    "two"), so that one changed figure counts once."""
    text = headline + " " + first_sentence(opening)
    whole = {_plain(match) for match in _FIGURE.findall(text)}
    spelled = {word for word in normalised_words(text) if word in SPELLED_FIGURES}
    return tuple(sorted(whole | spelled))


def share_ticker(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    return any(name.startswith("<") and name in b for name in a)


def _plain(figure: str) -> str:
    """A figure as written once: no thousands separators, no trailing decimal zeros
    ("134.0" and "134", "1.10" and "1.1" are one figure)."""
    figure = figure.replace(",", "")
    if "." in figure and "/" not in figure:
        figure = figure.rstrip("0").rstrip(".")
    return figure


def names_agree(a: tuple[str, ...], b: tuple[str, ...], by_tickers: bool = True) -> bool:
    """The two leads share a name, or one of them names nobody; two leads with tickers
    share one (a ticker names one company), unless ``by_tickers`` is off (a correction may
    be of the ticker)."""
    tickers_a = {name for name in a if name.startswith("<")}
    tickers_b = {name for name in b if name.startswith("<")}
    if by_tickers and tickers_a and tickers_b and tickers_a.isdisjoint(tickers_b):
        return False
    return not a or not b or not set(a).isdisjoint(b)


def lead_figures_missing(
    lead_a: tuple[str, ...], all_a: tuple[str, ...], lead_b: tuple[str, ...], all_b: tuple[str, ...]
) -> int:
    """How many figures of one lead the other text lacks, the lead that fares better: an
    extension or a cut keeps all the figures of the shorter lead, a correction changes one,
    another issuer's or day's report misses some on both sides.
    ``all_*`` are the texts' digit words (``TextProfile.numbers``). A figure is found in the
    other lead, or, when it is a whole number of two digits or more, among the other text's
    figures: small numbers, spelled numbers and the parts of decimals and fractions are
    everywhere in a text, so they must be in the other lead itself."""

    def missing(lead: tuple[str, ...], other_lead: tuple[str, ...], other: tuple[str, ...]) -> int:
        in_lead, anywhere = set(other_lead), set(other)
        return sum(
            figure not in in_lead
            and not (figure.isdigit() and len(figure) >= 2 and figure in anywhere)
            for figure in lead
        )

    return min(missing(lead_a, lead_b, all_b), missing(lead_b, lead_a, all_a))
