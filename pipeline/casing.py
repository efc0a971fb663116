"""A cased copy of words written in capitals, for the model to read.

The model learned names from mixed-case text: in a headline or slug set in capitals
("SOCCER - JAPAN GET LUCKY WIN") every word looks like a name, or none does. Each capitalised
word takes the form the same story gives it elsewhere ("Japan"); a word the story gives no
form is written as a common word in a line of prose (the sentence case of a headline), and
as a name in a dateline or a row of results ("Al-Ain", "New York 74 56"). The copy has the
same length as the text, so the model's offsets are the text's offsets.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

from spacy.lang.en.stop_words import STOP_WORDS

_WORD = re.compile(r"[^\W\d_]+(?:['’.-][^\W\d_]+)*\.?")
_DATELINE_OPENING = re.compile(
    r"(?P<place>[^\W\d_a-z]{2,}(?:[ '’.-]+[^\W\d_a-z]{2,})*\.?)(?!\w)\s*(?P<mark>[,(–—-]|\d)"
)
_MIN_SHOUTING_WORDS = 2
_SHOUTING_SHARE = 0.8


def _is_capitals(word: str) -> bool:
    return len(word) >= 2 and word.isupper()


def is_shouting(text: str) -> bool:
    """Whether a text is set in capitals: most of its words of two letters or more are."""
    words = [w for w in _WORD.findall(text) if len(w) >= 2]
    capitals = sum(1 for w in words if w.isupper())
    return capitals >= _MIN_SHOUTING_WORDS and capitals >= _SHOUTING_SHARE * len(words)


def dateline_place(text: str) -> tuple[int, int] | None:
    """Where a dateline opening the text names its place ("AL-AIN , United Arab Emirates
    1996-12-06", "LONDON 1996-12-07"), if one does."""
    opening = _DATELINE_OPENING.match(text)
    if opening is None or opening.group("mark") in "–—-" or is_shouting(text):
        return None  # "SOCCER - JAPAN GET LUCKY WIN": a slug, not a dateline
    return opening.span("place")


def needs_casing(text: str) -> bool:
    """Whether ``Casing.cased`` would change anything in the text."""
    return bool(_DATELINE_OPENING.match(text)) or is_shouting(text)


class Casing:
    """How one story writes its words where it is not shouting."""

    def __init__(self, texts: Iterable[str], is_country: Callable[[str], object]) -> None:
        self._is_country = is_country
        self._forms: dict[str, Counter[str]] = defaultdict(Counter)
        for text in texts:
            if is_shouting(text):
                continue
            if opening := _DATELINE_OPENING.match(text):
                text = text[opening.end("place") :]
            for match in _WORD.finditer(text):
                word = match.group()
                if match.start() > 0 or not word[:1].isupper():  # a first word says little
                    self._forms[word.lower()][word] += 1

    def cased(self, text: str, names: bool = False) -> str:
        """The text with its capitalised words cased: every one in a shouting text (as names
        where ``names`` says the text is mostly names, a row of results), else those of a
        dateline opening it ("AL-AIN , United Arab Emirates", "LONDON 1996-12-07"): words in
        capitals followed by a comma, a dash, a bracket or a figure."""
        if is_shouting(text):
            copy = _WORD.sub(lambda m: self._word(m.group(), names), text)
            copy = self._places_cased(text, copy)
            return copy if names else _sentence_case(copy)
        opening = _DATELINE_OPENING.match(text)
        if opening is None:
            return text
        head = _WORD.sub(lambda m: self._word(m.group(), True), opening.group("place"))
        return head + text[opening.end("place") :]

    def _word(self, word: str, name: bool) -> str:
        if not _is_capitals(word) or "." in word.rstrip("."):  # "U.S." stays as it is
            return word
        lower = word.lower()
        forms = self._forms.get(lower)
        if forms:
            chosen = forms.most_common(1)[0][0]
        elif name and lower not in STOP_WORDS:
            chosen = _as_name(lower)
        else:
            chosen = lower
        return chosen if len(chosen) == len(word) else word

    def _places_cased(self, text: str, copy: str) -> str:
        """The copy with the countries the story gives no form of written as names: "CHINA"
        of a headline, "SOUTH AFRICA" (two or three words at most)."""
        words = list(_WORD.finditer(text))
        for size in (3, 2, 1):
            for first in range(len(words) - size + 1):
                start, end = words[first].start(), words[first + size - 1].end()
                if not all(_is_capitals(w.group()) for w in words[first : first + size]):
                    continue
                titled = _as_name(text[start:end].lower())
                if len(titled) == end - start and self._is_country(titled):
                    copy = copy[:start] + titled + copy[end:]
        return copy


def _as_name(text: str) -> str:
    """Each word with a capital: "al-ain" as "Al-Ain", "south africa" as "South Africa"."""
    return re.sub(r"[^\W\d_]+", lambda m: m.group().capitalize(), text)


def _sentence_case(text: str) -> str:
    """The first letter of a text in capitals, as a sentence starts."""
    for index, ch in enumerate(text):
        if ch.isalpha():
            return text[:index] + ch.upper() + text[index + 1 :] if ch.islower() else text
    return text
