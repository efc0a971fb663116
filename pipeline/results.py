"""Rows of results and standings: where the names are in "Arsenal 2 Derby 2" or
"203 Ernie Els 69 68 66 , Colin Montgomerie ( Britain ) 70 66 67".

The model reads such a row as one long name, or as none. A row is a line of figures and
names with hardly a word in lower case; its names are the runs of capitalised words between
the figures, brackets and commas. Which runs name something, and what, the enrich stage
decides with the model's evidence (``pipeline.enrich``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(r"[()\[\]]|[^\s()\[\]]+")
_FIGURE = re.compile(r"[-+]?\.?\d[\d.,:/'-]*[a-z]{0,2}[.,;:]?$")
_CONNECTORS = frozenset(
    [
        "of",
        "de",
        "da",
        "di",
        "do",
        "du",
        "del",
        "der",
        "den",
        "van",
        "von",
        "la",
        "le",
        "las",
        "los",
        "y",
        "and",
        "&",
        "al",
        "el",
        "bin",
        "st.",
        "st",
    ]
)
"""Lower-case words inside a name: "Brighton and Hove Albion", "Real Sociedad de Futbol"."""
_MAX_LOWERCASE_WORDS = 2
_LETTERS = re.compile(r"(?<!\S)[^\W\d_]+(?!\S)")
"""A token of letters only."""
_PROSE = re.compile(
    r"(?:(?<!\S)(?!(?:" + "|".join(re.escape(c) for c in sorted(_CONNECTORS)) + r")(?!\S))"
    r"[a-z][^\W\d_]*(?!\S).*?){3}"
)
"""Three words in lower case that join no name: prose, found without a Python loop."""
_FIGURE_TOKEN = re.compile(r"(?<!\S)[-+]?\.?\d[\d.,:/'-]*[a-z]{0,2}[.,;:]?(?!\S)")
_WORD_OR_FIGURE = re.compile(r"\S*[^\W_]\S*")
"""A token with a letter or a digit in it (not a bracket or a dash alone)."""
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+\d{4})?"
_DATE = re.compile(
    rf"\b(?:{_DAY}\s+{_MONTH}{_YEAR}|{_MONTH}\s+{_DAY}{_YEAR}|{_MONTH}\s+\d{{4}}|\d{{4}}-\d\d-\d\d)\b"
)
_SENTENCE_END = re.compile(r"[^\W\d_]{2,}[.!?]$")  # "... weighed 169 lbs."
_MIN_FIGURE_SHARE = 0.2
_MIN_FIGURES = 2  # one is a dateline's date: "LONDON 1996-12-07"


@dataclass(frozen=True)
class Run:
    """A name in a row: its span in the paragraph and its place among the row's names."""

    start: int
    end: int
    column: int


def _is_name_word(token: str) -> bool:
    return token[:1].isupper() and any(ch.isalpha() for ch in token)


def is_results_row(paragraph: str) -> bool:
    """A line of names and figures: two figures or more, a fifth of its words and figures
    or more, at most two words (besides the connectors of names) in lower case, and no
    word ending it as a sentence ends. The figures of a date ("27 March 1943") are no
    results. It runs on every line of plain copy (``split_blocks``): regular expressions
    count, cheapest test first."""
    if _PROSE.search(paragraph):
        return False
    lowercase = sum(
        1 for t in _LETTERS.findall(paragraph) if t[0].islower() and t.lower() not in _CONNECTORS
    )
    if lowercase > _MAX_LOWERCASE_WORDS or _SENTENCE_END.search(paragraph):
        return False
    text = _DATE.sub(" ", paragraph)
    figures = len(_FIGURE_TOKEN.findall(text))
    if figures < _MIN_FIGURES:
        return False
    tokens = len(_WORD_OR_FIGURE.findall(text))
    return tokens >= 2 and figures >= _MIN_FIGURE_SHARE * tokens


def row_names(paragraph: str) -> list[Run]:
    """The runs of capitalised words of a results row, in order; a label ("Scorers :",
    "Attendance :") is none."""
    runs: list[Run] = []
    current: list[re.Match[str]] = []

    def close(following: str) -> None:
        while current and current[-1].group().lower() in _CONNECTORS:
            current.pop()
        if current and not (following == ":" or current[-1].group().endswith(":")):
            start, end = current[0].start(), current[-1].end()
            text = paragraph[start:end].rstrip(",;")
            runs.append(Run(start, start + len(text), len(runs)))
        current.clear()

    for match in _TOKEN.finditer(paragraph):
        token = match.group()
        if _is_name_word(token) and not _FIGURE.match(token):
            current.append(match)
            if token.endswith((",", ";", ":")):
                close("")
        elif current and token.lower() in _CONNECTORS:
            current.append(match)
        else:
            close(token)
    close("")
    return runs
