"""ninjs input: the IPTC examples that carry story text become articles with their metadata."""

from __future__ import annotations

import orjson
import pytest

from pipeline.chain import Published, run_chain
from pipeline.clean import clean
from pipeline.dedup import DedupConfig, DedupIndex
from pipeline.ingest import raw_items_from_document
from pipeline.records import Rejected
from pipeline.validation import validation_error
from tests.conftest import raw_item, shared_path

# Every example of the IPTC set that is a text item: its headline and how its body begins.
TEXT_EXAMPLES = {
    "ninjsExSimpleText_3.json": (
        "Captain of wrecked cruise ship on trial in Italy",
        "The trial of the captain",
    ),
    "dpa_text.json": (
        "Faktencheck Derby-Elfmeter: Hat Schiedsrichter Zwayer recht?",
        "Für Lucien Favre war es",
    ),
    "tt_text_image_3.json": (
        "Militärövning i jätteformat hålls 2023",
        "Pandemin satte stopp för den stora",
    ),
    "extension-example_2.1.json": (
        "Militärövning i jätteformat hålls 2023",
        "Pandemin satte stopp för den stora",
    ),
    "ntb_text.json": ("Google har kjøpt giganttomt i Skien", "IT-giganten Google har kjøpt"),
    "businesswire-newsml-20130731006140.json": (
        "Lunch Taking a Toll? Let Applebee’s® Industrial Strength Lunch Decoy Stand In",
        "With more Applebee’s® Lunch Combos than ever",
    ),
    "businesswire-newsml-20130605006126.json": (
        "Cambrios被Gartner評選為「最酷供應商」",
        "(美國商業資訊)--為透明及軟性導體市場",
    ),
    "20231008-anti-doping-measures-at-the-tour-down-under-will-be-the-toughest-ever"
    "-addb-ninjs-nitf.json": (
        "Anti-doping measures at the 'Tour Down Under' will be the toughest ever",
        "The initiatives are being implemented",
    ),
}


@pytest.mark.parametrize(("name", "expected"), sorted(TEXT_EXAMPLES.items()))
def test_ninjs_text_examples(name: str, expected: tuple[str, str]) -> None:
    headline, opening = expected
    path = shared_path(f"reference/ninjs/examples/{name}")
    document = orjson.loads(path.read_bytes())
    article = clean(raw_item(path.read_text()))
    assert article.headline == headline
    assert article.paragraphs[0].startswith(opening)
    assert article.guid == document["uri"]
    assert all(paragraph.strip() for paragraph in article.paragraphs)


@pytest.mark.parametrize(
    "name",
    ["ap_image.json", "ap_video.json", "simpleEvent.json", "20231004-UEFA-ChampionLeague.json"],
)
def test_items_that_are_not_text_are_rejected(name: str) -> None:
    path = shared_path(f"reference/ninjs/examples/{name}")
    with pytest.raises(Rejected, match="has no story text"):
        clean(raw_item(path.read_text()))


def test_simple_text_keeps_paragraphs_and_dateline() -> None:
    path = shared_path("reference/ninjs/examples/ninjsExSimpleText_3.json")
    article = clean(raw_item(path.read_text()))
    assert len(article.paragraphs) == 4
    assert article.paragraphs[0].startswith("The trial of the captain")
    assert article.dateline is not None and article.dateline.agency == "AP"
    assert article.byline == "Paulo Santalucia and Frances d'Emilio"


def test_non_text_ninjs_items_are_rejected_with_the_reason() -> None:
    with pytest.raises(Rejected, match="type 'picture' has no story text"):
        clean(raw_item('{"uri": "urn:x", "type": "picture"}'))


@pytest.mark.parametrize("name", sorted(TEXT_EXAMPLES))
def test_text_examples_round_trip_to_valid_ninjs_3(name: str) -> None:
    path = shared_path(f"reference/ninjs/examples/{name}")
    document = orjson.loads(path.read_bytes())
    source = {str(k).lower(): v for k, v in document.items()}
    outcome = run_chain(
        raw_item(path.read_text()).to_json(), DedupIndex(), 1 << 22, True, DedupConfig()
    )
    assert isinstance(outcome, Published)
    story = outcome.story
    assert validation_error("story", story) is None
    assert story["headlines"][0]["value"] == TEXT_EXAMPLES[name][0]
    assert story["bodies"][0]["value"].startswith(TEXT_EXAMPLES[name][1])
    assert {"role": "guid", "value": document["uri"]} in story["altIds"]
    for listed in ("people", "places"):
        kept = {entry["name"] for entry in story.get(listed, [])}
        assert {e["name"] for e in source.get(listed, []) if e.get("name")} <= kept


def test_fields_of_the_wrong_type_count_as_absent() -> None:
    document = {
        "uri": "urn:example:1",
        "headline": "Dam holds after the storm",
        "headlines": None,
        "bodies": 5,
        "descriptions": [{"value": None}],
        "body_text": "Engineers said the dam held.",
    }
    article = clean(raw_item(orjson.dumps(document).decode()))
    assert (article.headline, article.paragraphs) == (
        "Dam holds after the storm",
        ["Engineers said the dam held."],
    )


def test_ap_media_api_items_are_read_from_their_envelope() -> None:
    item = {"uri": "urn:example:2", "type": "text", "headline": "Quake hits coast"}
    with_text = {"api_version": "1.1", "data": {"item": {**item, "body_text": "It shook."}}}
    article = clean(raw_item(orjson.dumps(with_text).decode()))
    assert (article.headline, article.paragraphs, article.guid) == (
        "Quake hits coast",
        ["It shook."],
        "urn:example:2",
    )
    linked = {"api_version": "1.1", "data": {"item": {**item, "renditions": {"nitf": {}}}}}
    with pytest.raises(Rejected, match="a rendition to download \\(nitf\\)"):
        clean(raw_item(orjson.dumps(linked).decode()))


def test_a_feed_of_ninjs_items_is_one_raw_item_each_and_whole_it_is_refused() -> None:
    story = {"uri": "urn:example:3", "type": "text", "headline": "Bridge reopens"}
    notice = {"uri": "urn:example:4", "type": "advisory", "headline": "Coverage plans"}
    feed = {"total": 2, "item": [{**story, "body_text": "Traffic flows again."}, notice]}
    feed["item"][1]["body_text"] = "A reporter will be at the council meeting."
    items = raw_items_from_document(orjson.dumps(feed), source="wire")
    assert [item.guid for item in items] == ["urn:example:3", "urn:example:4"]
    outcomes = [run_chain(i.to_json(), DedupIndex(), 1 << 20, True, DedupConfig()) for i in items]
    assert [type(outcome).__name__ for outcome in outcomes] == ["Published", "Advisory"]
    with pytest.raises(Rejected, match="a feed of 2 ninjs items") as refused:
        clean(raw_item(orjson.dumps(feed).decode()))
    assert refused.value.code == "unsplit"
