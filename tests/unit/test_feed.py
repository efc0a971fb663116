"""RSS and Atom: split into one raw item per entry at ingest, each read on its own."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from agents.cli import main
from pipeline.clean import clean
from pipeline.formats.feed import split_feed
from pipeline.formats.markup import html_blocks
from pipeline.ingest import raw_items_from_document
from pipeline.records import Rejected
from tests.conftest import raw_item

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
<title>Test wire</title><language>en</language>
<item><title>Full text story</title><guid>urn:test:1</guid>
<pubDate>Tue, 18 Jul 2023 10:00:00 GMT</pubDate><category>Politics</category>
<description>A short summary.</description>
<content:encoded><![CDATA[<p>LONDON (Reuters) - The first paragraph.</p>
<p>The second.</p>]]></content:encoded>
</item>
<item><title>Summary only</title><link>https://example.com/2</link>
<description>Only a summary here.</description></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom wire</title>
<entry><title>Atom story</title><id>tag:example.com,2023:1</id>
<updated>2023-07-19T08:30:00Z</updated><author><name>Jane Doe</name></author>
<content type="html">&lt;p&gt;Atom body one.&lt;/p&gt;&lt;p&gt;Atom body two.&lt;/p&gt;</content>
</entry></feed>"""


def test_rss_entries_become_one_item_each_with_their_guid() -> None:
    items = raw_items_from_document(RSS.encode(), source="feed")
    assert [(item.format, item.guid) for item in items] == [
        ("rss", "urn:test:1"),
        ("rss", "https://example.com/2"),
    ]
    full, summary = (clean(item) for item in items)
    assert full.headline == "Full text story"
    assert full.paragraphs == ["The first paragraph.", "The second."]
    assert full.dateline is not None and full.dateline.agency == "Reuters"
    assert (full.created, full.language, full.subjects) == (
        "2023-07-18T10:00:00Z",
        "en",
        [{"name": "Politics"}],
    )
    assert summary.paragraphs == ["Only a summary here."]


def test_atom_entry() -> None:
    ((content, guid),) = split_feed(ATOM)
    article = clean(raw_item(content))
    assert guid == "tag:example.com,2023:1"
    assert article.headline == "Atom story"
    assert article.paragraphs == ["Atom body one.", "Atom body two."]
    assert (article.byline, article.updated) == ("Jane Doe", "2023-07-19T08:30:00Z")


def test_a_whole_feed_reaching_the_worker_is_rejected_with_the_reason() -> None:
    with pytest.raises(Exception, match="a feed with 2 entries: ingest it to split it"):
        clean(raw_item(RSS, format="rss"))


def test_a_malformed_feed_is_passed_on_whole_and_rejected_by_the_clean_stage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "broken.xml").write_text(RSS[:300])
    assert main(["process", str(tmp_path / "broken.xml"), "--emit", "all"]) == 0
    (outcome,) = [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert outcome["status"] == "rejected"
    assert outcome["reason"].startswith("clean: malformed XML")


WXR = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
 xmlns:wp="http://wordpress.org/export/1.2/"><channel><title>A blog</title>
<item><title>Harbour reopens</title><guid isPermaLink="false">https://example.com/?p=1</guid>
<content:encoded><![CDATA[<strong>[dropcap]T[/dropcap]he harbour reopened on Monday.</strong>

The ferries run again from Tuesday.
<h2>What changes</h2>
Fares stay as they were.[contact_form]
[caption id="attachment_7" width="750"]<img src="a.jpg" /> The quay at dawn[/caption]
[gallery ids="4,5"]]]></content:encoded>
</item></channel></rss>"""


def test_a_wordpress_export_keeps_its_loose_paragraphs_and_drops_its_shortcodes() -> None:
    """WordPress stores a post with blank lines for paragraphs and shortcodes for plug-ins:
    the text between the tags is the story, the shortcodes and the caption are not."""
    (item,) = raw_items_from_document(WXR.encode(), source="blog")
    article = clean(item)
    assert article.paragraphs == [
        "The harbour reopened on Monday.",
        "The ferries run again from Tuesday.",
        "What changes",
        "Fares stay as they were.",
    ]


def test_loose_text_is_read_a_paragraph_per_line_in_any_feed() -> None:
    feed = RSS.replace(
        "<p>The second.</p>", "The second.<br><br>The third.<figure><figcaption>A caption"
    ).replace("]]></content:encoded>", "</figcaption></figure>]]></content:encoded>")
    article = clean(raw_item(split_feed(feed)[0][0]))
    assert article.paragraphs[1:] == ["The second.", "The third."]


WENN = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"
 xmlns:wenn_cm="http://feed.wenn.com/xmlns/2010/03/wenn_cm"><title>Showbiz</title>
<entry><id>urn:example:wenn:1</id><updated>2024-05-02T10:00:00Z</updated>
<title type="text">Singer cancels tour</title>
<content type="text">Placeholder text.</content>
<wenn_cm:ContentMetadata type="feedarticle">
<wenn_cm:first_line>A singer has cancelled her summer tour on doctors' advice.</wenn_cm:first_line>
<wenn_cm:body>  The dates will be played next year.

  Tickets stay valid.</wenn_cm:body>
<wenn_cm:slug>(AB/WNXYZ/CD)</wenn_cm:slug>
</wenn_cm:ContentMetadata></entry></feed>"""


def test_a_wenn_entry_s_story_is_its_first_line_and_body_never_its_slug() -> None:
    ((content, _),) = split_feed(WENN)
    article = clean(raw_item(content))
    assert article.headline == "Singer cancels tour"
    assert article.paragraphs == [
        "A singer has cancelled her summer tour on doctors' advice.",
        "The dates will be played next year.",
        "Tickets stay valid.",
    ]


def test_html_bodies_keep_a_list_item_s_own_text_and_leave_a_div_s_furniture() -> None:
    body = (
        '<div class="dat"><span>Defence</span><span>TT</span></div>'
        "<ul><li>Ports<ul><li>Rotterdam</li></ul></li></ul><p>The strike goes on.</p>"
    )
    assert html_blocks(body) == ["Ports", "Rotterdam", "The strike goes on."]


@pytest.mark.parametrize(
    ("fields", "refused"),
    [
        ("<wp:post_type>post</wp:post_type><wp:status>publish</wp:status>", None),
        ("<wp:post_type>attachment</wp:post_type><wp:status>inherit</wp:status>", "attachment"),
        ("<wp:post_type>post</wp:post_type><wp:status>draft</wp:status>", "'draft'"),
    ],
)
def test_a_wordpress_export_publishes_its_published_posts_only(
    fields: str, refused: str | None
) -> None:
    (item,) = raw_items_from_document(
        WXR.replace("</content:encoded>", f"</content:encoded>{fields}").encode(), source="blog"
    )
    if refused is None:
        assert clean(item).headline == "Harbour reopens"
        return
    with pytest.raises(Rejected, match=refused) as error:
        clean(item)
    assert error.value.code == "no-text"
