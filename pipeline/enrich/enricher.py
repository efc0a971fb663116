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

from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from pipeline.casing import dateline_place, is_shouting
from pipeline.enrich.entity_type import EntityTypes
from pipeline.enrich.mentions import (
    ACRONYM,
    LOWERCASE_WORD,
    Mention,
    MentionGroup,
    RowName,
    attributed_quotes,
    common_word,
    extend_to_longer_names,
    find_repeats,
    fold,
    initials,
    model_texts,
    trim,
)
from pipeline.enrich.model import (
    PARAGRAPH_SEPARATOR,
    ParagraphCache,
    Recogniser,
    Recognisers,
    detect_language,
)
from pipeline.gazetteer import (
    Gazetteer,
    designated_organisations,
)
from pipeline.records import Article, Enrichment, Entity
from pipeline.results import is_results_row, row_names


class Enricher:
    """Enrichment of batches of articles; one per process (the model is loaded once)."""

    def __init__(
        self, recognise: Recogniser, gazetteer: Gazetteer, model: str, cache_size: int = 50_000
    ) -> None:
        self.gazetteer, self.model = gazetteer, model
        self.recognisers = Recognisers(recognise, model)
        self.types = EntityTypes(gazetteer)
        self.cache = ParagraphCache(cache_size)

    def enrich(self, article: Article) -> Enrichment:
        return self.enrich_many([article])[0]

    def enrich_many(self, articles: list[Article]) -> list[Enrichment]:
        """One model pass per language over every paragraph of the batch not cached yet."""
        languages = [detect_language(article) for article in articles]
        texts = [
            model_texts(article, self.gazetteer.country_code) if language else {}
            for article, language in zip(articles, languages, strict=True)
        ]
        todo: dict[Recogniser, dict[str, None]] = {}
        for language, article_texts in zip(languages, texts, strict=True):
            if model := self.recognisers.of(language):
                pending = todo.setdefault(model[0], {})
                pending.update(
                    (text, None) for text in article_texts.values() if self.cache.get(text) is None
                )
        for recognise, pending in todo.items():
            for text, spans in zip(pending, recognise(list(pending)), strict=True):
                self.cache.put(text, spans)
        return [
            self._enrich(article, article_texts, language)
            if language
            else Enrichment(language=language, status="skipped")
            for article, language, article_texts in zip(articles, languages, texts, strict=True)
        ]

    def _spans(self, text: str, recognise: Recogniser | None) -> list[tuple[int, int, str]]:
        """The model's spans of a text, typed: (start, end, type); without a model for the
        language, the places the gazetteer knows in it."""
        if recognise is None:
            return self.gazetteer.place_spans(text)
        spans = self.cache.get(text)
        if spans is None:  # evicted meanwhile by a huge batch
            spans = recognise([text])[0]
            self.cache.put(text, spans)
        return [(s, e, kind) for s, e, label in spans if (kind := self.types.of_label(label))]

    def _enrich(self, article: Article, texts: dict[str, str], language: str) -> Enrichment:
        model = self.recognisers.of(language)
        recognise = model[0] if model else None
        mentions = self._headline_mentions(article.headline, texts, recognise)
        rows: list[list[RowName]] = [[]]
        offset = 0
        for paragraph in article.paragraphs:
            spans = self._spans(texts[paragraph], recognise)
            if is_results_row(paragraph):
                runs = row_names(paragraph)
                rows[-1] += [
                    RowName.of(run, len(runs), paragraph, texts[paragraph], offset, spans)
                    for run in runs
                ]
            else:
                if place := dateline_place(paragraph):  # the agency's dateline names a place
                    start, end = place
                    spans = [(start, end, "place")] + [
                        span for span in spans if span[1] <= start or end <= span[0]
                    ]
                mentions += self._mentions(paragraph, spans, offset)
                if rows[-1]:
                    rows.append([])
            offset += len(paragraph) + len(PARAGRAPH_SEPARATOR)
        for table in rows:
            mentions += self._table_mentions(table)
        lowercase = set(LOWERCASE_WORD.findall(article.body))
        groups = [g for g in self._group(mentions) if not common_word(g, lowercase)]
        groups = extend_to_longer_names(article.body, groups)
        find_repeats(article.body, groups)
        entities = self._entities(groups, article)
        return Enrichment(
            entities=entities,
            quotes=attributed_quotes(article, groups),
            language=language,
            status="enriched" if model else "known-names",
            model=model[1] if model else None,
        )

    def _headline_mentions(
        self, headline: str, texts: dict[str, str], recognise: Recogniser | None
    ) -> list[Mention]:
        """The names of a headline the body does not open with (offsets: the headline's);
        of a headline in capitals only the places, the cased copy being a guess."""
        if headline not in texts:
            return []
        cased = texts[headline]
        found = self._mentions(cased, self._spans(cased, recognise), 0)
        if is_shouting(headline):
            found = [m for m in found if self.gazetteer.is_place(m.text)]
        return [replace(m, in_headline=True) for m in found]

    def _table_mentions(self, table: list[RowName]) -> list[Mention]:
        """The names of a table's rows, typed by their own and their column's evidence
        (``EntityTypes.of_row``, ``of_column``). A run is a name where the model saw one in
        it or it holds a place, or in a table where half the runs are (the "Shr", "Net" of
        a results table are none)."""
        seen = [
            (row, *self.types.of_row(row), row.model_saw_name or self.types.holds_place(row.cased))
            for row in table
        ]
        named_table = 2 * sum(named for *_, named in seen) >= len(seen)
        columns: dict[tuple[int, int], Counter[str]] = {}
        for row, kind, _, _ in seen:
            if kind in ("person", "organisation"):
                columns.setdefault(row.column, Counter())[kind] += 1
        return [
            Mention(
                row.text,
                row.start,
                row.end,
                self.types.of_column(kind, sure, columns.get(row.column)),
                in_table=True,
            )
            for row, kind, sure, named in seen
            if named or named_table
        ]

    def _mentions(
        self, paragraph: str, spans: Iterable[tuple[int, int, str]], offset: int
    ) -> list[Mention]:
        known = self.gazetteer.known_mentions(paragraph)
        taken = [(start, end) for start, end, _ in known]
        found = [
            Mention(paragraph[s:e], offset + s, offset + e, entity.type, entity)
            for s, e, entity in known
        ]
        for start, end in designated_organisations(paragraph):
            covering = [
                (s, e) for s, e, kind in spans if s <= start and end <= e and kind == "organisation"
            ]
            if covering:
                start, end = covering[0]  # the model's longer name: "Bank of America Corp"
            if any(start < e and s < end for s, e in taken):
                continue
            taken.append((start, end))
            if (mention := trim(paragraph, start, end, offset, "organisation")) is not None:
                found.append(replace(mention, type="organisation"))
        for start, end, kind in spans:
            if any(start < e and s < end for s, e in taken):
                continue
            mention = trim(paragraph, start, end, offset, kind)
            if mention is not None:
                found += self.types.split(mention)
        return found

    def _group(self, mentions: list[Mention]) -> list[MentionGroup]:
        """Mentions of one entity together, short names folded into the long ones, and the
        forms of one nationality ("Russian", "Russians") into one."""
        groups: dict[str, MentionGroup] = {}
        for mention in sorted(mentions, key=lambda m: -len(m.text.split())):
            name = mention.known.name if mention.known else mention.text
            key = fold(name)  # "NEW YORK" of a table in capitals is "New York"
            if mention.type == "nationality" and (code := self.gazetteer.nationality(name)):
                key = f"nationality:{code}"
            group = groups.get(key) or self._longer_name(groups, mention)
            if group is None:
                group = groups[key] = MentionGroup(name, known=mention.known)
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
    def _longer_name(groups: dict[str, MentionGroup], mention: Mention) -> MentionGroup | None:
        """The one longer name this mention shortens: a person's last name ("Moore", also
        where the model took it for something else), or the first words of an organisation
        ("Wagner" of "Wagner Group"), or its initials ("NBA" of "National Basketball
        Association"). Places are left alone: "Prague" is not the "Prague Spring", nor
        "New York" the "New York Times"."""
        words = [fold(w) for w in mention.text.split()]
        if mention.type == "nationality":
            return None
        matches = []
        if len(words) == 1:
            matches = [
                g
                for g in groups.values()
                if g.types["person"]
                and len(g.name.split()) > 1
                and words[0] == fold(g.name.split()[-1])
            ]
        if not matches and mention.type == "organisation":
            matches = [
                g
                for g in groups.values()
                if g.types["organisation"]
                and len(g.name.split()) > len(words)
                and [fold(w) for w in g.name.split()[: len(words)]] == words
            ]
        if not matches and ACRONYM.fullmatch(mention.text):
            matches = [g for g in groups.values() if initials(g.name) == mention.text]
        return matches[0] if len(matches) == 1 else None

    def _merge_countries(self, groups: list[MentionGroup]) -> list[MentionGroup]:
        """ "US" and "United States": one place, named by its longest form."""
        by_code: dict[str, MentionGroup] = {}
        merged = []
        for group in groups:
            code = (
                self.gazetteer.country_code(group.name)
                if self.types.of_group(group) == "place"
                else None
            )
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

    def _entities(self, groups: list[MentionGroup], article: Article) -> list[Entity]:
        typed = [(group, self.types.of_group(group, article.body)) for group in groups]
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

    def _links(self, group: MentionGroup, kind: str, countries: set[str]) -> dict[str, Any] | None:
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
        if "geonamesId" in links and "uri" not in links:
            links["uri"] = f"https://sws.geonames.org/{links['geonamesId']}/"
        return links or None
