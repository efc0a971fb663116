"""Direct quotations and who said them: "…," X said / said X / X said: "…" / according to X."""

from __future__ import annotations

import re
from dataclasses import dataclass

# An opening mark starts a word and a closing one ends one, so that the gap between two
# quoted words ("pulverizing" the cities of a "kindred country") is not taken for a quote.
_QUOTE = re.compile(
    r"(?:^|(?<=[\s(\[—–-]))[“\"](?=\S)(?P<text>[^“”\"]{12,}?)(?<=\S)[”\"](?=[\s,.;:!?)\]—–-]|$)"
)
_MIN_QUOTE_WORDS = 3
_VERB = r"(?:said|says|told|added|explained|stated|wrote|asked|warned|insisted|declared)"


def _name(group: str) -> str:
    return rf"(?P<{group}>[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){{0,3}})"


_AFTER = re.compile(
    rf"^[,.]?\s*(?:{_VERB}\s+(?:[a-z][\w-]*\s+){{0,3}}{_name('n1')}|{_name('n2')}\s+{_VERB}"
    rf"|(?P<pronoun>he|she)\s+{_VERB}|according to\s+{_name('n3')})\b"
)
_BEFORE = re.compile(rf"{_name('name')}\s+{_VERB}(?:\s+[^.:“\"]{{0,60}})?[:,]\s*$")


@dataclass(frozen=True)
class Quote:
    text: str
    start: int
    end: int
    speaker_start: int | None = None
    speaker_end: int | None = None
    pronoun: bool = False


def find_quotes(paragraph: str, offset: int) -> list[Quote]:
    """The quotes of a paragraph, with where their attributed speaker is named, if anywhere.
    Offsets are into the body (``offset`` is where the paragraph starts)."""
    quotes = []
    for match in _QUOTE.finditer(paragraph):
        if len(match.group("text").split()) < _MIN_QUOTE_WORDS:
            continue
        after = _AFTER.match(paragraph[match.end() :])
        before = _BEFORE.search(paragraph[: match.start()])
        speaker: tuple[int, int] | None = None
        pronoun = False
        named = next((g for g in ("n1", "n2", "n3") if after and after.group(g)), None)
        if after is not None and named is not None:
            base = match.end()
            speaker = (base + after.start(named), base + after.end(named))
        elif after is not None and after.group("pronoun"):
            pronoun = True
        elif before is not None:
            speaker = (before.start("name"), before.end("name"))
        raw = match.group("text")
        start = match.start("text") + len(raw) - len(raw.lstrip(" ,"))
        end = match.end("text") - (len(raw) - len(raw.rstrip(" ,")))
        quotes.append(
            Quote(
                text=paragraph[start:end],
                start=offset + start,
                end=offset + end,
                speaker_start=offset + speaker[0] if speaker else None,
                speaker_end=offset + speaker[1] if speaker else None,
                pronoun=pronoun,
            )
        )
    return quotes
