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
_MAX_CONNECTORS = 8
_LOWERCASE_WORD = re.compile(r"(?<!\S)[a-z]+(?!\S)")
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
    results."""
    if len(_LOWERCASE_WORD.findall(paragraph)) > _MAX_LOWERCASE_WORDS + _MAX_CONNECTORS:
        return False  # prose, at a glance
    tokens = [t for t in _DATE.sub(" ", paragraph).split() if any(ch.isalnum() for ch in t)]
    if len(tokens) < 2 or _SENTENCE_END.search(paragraph):
        return False
    figures = sum(bool(_FIGURE.match(t)) for t in tokens)
    lowercase = sum(
        1 for t in tokens if t[:1].islower() and t.isalpha() and t.lower() not in _CONNECTORS
    )
    return (
        figures >= _MIN_FIGURES
        and figures >= _MIN_FIGURE_SHARE * len(tokens)
        and lowercase <= _MAX_LOWERCASE_WORDS
    )


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
