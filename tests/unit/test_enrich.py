"""The enrich stage with the real small English spaCy model and the shipped gazetteers."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import orjson
import pytest

from pipeline.clean import clean
from pipeline.enrich import Enricher, load_enricher
from pipeline.records import Article, Enrichment
from tests.conftest import raw_item


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return load_enricher()


def names(enrichment: Enrichment, kind: str) -> set[str]:
    return {entity.name for entity in enrichment.entities if entity.type == kind}


def story(*paragraphs: str, headline: str = "A headline", language: str | None = None) -> Article:
    return Article(headline=headline, paragraphs=list(paragraphs), language=language)


def test_the_seed_story(enricher: Enricher, seed_text: str) -> None:
    article = clean(raw_item(seed_text))
    result = enricher.enrich(article)
    assert names(result, "person") >= {
        "Richard Moore",
        "Vladimir Putin",
        "Yevgeny Prigozhin",
        "Alexander Lukashenko",
    }
    assert names(result, "organisation") >= {"MI6", "Wagner Group", "State Border Service"}
    assert names(result, "place") >= {
        "Britain",
        "Russia",
        "Ukraine",
        "Prague",
        "Czech Republic",
        "Belarus",
    }
    wagner = next(e for e in result.entities if e.name == "Wagner Group")
    assert {m["text"] for m in wagner.mentions} == {"Wagner Group", "Wagner"}
    links = {e.name: e.links or {} for e in result.entities}
    assert links["Belarus"]["iso3166"] == "BY"
    assert links["Britain"]["iso3166"] == "GB"
    assert links["Czech Republic"]["iso3166"] == "CZ"
    assert links["Prague"]["geonamesId"] == 3067696
    body = article.body
    for entity in result.entities:
        for mention in entity.mentions:
            assert body[mention["start"] : mention["end"]] == mention["text"]
    (door,) = [q for q in result.quotes if "our door is always open" in q["text"]]
    assert door["speaker"] == "Richard Moore"
    assert body[door["start"] : door["end"]] == door["text"]
    assert result.status == "enriched"


def test_mentions_merge_into_canonical_entities(enricher: Enricher) -> None:
    result = enricher.enrich(
        story(
            "Vladimir Putin's spokesman said on Monday that the Wagner Group had left.",
            "Putin did not comment. Wagner fighters were seen near the border, Russians said.",
        )
    )
    putin = next(e for e in result.entities if e.name == "Vladimir Putin")
    assert [m["text"] for m in putin.mentions] == ["Vladimir Putin", "Putin"]
    russians = next(e for e in result.entities if e.type == "nationality")
    assert russians.links == {"iso3166": "RU"}


def test_a_country_is_a_place_whatever_the_model_says(enricher: Enricher) -> None:
    result = enricher.enrich(
        story(
            "Brokered in part by Belarus President Alexander Lukashenko, the deal held.",
            "Forces arrived in Belarus on Saturday.",
        )
    )
    assert "Belarus" in names(result, "place")
    assert "Belarus" not in names(result, "organisation")


def test_ambiguous_places_are_linked_only_with_context(enricher: Enricher) -> None:
    alone = enricher.enrich(story("Thousands marched in Paris on Saturday, police said."))
    paris = next(e for e in alone.entities if e.name == "Paris")
    assert paris.links is None
    french = enricher.enrich(
        story(
            "Thousands marched in Paris on Saturday.", "Protests spread across France, police said."
        )
    )
    paris = next(e for e in french.entities if e.name == "Paris")
    assert paris.links is not None and paris.links["iso3166"] == "FR"


def test_the_newsroom_dictionary_teaches_new_names(tmp_path: Path) -> None:
    dictionary = tmp_path / "desk.yaml"
    dictionary.write_text(
        "entities:\n"
        "  - name: Zorblax Ventures\n    type: organisation\n    aliases: [ZVX]\n"
        "    uri: https://example.org/zvx\n"
    )
    enricher = load_enricher(dictionary=dictionary)
    result = enricher.enrich(story("Shares in ZVX rose after the deal, traders said."))
    zvx = next(e for e in result.entities if e.name == "Zorblax Ventures")
    assert zvx.type == "organisation"
    assert zvx.mentions == [{"text": "ZVX", "start": 10, "end": 13}]
    assert zvx.links == {"uri": "https://example.org/zvx"}


def test_an_international_body_is_one_entity_with_its_id_under_any_of_its_names(
    enricher: Enricher,
) -> None:
    result = enricher.enrich(
        story(
            "The United Nations Security Council met on Friday.",
            "The U.N. Security Council said aid must flow, and the UN agreed.",
        )
    )
    council = [e for e in result.entities if "Security Council" in e.name]
    assert [(e.name, e.type) for e in council] == [
        ("United Nations Security Council", "organisation")
    ]
    assert council[0].links == {"uri": "http://www.wikidata.org/entity/Q37470"}
    assert len(council[0].mentions) == 2
    un = next(e for e in result.entities if e.name == "United Nations")
    assert un.links == {"uri": "http://www.wikidata.org/entity/Q1065"}
    assert {m["text"] for m in un.mentions} == {"UN"}  # the alias, under the canonical name


def test_each_id_in_the_newsroom_dictionary_names_one_entity_in_wikidata_s_form() -> None:
    data = orjson.loads(
        (resources.files("pipeline") / "data" / "newsroom-entities.json").read_bytes()
    )
    uris = [entry["uri"] for entry in data["entities"] if "uri" in entry]
    assert len(uris) >= 50
    assert all(re.fullmatch(r"http://www\.wikidata\.org/entity/Q[1-9]\d*", uri) for uri in uris)
    assert len(set(uris)) == len(uris)


def test_quotes_are_attributed_by_the_usual_patterns(enricher: Enricher) -> None:
    result = enricher.enrich(
        story(
            'Finance Minister Sarah Jones said: "We will not raise taxes this year."',
            '"The budget is balanced and growth is returning," she said.',
            '"It is a fantasy budget," said opposition leader Mark Brown.',
        )
    )
    speakers = [quote.get("speaker") for quote in result.quotes]
    assert speakers == ["Sarah Jones", "Sarah Jones", "Mark Brown"]


def test_unchanged_paragraphs_come_from_the_cache(enricher: Enricher) -> None:
    calls: list[list[str]] = []
    original, model = enricher.recognisers.of("en") or pytest.fail("no English model")

    def counting(paragraphs: list[str]) -> list[list[tuple[int, int, str]]]:
        calls.append(paragraphs)
        return original(paragraphs)

    enricher.recognisers.loaded["en"] = (counting, model)
    try:
        first = [
            f"Paragraph {n} says that Maria Lopez visited Madrid on day {n}." for n in range(10)
        ]
        enricher.enrich(story(*first))
        update = [*first[:9], "A new last paragraph quotes Carlos Ruiz in Seville."]
        enricher.enrich(story(*update))
    finally:
        enricher.recognisers.loaded["en"] = (original, model)
    assert [len(call) for call in calls] == [10, 1]


@pytest.mark.parametrize("written", ["US", "U.S", "USA"])
def test_abbreviated_countries_are_linked(enricher: Enricher, written: str) -> None:
    result = enricher.enrich(story(f"Officials in the {written} said so on Monday."))
    country = next(e for e in result.entities if e.type == "place")
    assert country.links is not None and country.links["iso3166"] == "US"


def test_the_pronoun_us_is_no_country(enricher: Enricher) -> None:
    result = enricher.enrich(story("Let us go, he told us on Monday."))
    assert not [e for e in result.entities if e.type == "place"]


def test_a_name_s_head_word_types_it(enricher: Enricher) -> None:
    """The model takes the club and the laboratory for places and the lake for a person."""
    result = enricher.enrich(
        story(
            "The team from Kowloon United beat Eastern in the final.",
            "Fishermen on Laurel Creek and Tomlin Lake reported the spill.",
            "He later worked at Cold Spring Harbor Laboratory.",
        )
    )
    assert {"Kowloon United", "Cold Spring Harbor Laboratory"} <= names(result, "organisation")
    assert "Tomlin Lake" in names(result, "place")


def test_a_place_and_the_place_holding_it_are_two_places(enricher: Enricher) -> None:
    """The model reads "Yorkshire, England" as one span."""
    result = enricher.enrich(story("The mill stood in Yorkshire, England, until 1900."))
    assert names(result, "place") == {"Yorkshire", "England"}


def test_a_name_may_open_with_a_figure(enricher: Enricher) -> None:
    result = enricher.enrich(story("The 65th Air Division and IV Corps moved north in 1944."))
    assert names(result, "organisation") == {"65th Air Division", "IV Corps"}


def test_a_feature_s_word_types_it_a_place(enricher: Enricher) -> None:
    """GeoNames' feature words: the model reads the first two as people, the others as
    organisations."""
    result = enricher.enrich(
        story(
            "Crowds gathered in Cal Anderson Park and on Hancock Pond on Sunday.",
            "Protesters marched from Lincoln Park to Clarence Dock, police said.",
        )
    )
    assert {"Cal Anderson Park", "Hancock Pond", "Lincoln Park", "Clarence Dock"} <= names(
        result, "place"
    )


def test_a_common_word_opening_a_sentence_is_no_name(enricher: Enricher) -> None:
    text = "Producer said the album sold well. The producer, Jane Doe, agreed."
    result = enricher.enrich(story(text))
    everything = {entity.name for entity in result.entities}
    assert "Producer" not in everything
    assert "Jane Doe" in names(result, "person")


RESULTS = (
    "Results of German first division soccer matches on Saturday :",
    "Bayern Munich 2 Hamburg 1",
    "Borussia Dortmund 3 Freiburg 1",
    "Schalke 0 Werder Bremen 0",
    "Scorers : Bayern - Juergen Klinsmann 34 , Mehmet Scholl 78 ; Hamburg - Karsten Baeron 60",
)


def test_the_teams_and_players_of_a_results_table(enricher: Enricher) -> None:
    """The model reads these rows as one name or none; the rows give teams and scorers."""
    result = enricher.enrich(story(*RESULTS, language="en"))
    teams = {"Bayern Munich", "Hamburg", "Borussia Dortmund", "Freiburg", "Schalke"}
    assert names(result, "organisation") >= teams | {"Werder Bremen"}
    assert names(result, "person") >= {"Juergen Klinsmann", "Mehmet Scholl", "Karsten Baeron"}
    assert "Scorers" not in {entity.name for entity in result.entities}


def test_athletes_of_a_table_are_people_and_their_countries_places(enricher: Enricher) -> None:
    rows = (
        "1 - Pete Sampras ( U.S. ) beat Marc Rosset ( Switzerland ) 6-3 6-4",
        "Goran Ivanisevic ( Croatia ) beat 5 - Thomas Enqvist ( Sweden ) 7-6 6-2",
        "Jonas Bjorkman ( Sweden ) beat Cedric Pioline ( France ) 6-4 3-6 7-5",
    )
    result = enricher.enrich(story(*rows))
    assert names(result, "person") >= {"Pete Sampras", "Marc Rosset", "Cedric Pioline"}
    assert names(result, "place") >= {"Switzerland", "Croatia", "Sweden", "France"}


def test_the_figures_of_a_report_are_no_table_of_names(enricher: Enricher) -> None:
    rows = ("Shr 1.20 vs 1.05", "Net 1,234,000 vs 987,000", "Qtr 12.3 vs 10.1")
    result = enricher.enrich(story("Acme Holdings Plc reported its results.", *rows))
    assert {entity.name for entity in result.entities} == {"Acme Holdings Plc"}


def test_a_headline_in_capitals_is_read_cased(enricher: Enricher) -> None:
    """ "JAPAN" and "SYRIA" take the story's own casing; a country named only in the
    headline is listed, with no body mentions."""
    result = enricher.enrich(
        story(
            "Japan began the defence of their title with a lucky win against Syria .",
            headline="SOCCER - JAPAN GET LUCKY WIN , CHINA IN SURPRISE DEFEAT .",
        )
    )
    places = {e.name: e for e in result.entities if e.type == "place"}
    assert set(places) >= {"Japan", "Syria", "China"}
    assert places["China"].mentions == []
    assert [m["text"] for m in places["Japan"].mentions] == ["Japan"]
    # Of a headline in capitals only places are taken: "SOCCER" and "SURPRISE" are none.
    assert all(e.type == "place" for e in result.entities if not e.mentions)


def test_a_dateline_in_capitals_is_a_place(enricher: Enricher) -> None:
    dateline = "AL-AIN , United Arab Emirates 1996-12-06"
    result = enricher.enrich(story(dateline, "Japan won .", language="en"))
    assert names(result, "place") >= {"AL-AIN", "United Arab Emirates"}


def test_company_names_end_with_their_designator(enricher: Enricher) -> None:
    text = (
        "Shares of Acme Holdings Plc rose after Ford Motor Co, General Motors Corp and "
        "<Texaco Inc> agreed terms with Canada's Seagram Co Ltd and Datecs Ltd. on Monday."
    )
    organisations = names(enricher.enrich(story(text)), "organisation")
    assert organisations >= {
        "Acme Holdings Plc",
        "Ford Motor Co",
        "General Motors Corp",
        "Texaco Inc",
        "Datecs Ltd.",
        "Seagram Co Ltd",
    }


def test_a_shorter_mention_inside_a_longer_name_joins_it(enricher: Enricher) -> None:
    result = enricher.enrich(
        story(
            "Leaders Newcastle were held at home by Sheffield Wednesday on Saturday .",
            "Newcastle 0 Sheffield Wednesday 0",
            "Arsenal 2 Derby 2",
        )
    )
    assert "Sheffield Wednesday" in names(result, "organisation")
    assert "Sheffield" not in {entity.name for entity in result.entities}


def test_rows_of_names_do_not_decide_the_language(enricher: Enricher) -> None:
    assert enricher.enrich(story(*RESULTS)).status == "enriched"


def test_initials_join_the_name_they_abbreviate(enricher: Enricher) -> None:
    result = enricher.enrich(
        story(
            "The National Basketball Association fined the club on Monday.",
            "The NBA said the fine was the largest it had imposed.",
        )
    )
    (league,) = [e for e in result.entities if e.name == "National Basketball Association"]
    assert {m["text"] for m in league.mentions} == {"National Basketball Association", "NBA"}
    assert "NBA" not in {e.name for e in result.entities}


def test_cues_the_model_lacks_type_ships_islands_regions_and_portfolios(enricher: Enricher) -> None:
    """The Costa Concordia and Koszalin samples as a desk reads them: the ship is no place,
    the island and the region no people, a portfolio no name, a mayor's town not his name."""
    result = enricher.enrich(
        story(
            "The trial of the captain of the shipwrecked Costa Concordia cruise liner has begun"
            " in a theater converted into a courtroom in Tuscany. The ship struck a reef near"
            " the island of Giglio.",
            "Interior Minister Joachim Brudziński ordered inspections. Mayor of Koszalin"
            " Piotr Jedlinski declared a day of mourning, and Chelyabinsk's governor spoke.",
            "The Emergencies Ministry said six of the dead were children.",
        )
    )
    types = {entity.name: entity.type for entity in result.entities}
    assert types["Costa Concordia"] == "other"
    assert types["Tuscany"] == types["Giglio"] == types["Koszalin"] == "place"
    assert types["Chelyabinsk"] == "place"
    assert types["Piotr Jedlinski"] == types["Joachim Brudziński"] == "person"
    assert "Interior" not in types and "Koszalin Piotr Jedlinski" not in types
    assert types["Emergencies Ministry"] == "organisation"


def test_a_town_known_by_its_whole_name_is_no_person(enricher: Enricher) -> None:
    """The small model reads "Saffron Walden" (a town of 15,000) as a person here; no given
    name opens it and the gazetteer knows it whole."""
    result = enricher.enrich(story("Saffron Walden council met on Tuesday."))
    assert {(e.name, e.type) for e in result.entities} == {("Saffron Walden", "place")}


def test_french_copy_is_read_by_the_french_model(enricher: Enricher) -> None:
    result = enricher.enrich(
        story(
            "Le président Emmanuel Macron a rencontré à Berlin le chancelier Olaf Scholz."
            " Des représentants de l'ONU étaient présents.",
            language="fr",
        )
    )
    assert (result.status, result.language, result.model) == ("enriched", "fr", "fr_core_news_sm")
    assert names(result, "person") >= {"Emmanuel Macron", "Olaf Scholz"}
    assert "Berlin" in names(result, "place")


def test_copy_without_a_model_gets_the_names_the_gazetteer_and_dictionary_know(
    enricher: Enricher,
) -> None:
    result = enricher.enrich(
        story(
            "Bundeskanzler Olaf Scholz traf in Berlin Vertreter der Nato. Essen war gut,"
            " sagte er in Nordrhein-Westfalen.",
            language="de",
        )
    )
    assert (result.status, result.language, result.model) == ("known-names", "de", None)
    assert names(result, "place") == {"Berlin"}  # "Essen" opens a sentence: not the city
    assert names(result, "organisation") == {"NATO"}
    declared = enricher.enrich(story("Short text.", language="sv"))
    assert (declared.status, declared.language, declared.entities) == ("known-names", "sv", [])
