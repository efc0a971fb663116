"""Mentions and what types them: the spans the recogniser and the rules give, made canonical
(possessives, articles, honorifics), grouped by name, and the evidence of head words, rows
of results, longer names and repeats."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pipeline.casing import Casing, needs_casing
from pipeline.enrich.model import PARAGRAPH_SEPARATOR
from pipeline.gazetteer import KnownEntity
from pipeline.quotes import find_quotes
from pipeline.records import Article
from pipeline.results import Run, is_results_row

LEADING_ARTICLE = re.compile(r"^(?:the|The|THE)\s+")


HONORIFIC = re.compile(
    r"^(?:Mr|Mrs|Ms|Miss|Dr|Prof|Sir|Dame|Lord|Lady|Rev|Fr|Gen|Col|Capt|Sgt)\.?\s+(?=[A-Z])"
)


POST_NOMINAL = re.compile(r",?\s+(?:QC|KC|MP|MEP|MBE|OBE|CBE|PhD|MD|Esq)\.?$")


TRAILING_FUNCTION_WORD = re.compile(r"\s(?:of|and|the|for|in|at|on|to)$")


FLIGHT = re.compile(r"\bFlight\s+\d+")


# A portfolio after a name: "Interior Minister" names no one; "Interior Ministry" is one name.
PORTFOLIO = re.compile(r"\s+(?P<word>Minister|Ministry)\b")


POSSESSIVE = re.compile(r"(?:['’]s|['’])$")


ACRONYM = re.compile(r"[A-Z]{2,6}")


LOWERCASE_WORD = re.compile(r"(?<![\w-])[a-z][\w-]*")


ABBREVIATION_END = re.compile(
    r"(?:\b[A-Za-z]\.|\b(?:Inc|Ltd|Co|Corp|Bros|Jr|Sr|St|Mt|Cie|Ste|Pty)\.)$"
)


EDGE_PUNCTUATION = ' \t\n,.;:!?"“”‘’()[]-–—&/'


@dataclass
class Mention:
    text: str
    start: int
    end: int
    type: str
    known: KnownEntity | None = None
    in_headline: bool = False
    """A mention in the headline (its offsets are the headline's, not the body's)."""
    in_table: bool = False
    """A name of a row of results."""


@dataclass
class MentionGroup:
    name: str
    mentions: list[Mention] = field(default_factory=list)
    known: KnownEntity | None = None

    @property
    def types(self) -> Counter[str]:
        return Counter(m.type for m in self.mentions)

    @property
    def in_body(self) -> list[Mention]:
        return [m for m in self.mentions if not m.in_headline]


@dataclass(frozen=True)
class RowName:
    """A name of a results row: its text as written and as the model read it (cased), its
    body offsets, its column, and what the model saw there."""

    text: str
    cased: str
    start: int
    end: int
    column: tuple[int, int]
    """The row's number of names and this one's place among them: rows of one shape line
    up in columns, a row of scorers under the results does not."""
    model_saw_name: bool
    """The model found a name overlapping the run ("Arsenal 2 Derby 2" read as one)."""
    model_types: frozenset[str]
    """The types of the names the model found inside the run."""

    @classmethod
    def of(
        cls,
        run: Run,
        names: int,
        paragraph: str,
        cased: str,
        offset: int,
        spans: list[tuple[int, int, str]],
    ) -> RowName:
        """``spans``: the paragraph's typed spans (start, end, type)."""
        overlapping = [
            (start, end, kind) for start, end, kind in spans if start < run.end and run.start < end
        ]
        return cls(
            text=paragraph[run.start : run.end],
            cased=cased[run.start : run.end],
            start=offset + run.start,
            end=offset + run.end,
            column=(names, run.column),
            model_saw_name=bool(overlapping),
            model_types=frozenset(
                kind for start, end, kind in overlapping if run.start <= start and end <= run.end
            ),
        )


def model_texts(article: Article, is_country: Callable[[str], object]) -> dict[str, str]:
    """What the model reads for each paragraph, and for the headline where the body does
    not open with it: the text, with words set in capitals cased (``pipeline.casing``)."""
    texts = {paragraph: paragraph for paragraph in article.paragraphs}
    first = article.paragraphs[0] if article.paragraphs else ""
    headline = article.headline.rstrip("…")
    if headline and headline not in first:
        texts[article.headline] = article.headline
    shouting = [text for text in texts if needs_casing(text)]
    if shouting:  # the story's casing is read only where a text needs it
        casing = Casing([article.headline, *article.paragraphs], is_country)
        for text in shouting:
            texts[text] = casing.cased(text, is_results_row(text))
    return texts


def common_word(group: MentionGroup, lowercase: set[str]) -> bool:
    """A name of one word that the same story also writes in lower case ("Producer" opening
    a sentence, "producer" elsewhere): the model took a common word for a name."""
    return (
        group.known is None
        and all(" " not in m.text for m in group.mentions)
        and group.name.lower() in lowercase
    )


def initials(name: str) -> str:
    """ "NBA" of "National Basketball Association"; function words give no letter."""
    words = name.split()
    return "".join(w[0] for w in words if w[:1].isupper()) if len(words) > 1 else ""


def fold(word: str) -> str:
    """A word without case or accents: "Brudziński" and "Brudzinski" are one name."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def extend_to_longer_names(body: str, groups: list[MentionGroup]) -> list[MentionGroup]:
    """A mention inside an occurrence of a longer name the story gives is a mention of that
    name: "Sheffield" of "held by Sheffield Wednesday", once the table names the club."""
    longer = {g.name: g for g in groups if " " in g.name and g.in_body}
    if not longer:
        return groups
    for match in whole_words(longer).finditer(body):
        start, end = match.span()
        group = longer[match.group()]
        moved = False
        for other in groups:
            inside = [
                m
                for m in other.in_body
                if start <= m.start and m.end <= end and (m.end - m.start) < (end - start)
            ]
            if other is not group and inside:
                other.mentions = [m for m in other.mentions if m not in inside]
                moved = True
        if moved:
            kind = group.types.most_common(1)[0][0]
            group.mentions.append(Mention(match.group(), start, end, kind, group.known))
    return [g for g in groups if g.mentions]


def whole_words(names: Iterable[str]) -> re.Pattern[str]:
    """Any of these names as whole words, the longest first."""
    return re.compile(
        r"(?<![\w-])(?:"
        + "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
        + r")(?![\w-])"
    )


def find_repeats(body: str, groups: list[MentionGroup]) -> None:
    """Add the mentions the model missed: every other occurrence, as a whole word, of a name
    it found (and of a person's surname) becomes a mention of that entity."""
    taken = sorted((m.start, m.end) for g in groups for m in g.in_body)
    forms: dict[str, MentionGroup] = {}
    for group in groups:
        kind = group.types.most_common(1)[0][0]
        names = {m.text for m in group.mentions}
        if kind == "person" and len(group.name.split()) > 1:
            names.add(group.name.split()[-1])
        for name in names:
            forms.setdefault(name, group)
    if not forms:
        return
    for match in whole_words(forms).finditer(body):
        start, end = match.span()
        if any(s < end and start < e for s, e in taken):
            continue
        group = forms[match.group()]
        kind = group.types.most_common(1)[0][0]
        group.mentions.append(Mention(match.group(), start, end, kind, group.known))


def speaker_of(
    start: int | None, end: int | None, quote_start: int, pronoun: bool, people: list[MentionGroup]
) -> str | None:
    """The entity named where the attribution names someone; for "he said", the person
    mentioned last before the quote."""
    if start is not None and end is not None:
        for group in people:
            if any(m.start < end and start < m.end for m in group.in_body):
                return group.name
        return None
    if pronoun:
        before = [
            (m.start, g.name)
            for g in people
            if g.types["person"]
            for m in g.in_body
            if m.start < quote_start
        ]
        return max(before)[1] if before else None
    return None


def trim(paragraph: str, start: int, end: int, offset: int, kind: str) -> Mention | None:
    """A model span without a leading article, possessive or edge punctuation; None for
    spans that are not names (no capital letter left)."""
    text = paragraph[start:end]
    if article := LEADING_ARTICLE.match(text):
        start += article.end()
    text = paragraph[start:end]
    if possessive := POSSESSIVE.search(text):
        end -= len(possessive.group())
    while start < end and paragraph[start] in EDGE_PUNCTUATION:
        start += 1
    while end > start and paragraph[end - 1] in EDGE_PUNCTUATION:
        if paragraph[end - 1] == "." and ABBREVIATION_END.search(paragraph[start:end]):
            break  # "U.S.", "Datecs Ltd.", "Clay Tice Jr.": the stop is the name's
        end -= 1
    if kind != "person" and (portfolio := PORTFOLIO.match(paragraph, end)):
        if portfolio["word"] == "Minister":  # "Interior Minister Joachim Brudziński"
            return None
        end, kind = portfolio.end(), "organisation"  # "the Interior Ministry"
    text = paragraph[start:end]
    if kind in ("person", "organisation"):
        if honorific := HONORIFIC.match(text):
            start += honorific.end()
            kind = "person"
        if suffix := POST_NOMINAL.search(paragraph[start:end]):
            end -= len(suffix.group())
            kind = "person"  # "Kama Melly QC": the letters after a name make it a person's
        text = paragraph[start:end]
    if not opens_a_name(text) or TRAILING_FUNCTION_WORD.search(text):
        return None
    if kind == "person" and any(ch.isdigit() for ch in text):  # "Revs 153.5": no one's name
        return None
    if kind == "organisation" and FLIGHT.search(text):  # a flight is an event, not its airline
        kind = "event"
    return Mention(text, offset + start, offset + end, kind)


def opens_a_name(text: str) -> bool:
    """A capital, or a figure before a capital further on ("3M", "65th Air Division",
    "20th Century Fox"): a bare number or a lower-case word opens no name."""
    if not text:
        return False
    return text[0].isupper() or (text[0].isdigit() and any(ch.isupper() for ch in text))


def attributed_quotes(article: Article, groups: list[MentionGroup]) -> list[dict[str, Any]]:
    """Quotes with their speaker. A paragraph that opens with an unattributed quote right
    after an attributed one continues it, as news copy runs a long quotation on."""
    people = [g for g in groups if g.types["person"] or g.types["organisation"]]
    quotes: list[dict[str, Any]] = []
    offset = 0
    for paragraph in article.paragraphs:
        for quote in find_quotes(paragraph, offset):
            entry: dict[str, Any] = {"text": quote.text, "start": quote.start, "end": quote.end}
            speaker = speaker_of(
                quote.speaker_start, quote.speaker_end, quote.start, quote.pronoun, people
            )
            opens_paragraph = quote.start - offset <= 1
            if speaker is None and opens_paragraph and quotes and quotes[-1].get("speaker"):
                speaker = quotes[-1]["speaker"]
            if speaker:
                entry["speaker"] = speaker
            quotes.append(entry)
        offset += len(paragraph) + len(PARAGRAPH_SEPARATOR)
    return quotes
