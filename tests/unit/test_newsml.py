"""NewsML-G2: the IPTC text examples become articles with their headline, body and guid."""

from __future__ import annotations

import pytest

from pipeline.clean import clean
from pipeline.formats.newsml import split_news_message
from pipeline.records import Rejected
from tests.conftest import raw_item, shared_path

EXAMPLES = "reference/newsml-g2/"


def test_nitf_text_document() -> None:
    path = shared_path(EXAMPLES + "LISTING_2_NewsML-G2_Text_Document.xml")
    article = clean(raw_item(path.read_text(), receivedAt="2018-11-22T00:00:00Z"))
    assert article.headline == 'Fed to halt QE to avert "bubble"'
    assert article.guid == "urn:newsml:acmenews.com:20161121:US-FINANCE-FED"
    assert article.version == "11"
    assert len(article.paragraphs) == 2
    assert article.paragraphs[1].startswith("Ugiating ea feugait utat")
    assert article.byline == "Meredith Jameson, Staff Reporter"
    assert (article.language, article.slugline, article.control.pub_status) == (
        "en-US",
        "US-Finance-Fed",
        "usable",
    )
    assert article.created == "2016-11-21T15:21:06-05:00"
    assert article.updated == "2018-11-21T16:25:32-05:00"
    assert article.located == "New York, NY"
    assert article.agency == "Associated Press"
    assert {"name": "central bank", "literal": "medtop:20000350"} in article.subjects


def test_sports_story_with_people_and_an_agency_dateline() -> None:
    path = shared_path(EXAMPLES + "LISTING_22_Sports_story_in_NewsML-G2NITF.xml")
    article = clean(raw_item(path.read_text()))
    assert article.headline.startswith("Preview: Arizona Diamondbacks (29-23) at Philadelphia")
    assert article.guid == "tag:xmlteam.com,2016:xt.5932656-preview"
    assert len(article.paragraphs) == 6
    assert article.paragraphs[0].startswith("A pair of teams coming off big weekend sweeps")
    assert article.dateline is not None and article.dateline.agency == "Sports Network"
    assert [p["name"] for p in article.people] == ["Doug Davis", "Freddy Garcia"]


def test_bare_nitf_content_set() -> None:
    path = shared_path(EXAMPLES + "LISTING_25_An_NITF_marked-up_article_conveyed_in_inlineXML.xml")
    article = clean(raw_item(path.read_text()))
    assert article.headline.startswith("Arizona Diamondbacks (29-23) at Philadelphia Phillies")
    assert article.paragraphs[0].startswith("With the Philadelphia Phillies picking up momentum")


def test_a_bare_nitf_document_gives_its_id_and_issue_time() -> None:
    nitf = (
        '<nitf><head><docdata><doc-id id-string="A-77"/>'
        '<date.issue norm="20240302T101500+0100"/></docdata></head>'
        "<body><body.head><hedline><hl1>Port reopens</hl1></hedline></body.head>"
        "<body.content><p>Lima, Mar 2 (EFE).- The port reopened.</p></body.content></body></nitf>"
    )
    article = clean(raw_item(nitf))
    assert (article.guid, article.created) == ("A-77", "2024-03-02T09:15:00Z")
    assert (article.located, article.paragraphs) == ("Lima", ["The port reopened."])


def test_nitf_preformatted_copy_is_read_as_plain_text() -> None:
    nitf = (
        "<nitf><body><body.head><hedline><hl1>Team news</hl1></hedline></body.head>"
        "<body.content><pre>Friendly Match\nLeeds v York\n"
        "Leeds: Adams, Baker, Clarke, Dunn, Evans, Fisher, Grant, Hughes,\n"
        "Irwin, Jones, King.\n</pre></body.content></body></nitf>"
    )
    assert clean(raw_item(nitf)).paragraphs == [
        "Friendly Match",
        "Leeds v York",
        "Leeds: Adams, Baker, Clarke, Dunn, Evans, Fisher, Grant, Hughes, Irwin, Jones, King.",
    ]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("LISTING_1_A_NewsML-G2_News_Item.xml", "no story text found"),
        ("ap_metadata_example.xml", "class ninat:video has no text"),
        ("LISTING_24_News_Message_conveying_a_complete_News_Package.xml", "4 news items"),
    ],
)
def test_items_without_story_text_are_rejected_with_the_reason(name: str, reason: str) -> None:
    path = shared_path(EXAMPLES + name)
    with pytest.raises(Rejected, match=reason):
        clean(raw_item(path.read_text()))


def test_a_news_message_splits_into_its_news_items() -> None:
    message = """<newsMessage xmlns="http://iptc.org/std/nar/2006-10-01/"><itemSet>
      <newsItem guid="a"><contentMeta><headline>One</headline></contentMeta>
        <contentSet><inlineData contenttype="text/plain">First story text.</inlineData>
        </contentSet></newsItem>
      <newsItem guid="b"><contentMeta><headline>Two</headline></contentMeta>
        <contentSet><inlineData contenttype="text/plain">Second story text.</inlineData>
        </contentSet></newsItem></itemSet></newsMessage>"""
    parts = split_news_message(message)
    assert [guid for _, guid in parts] == ["a", "b"]
    articles = [clean(raw_item(content)) for content, _ in parts]
    assert [(a.headline, a.paragraphs, a.guid) for a in articles] == [
        ("One", ["First story text."], "a"),
        ("Two", ["Second story text."], "b"),
    ]
