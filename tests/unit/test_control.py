"""What an item is and what may be done with it: each control signal in each format."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from pipeline.chain import Advisory, Duplicate, Published, run_chain
from pipeline.clean import clean
from pipeline.control import normalised_urgency, parse_embargo_time, read_pub_status
from pipeline.dedup import DedupConfig, DedupIndex
from pipeline.formats.newsml import read_control
from pipeline.formats.xml import parse_xml
from pipeline.validation import validation_error
from tests.conftest import raw_item, shared_path

RECEIVED = "2026-12-01T09:00:00Z"
STORY = (
    "The Federal Reserve will stop buying bonds next month, its chairman told reporters on "
    "Tuesday, ending a programme that has run for six years."
)


def newsml(version: int, status: str = "usable", item_meta: str = "", rights: str = "") -> str:
    """A NewsML-G2 text item after the IPTC's example (CC BY 4.0), with its control parts."""
    return f"""<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/"
        guid="urn:newsml:example.com:20181021:US-FINANCE-FED" version="{version}">
      {rights}
      <itemMeta><itemClass qcode="ninat:text"/><pubStatus qcode="stat:{status}"/>
        {item_meta}</itemMeta>
      <contentMeta><headline>Fed to halt bond buying</headline><urgency>4</urgency></contentMeta>
      <contentSet><inlineXML contenttype="application/xhtml+xml">
        <html xmlns="http://www.w3.org/1999/xhtml"><body><p>{STORY}</p></body></html>
      </inlineXML></contentSet></newsItem>"""


RIGHTS = """<rightsInfo><copyrightHolder><name>Example Enews LLP</name></copyrightHolder>
  <copyrightNotice>Copyright 2018 Example Enews LLP</copyrightNotice>
  <usageTerms>Not for use outside the United States</usageTerms></rightsInfo>"""
EMBARGO = """<embargoed>2018-10-23T12:00:00Z</embargoed>
  <edNote>STRICTLY EMBARGOED. Not for public release until 12noon on Friday.</edNote>
  <signal qcode="sig:update"/>"""


def process(items: list[str], index: DedupIndex | None = None) -> list[Any]:
    index = index or DedupIndex()
    return [
        run_chain(
            raw_item(text, receivedAt=RECEIVED).to_json(), index, 1 << 20, True, DedupConfig()
        )
        for text in items
    ]


def test_newsml_embargo_note_and_rights_are_carried() -> None:
    (outcome,) = process([newsml(11, item_meta=EMBARGO, rights=RIGHTS)])
    assert isinstance(outcome, Published)
    story = outcome.story
    assert story["pubStatus"] == "usable"
    assert story["embargoedUntil"] == "2018-10-23T12:00:00Z"
    assert story["edNote"].startswith("STRICTLY EMBARGOED")
    assert story["copyrightHolder"] == "Example Enews LLP"
    assert story["copyrightNotice"] == "Copyright 2018 Example Enews LLP"
    assert story["usageTerms"] == "Not for use outside the United States"
    assert story["newswire"]["lifecycle"] == {"kind": "update", "urgency": "routine"}
    assert story["newswire"]["embargo"] == {"embargoed": True, "until": "2018-10-23T12:00:00Z"}
    assert story["urgency"] == 4


def test_the_iptc_example_item_keeps_its_embargo_and_rights() -> None:
    path = shared_path("reference/newsml-g2/LISTING_1_A_NewsML-G2_News_Item.xml")
    control = read_control(parse_xml(path.read_text()))  # the example has no content
    assert control.embargoed_until == "2018-10-23T12:00:00Z"
    assert control.usage_terms == "Not for use outside the United States"
    assert control.copyright_holder == "Example Enews LLP"
    assert control.signals == ("update",)
    assert control.ed_note and "STRICTLY EMBARGOED" in control.ed_note


def test_an_empty_embargo_means_embargoed_time_unknown() -> None:
    (outcome,) = process([newsml(1, item_meta="<embargoed/>")])
    assert isinstance(outcome, Published)
    assert outcome.story["newswire"]["embargo"] == {"embargoed": True}
    assert "embargoedUntil" not in outcome.story


def test_a_kill_of_a_known_story_is_its_next_version_not_a_duplicate() -> None:
    index = DedupIndex()
    first, kill, again = process(
        [
            newsml(11),
            newsml(12, "canceled", "<edNote>Legal: withdrawn.</edNote>"),
            newsml(12, "canceled", "<edNote>Legal: withdrawn.</edNote>"),
        ],
        index,
    )
    assert isinstance(first, Published) and isinstance(kill, Published)
    assert kill.story["uri"] == first.story["uri"]
    assert kill.story["version"] == "2"
    assert kill.story["pubStatus"] == "canceled"
    assert kill.story["newswire"]["lifecycle"]["kind"] == "kill"
    assert kill.story["edNote"] == "Legal: withdrawn."
    assert kill.story["bodies"][0]["value"].startswith("KILL.")
    assert STORY not in kill.story["bodies"][0]["value"]
    assert isinstance(again, Duplicate) and again.notice["reason"] == "redelivery"


def test_a_kill_with_an_older_provider_version_still_goes_out() -> None:
    first, kill = process([newsml(12), newsml(11, "canceled")])
    assert isinstance(kill, Published) and kill.story["uri"] == first.story["uri"]  # type: ignore[union-attr]


def test_a_correction_that_changes_a_few_words_is_a_version() -> None:
    corrected = newsml(12, item_meta='<signal qcode="sig:correction"/>').replace("six", "seven")
    first, correction = process([newsml(11), corrected])
    assert isinstance(correction, Published)
    assert correction.story["uri"] == first.story["uri"]  # type: ignore[union-attr]
    assert correction.story["newswire"]["lifecycle"]["kind"] == "correction"


def ninjs(**fields: Any) -> str:
    return orjson.dumps(
        {
            "uri": "urn:example:ninjs:1",
            "type": "text",
            "headlines": [{"role": "main", "value": "Fed to halt bond buying"}],
            "bodies": [{"role": "main", "contentType": "text/plain", "value": STORY}],
            **fields,
        }
    ).decode()


def test_ninjs_2_lower_case_control_fields() -> None:
    article = clean(
        raw_item(
            ninjs(
                pubstatus="withheld",
                embargoed="2026-12-07T00:01:00Z",
                ednote="HOLD for legal review",
                copyrightholder="AP",
                usageterms=["Editorial use only.", "No archive."],
            )
        )
    )
    assert article.kind == "withhold"
    assert article.control.embargoed_until == "2026-12-07T00:01:00Z"
    assert article.control.ed_note == "HOLD for legal review"
    assert article.control.copyright_holder == "AP"
    assert article.control.usage_terms == "Editorial use only. No archive."


def test_ninjs_3_control_fields_and_picture_rights() -> None:
    picture = {
        "type": "picture",
        "uri": "urn:example:picture:1",
        "descriptions": [{"role": "caption", "value": "The chairman speaks in Washington."}],
        "copyrightHolder": "Example Photo",
        "usageTerms": "TURKEY OUT",
    }
    text = ninjs(
        pubStatus="usable",
        embargoedUntil="2026-12-07T00:01:00+01:00",
        rightsInfo={"linkedRights": "https://example.com/rights"},
        expires="2027-01-01T00:00:00Z",
        associations=[picture],
    )
    (outcome,) = process([text])
    assert isinstance(outcome, Published)
    story = outcome.story
    assert story["embargoedUntil"] == "2026-12-06T23:01:00Z"
    assert story["rightsInfo"] == {"linkedRights": "https://example.com/rights"}
    assert story["expires"] == "2027-01-01T00:00:00Z"
    association = story["associations"][0]
    assert association["copyrightHolder"] == "Example Photo"
    assert association["usageTerms"] == "TURKEY OUT"


@pytest.mark.parametrize(
    ("value", "status", "embargoed"),
    [
        ("canceled", "canceled", False),
        ("cancelled", "canceled", False),
        ("stat:withdrawn", "canceled", False),
        ("stat:withheld", "withheld", False),
        ("Embargoed", "usable", True),
        ("usable", "usable", False),
    ],
)
def test_status_spellings_seen_in_live_feeds(value: str, status: str, embargoed: bool) -> None:
    assert read_pub_status(value) == (status, embargoed)


def test_plain_copy_embargo_line_is_no_headline() -> None:
    text = "EMBARGOED UNTIL 0001 GMT MONDAY DECEMBER 7\n\nFed to halt bond buying\n\n" + STORY
    article = clean(raw_item(text, receivedAt=RECEIVED))
    assert article.headline == "Fed to halt bond buying"
    assert article.paragraphs == [STORY]
    assert article.control.embargoed_until == "2026-12-07T00:01:00Z"
    assert article.control.ed_note == "EMBARGOED UNTIL 0001 GMT MONDAY DECEMBER 7"


def test_plain_copy_kill_names_the_story_and_reaches_it() -> None:
    index = DedupIndex()
    story = "Fed to halt bond buying\n\n" + STORY
    kill = "KILL KILL KILL\n\nPlease kill the item headlined 'Fed to halt bond buying'."
    first, killed = process([story, kill], index)
    assert isinstance(killed, Published)
    assert killed.story["uri"] == first.story["uri"]  # type: ignore[union-attr]
    assert killed.story["pubStatus"] == "canceled"
    assert killed.story["headlines"][0]["value"] == "Fed to halt bond buying"
    assert killed.story["newswire"]["dedup"]["reason"] == "referred"
    assert "KILL KILL KILL" in killed.story["edNote"]


def test_a_kill_for_a_story_never_seen_is_still_delivered() -> None:
    (killed,) = process([ninjs(pubStatus="canceled", version="3")])
    assert isinstance(killed, Published)
    assert killed.story["pubStatus"] == "canceled"
    assert killed.story["altIds"] == [{"role": "guid", "value": "urn:example:ninjs:1"}]


@pytest.mark.parametrize(
    ("lines", "kind"),
    [
        ("HOLD HOLD HOLD", "withhold"),
        ("CORRECTED", "correction"),
        ("REFILE", "refile"),
        ("RPT", "repeat"),
        ("1st Ld-Writethru", "update"),
        ("Eds: Adds comment from the White House.", "story"),
    ],
)
def test_agency_lines_mark_the_item_and_go_to_the_ed_note(lines: str, kind: str) -> None:
    article = clean(raw_item(f"{lines}\n\nFed to halt bond buying\n\n{STORY}"))
    assert article.kind == kind
    assert article.headline == "Fed to halt bond buying"
    assert article.control.ed_note == lines


@pytest.mark.parametrize(
    "text",
    [
        "Weedkiller ban\n\nChemicals kill the grass and the insects that live in it, a study "
        "found on Tuesday.",
        "BILL WITHDRAWN\n\nThe government withdrew the bill on Tuesday after a revolt by its "
        "own members.",
        "Hold on\n\nHold the line, the coach told his players, who went on to win 2-1.",
        "Please kill the bill, protesters say\n\nThousands marched on parliament on Tuesday.",
    ],
)
def test_kill_words_inside_a_story_never_fire(text: str) -> None:
    article = clean(raw_item(text))
    assert article.kind == "story"
    assert article.control.pub_status == "usable"
    assert article.control.ed_note is None


def test_an_advisory_is_never_a_story_and_names_its_story() -> None:
    index = DedupIndex()
    story = "Fed to halt bond buying\n\n" + STORY
    note = (
        "ADVISORY\n\nEditors: the story headlined 'Fed to halt bond buying' will be updated "
        "at 1500 GMT with comment from the Treasury."
    )
    first, advisory = process([story, note], index)
    assert isinstance(advisory, Advisory)
    assert validation_error("advisory", advisory.notice) is None
    assert advisory.notice["refersTo"] == {
        "headline": "Fed to halt bond buying",
        "uri": first.story["uri"],  # type: ignore[union-attr]
    }


def test_an_ap_item_without_the_newscontent_signal_is_an_advisory() -> None:
    article = clean(raw_item(ninjs(signals=["whitelisted"])))
    assert article.kind == "advisory"
    assert clean(raw_item(ninjs(signals=["newscontent", "whitelisted"]))).kind == "story"


def test_a_tt_info_profile_is_an_advisory() -> None:
    assert clean(raw_item(ninjs(profile="INFO"))).kind == "advisory"
    assert clean(raw_item(ninjs(profile="PUBL"))).kind == "story"


def test_a_feed_entry_carries_its_rights() -> None:
    feed = f"""<rss version="2.0"><channel><title>Wire</title>
      <copyright>(c) Example Wire</copyright>
      <item><title>Fed to halt bond buying</title><guid>urn:x:1</guid>
      <description>{STORY}</description></item></channel></rss>"""
    assert clean(raw_item(feed)).control.copyright_notice == "(c) Example Wire"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0001 GMT MONDAY DECEMBER 7", "2026-12-07T00:01:00Z"),
        ("6 p.m. EDT, Oct. 5, 2027", "2027-10-05T22:00:00Z"),
        ("1200 GMT 3 January", "2027-01-03T12:00:00Z"),
        ("further notice", None),
    ],
)
def test_embargo_times_in_utc(text: str, expected: str | None) -> None:
    assert parse_embargo_time(text, datetime(2026, 12, 1, 9, tzinfo=UTC)) == expected


def test_urgency_on_one_scale() -> None:
    assert [normalised_urgency(n) for n in (1, 2, 3, 4, 6, 7, None)] == [
        "flash",
        "bulletin",
        "urgent",
        "routine",
        "routine",
        "deferred",
        None,
    ]


def test_a_later_usable_version_releases_a_withheld_story() -> None:
    first, held, released = process([newsml(11), newsml(12, "withheld"), newsml(13)])
    assert isinstance(held, Published) and held.story["pubStatus"] == "withheld"
    assert held.story["bodies"][0]["value"].startswith("HOLD.")
    assert isinstance(released, Published)
    assert released.story["uri"] == first.story["uri"]  # type: ignore[union-attr]
    assert (released.story["version"], released.story["pubStatus"]) == ("3", "usable")
    assert released.story["newswire"]["lifecycle"]["kind"] == "release"
    assert first.story["newswire"]["lifecycle"]["kind"] == "original"  # type: ignore[union-attr]
    assert STORY in released.story["bodies"][0]["value"]


@pytest.mark.parametrize(
    "headline",
    ["REPEAT OFFENDERS JAILED", "BUDGET DEFICIT WIDENS", "LEAD FOUND IN WATER", "SCHEDULE SLIPS"],
)
def test_upper_case_headlines_of_agency_words_are_stories(headline: str) -> None:
    article = clean(raw_item(f"{headline}\n\n{STORY}"))
    assert (article.kind, article.headline) == ("story", headline)
