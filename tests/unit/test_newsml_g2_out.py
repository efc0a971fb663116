"""Stories out as NewsML-G2: Newswire's own NewsML-G2 reader reads the newsItem back into
the same story (a round trip through the format)."""

from __future__ import annotations

from typing import Any

from lxml import etree

from pipeline.chain import Cleaned, Published, clean_step, run_chain
from pipeline.dedup import DedupConfig, DedupIndex
from pipeline.delivery.newsml_g2 import NAR, newsml_g2
from pipeline.records import Enrichment, Entity
from tests.conftest import raw_item

STORY = (
    "EMBARGOED UNTIL 0900 GMT MONDAY MARCH 4 2024\n\n"
    "Dockers strike shuts Hamburg harbour\n\n"
    "By Anna Berg\n\n"
    "HAMBURG, March 2 (Reuters) - Dockers walked out on Monday, shutting the port.\n\n"
    "The union said the strike would last two days."
)


def published(enrichment: Enrichment | None = None) -> dict[str, Any]:
    item = raw_item(STORY, receivedAt="2024-03-02T10:00:00Z")

    def enrich(articles: list[Any]) -> list[Enrichment]:
        return [enrichment or Enrichment(status="disabled") for _ in articles]

    outcome = run_chain(item.to_json(), DedupIndex(), 1 << 20, True, DedupConfig(), enrich)
    assert isinstance(outcome, Published)
    return outcome.story


def read_back(document: bytes) -> Cleaned:
    cleaned = clean_step(raw_item(document.decode(), format="newsml").to_json(), 1 << 20)
    assert isinstance(cleaned, Cleaned), cleaned
    return cleaned


def test_a_story_reads_back_the_same() -> None:
    people = Entity("Anna Berg", "person", [], 0.5)
    place = Entity("Hamburg", "place", [], 0.9, links={"geonamesId": 2911298})
    story = published(Enrichment(status="enriched", language="en", entities=[people, place]))
    story["edNote"] = "Corrects day in 1st paragraph"
    story["copyrightNotice"] = "(c) Reuters 2024"
    story["urgency"] = 3
    article = read_back(newsml_g2(story)).article
    assert article.guid == story["uri"]
    assert article.version == story["version"]
    assert article.headline == story["headlines"][0]["value"]
    assert article.body == story["bodies"][0]["value"]
    assert article.byline == story["by"]
    assert (article.language, article.urgency, article.located) == ("en", 3, "Hamburg")
    assert article.control.ed_note == "Corrects day in 1st paragraph"
    assert article.control.copyright_notice == "(c) Reuters 2024"
    assert article.control.embargoed
    assert article.control.embargoed_until == story["embargoedUntil"]
    assert [p["name"] for p in article.people] == ["Anna Berg"]
    assert [p["name"] for p in article.places] == ["Hamburg"]


def test_a_kill_stays_a_kill() -> None:
    story = published()
    story["pubStatus"] = "canceled"
    assert read_back(newsml_g2(story)).article.kind == "kill"


def test_the_item_is_newsml_g2() -> None:
    root = etree.fromstring(newsml_g2(published()))
    assert root.tag == f"{{{NAR}}}newsItem"
    assert root.get("standard") == "NewsML-G2"
    assert root.find(f"{{{NAR}}}itemMeta/{{{NAR}}}itemClass").get("qcode") == "ninat:text"
