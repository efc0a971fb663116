"""The agency formats, each on a message written here after its specification: what is the
story, what goes to the control fields, and what is not for publication and never published.
Bad input of each becomes a dead letter with its reason."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.chain import Cleaned, DeadLetter, clean_step
from pipeline.formats import detect_format, split_document
from pipeline.ingest import raw_items_from_document
from tests.conftest import raw_item

IPTC7901 = (
    "\x01abc123 2 i 180 xxxxx   wire 042\r\n\r\nHarbour/strike/\r\n"
    "\x02CORRECTION\r\n1ST LEAD\r\n"
    "Dockers strike shuts Hamburg harbour =\r\nBy Anna Berg, wire =\r\n\r\n"
    "   Hamburg (wire) - Dockers walked out on Monday, shutting the port\r\n"
    "of Hamburg for the first time in a decade.\r\n\r\n"
    "   The union said the strike would last two days.\r\n\r\n"
    "# Notebook\r\n\r\n## Note to editors\r\n- corrects number of days in 2nd graf\r\n\r\n"
    "* * * *\r\nThe following information is not for publication\r\n\r\n"
    "## Contacts\r\n- Editing by: Carl Desk\r\nTel: +49 40 1234 5678\r\n\r\n"
    "wire ab cd\r\n\r\n\x03101500 GMT Mar 02\r\n\x7f\x04"
)
ANPA = (
    "\x16\x16\x01a1234\x1fstate\n"
    "b a\x13\x11 BC-Harbour-Strike 1stLd-Writethru   03-02 0412\r\n"
    "\x02^BC-Harbour-Strike, 1st Ld-Writethru,412<\r\n"
    "^Dockers strike shuts Hamburg harbour<\r\n"
    "^AP Photo HAM101, HAM102<\r\n"
    "^Eds: Updates with union statement.<\r\n"
    "^By ANNA BERG=\r\n^Associated Press=\r\n"
    "\t   HAMBURG, Germany (AP) _ Dockers walked out on Monday, shutting the port.\r\n"
    "\t   ___\r\n"
    "\t   The union said the strike would last two days.\r\n"
    "\t   \x03AP-WF-03-02-24 1015GMT<\r\n\x0c\r\n\x04"
)
NEWSML1 = """<?xml version="1.0" encoding="UTF-8"?>
<NewsML Version="1.2"><NewsEnvelope><DateAndTime>20240302T101500Z</DateAndTime></NewsEnvelope>
<NewsItem xml:lang="en"><Identification><NewsIdentifier><ProviderId>wire.example</ProviderId>
<DateId>20240302</DateId><NewsItemId>X1</NewsItemId><RevisionId>2</RevisionId>
<PublicIdentifier>urn:newsml:wire.example:20240302:X1:2</PublicIdentifier></NewsIdentifier>
</Identification><NewsManagement><NewsItemType FormalName="News"/>
<FirstCreated>20240302T101000+0000</FirstCreated><Status FormalName="Canceled"/>
<Urgency FormalName="3"/></NewsManagement>
<NewsComponent><NewsLines><DateLine>HAMBURG, March 2 (wire) -</DateLine>
<HeadLine>Dockers strike shuts Hamburg harbour</HeadLine><ByLine>By Anna Berg</ByLine>
</NewsLines><NewsComponent><Role FormalName="Main"/><ContentItem>
<MediaType FormalName="Text"/><Format FormalName="NITF3.1"/><DataContent><nitf><body>
<body.content><p>Dockers walked out on Monday, shutting the port.</p>
<p>The union said the strike would last two days.</p>
<p>© Wire Agency. All rights reserved.</p></body.content></body></nitf></DataContent>
</ContentItem></NewsComponent></NewsComponent></NewsItem></NewsML>"""
EMAIL = (
    "Delivered-To: desk@newsroom.example\r\nReceived: from relay.example by mx.example\r\n"
    "Message-ID: <abc@wire.example>\r\nDate: Sat, 02 Mar 2024 10:15:00 +0000\r\n"
    "From: Anna Berg <anna@wire.example>\r\nTo: desk@newsroom.example\r\n"
    "Subject: Dockers strike shuts Hamburg harbour\r\nMIME-Version: 1.0\r\n"
    'Content-Type: multipart/alternative; boundary="b1"\r\n\r\n'
    '--b1\r\nContent-Type: text/plain; charset="iso-8859-1"\r\n'
    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    "Dockers walked out on Monday, shutting the port of Hamburg f=FCr zwei Tage.\r\n\r\n"
    "The union said the strike would last two days.\r\n"
    '--b1\r\nContent-Type: text/html; charset="utf-8"\r\n\r\n'
    "<p>Dockers walked out on Monday.</p>\r\n--b1--\r\n"
)

RITZAU = (
    '<?xml version="1.0"?>\n<RBNews xmlns:i="http://www.w3.org/2001/XMLSchema-instance">'
    "<NewsID>4f1c0e6a-5b7d-4c1e-9a0b-2f3d4e5f6a7b</NewsID>"
    "<PublishDate>2024-03-02T17:32:18.397</PublishDate><strapline>NU/FLASH-U</strapline>"
    '<headline i:nil="true"/><town>Aarhus</town><version>2</version>'
    "<content>&lt;p&gt;Havnearbejderne i Aarhus nedlagde arbejdet mandag.&lt;/p&gt;"
    "&lt;p&gt;Strejken varer to dage.&lt;/p&gt;</content>"
    "<Annuleret>false</Annuleret><Korrektion>true</Korrektion>"
    "<byLine>Anna Berg</byLine><byLineEmail>desk@wire.example</byLineEmail>"
    "<byLinePhone>33300000</byLinePhone><TilRedaktionen>Retter antal dage</TilRedaktionen>"
    "</RBNews>"
)


def cleaned(content: str) -> Cleaned:
    result = clean_step(raw_item(content).to_json(), 1 << 22)
    assert isinstance(result, Cleaned), getattr(result, "letter", result)
    return result


def published_text(result: Cleaned) -> str:
    return result.article.headline + "\n" + result.article.body


@pytest.mark.parametrize(
    ("content", "format"),
    [
        (IPTC7901, "iptc7901"),
        (ANPA, "anpa"),
        (NEWSML1, "newsml1"),
        (EMAIL, "email"),
        (RITZAU, "ritzau"),
        ('<?xml version="1.0"?>\n<!-- page -->\n<html><body><p>x</p></body></html>', "html"),
        ("<p>A fragment.</p>", "html"),
        ('<?xml version="1.0"?><Inventory><Row>1</Row></Inventory>', "xml"),
    ],
)
def test_each_format_is_detected(content: str, format: str) -> None:
    assert detect_format(content) == format


def test_iptc7901_headline_body_and_control_fields() -> None:
    result = cleaned(IPTC7901)
    article = result.article
    assert article.headline == "Dockers strike shuts Hamburg harbour"
    assert article.byline == "Anna Berg, wire"
    assert article.body.startswith("Dockers walked out on Monday, shutting the port of Hamburg")
    assert article.located == "Hamburg"
    assert (article.urgency, article.slugline, article.kind) == (2, "Harbour/strike", "correction")
    assert "corrects number of days in 2nd graf" in (article.control.ed_note or "")
    for secret in ("abc123", "not for publication", "Carl Desk", "+49 40", "wire ab cd", "GMT Mar"):
        assert secret not in published_text(result)


def test_a_take_key_in_brackets_is_no_headline_and_says_what_the_item_is() -> None:
    """dpa writes its own take keys in brackets: "(Achtung)" is a notice to the desks."""
    article = cleaned(IPTC7901.replace("\x02CORRECTION\r\n1ST LEAD", "\x02(Achtung)")).article
    assert (article.headline, article.kind) == ("Dockers strike shuts Hamburg harbour", "advisory")


def test_anpa_headline_body_and_control_fields() -> None:
    result = cleaned(ANPA)
    article = result.article
    assert article.headline == "Dockers strike shuts Hamburg harbour"
    assert article.byline == "ANNA BERG, Associated Press"
    assert article.body.endswith("The union said the strike would last two days.")
    assert (article.urgency, article.kind, article.located) == (2, "update", "Hamburg, Germany")
    assert article.created == "2024-03-02T10:15:00Z"
    assert "Eds: Updates with union statement." in (article.control.ed_note or "")
    for secret in ("BC-Harbour-Strike", "AP Photo HAM101", "AP-WF-03-02-24", "a1234", "___"):
        assert secret not in published_text(result)


def test_an_anpa_trailer_whose_etx_went_missing_is_still_no_text() -> None:
    result = cleaned(ANPA.replace("\t   \x03AP-WF", "\t   AP-WF"))
    assert result.article.body.endswith("The union said the strike would last two days.")
    assert result.article.created == "2024-03-02T10:15:00Z"


def test_newsml1_item_fields_and_rights() -> None:
    result = cleaned(NEWSML1)
    article = result.article
    assert article.headline == "Dockers strike shuts Hamburg harbour"
    assert (article.guid, article.version) == ("urn:newsml:wire.example:20240302:X1:2", "2")
    assert (article.kind, article.urgency, article.language) == ("kill", 3, "en")
    assert article.created == "2024-03-02T10:10:00Z"
    assert article.control.copyright_notice == "© Wire Agency. All rights reserved."
    assert "©" not in article.body


def test_newsml1_with_several_items_is_one_raw_item_each() -> None:
    two = NEWSML1.replace(
        "</NewsItem></NewsML>", "</NewsItem>" + NEWSML1.split('<NewsML Version="1.2">')[1]
    )
    items = raw_items_from_document(two.encode(), source="wire")
    assert len(items) == 2
    assert all(cleaned(item.content).article.headline for item in items)


def test_email_subject_sender_and_declared_charset() -> None:
    result = cleaned(EMAIL)
    article = result.article
    assert article.headline == "Dockers strike shuts Hamburg harbour"
    assert article.byline == "Anna Berg"
    assert "für zwei Tage" in article.body  # quoted-printable ISO-8859-1, decoded
    assert article.guid == "abc@wire.example"
    for secret in ("Delivered-To", "relay.example", "anna@wire.example", "desk@newsroom"):
        assert secret not in published_text(result)


def test_a_web_form_in_an_email_is_read_by_its_fields() -> None:
    form = (
        '{"Headline": ["Harbour reopens"], "Slugline": ["Harbour"],'
        ' "Body": ["Ships sailed again.\\n\\nThe strike ended."]}'
    )
    message = EMAIL.split("MIME-Version")[0] + "Content-Type: text/plain\r\n\r\n" + form
    article = cleaned(message).article
    assert (article.headline, article.body) == (
        "Harbour reopens",
        "Ships sailed again.\n\nThe strike ended.",
    )


def test_a_news_document_attached_to_an_email_travels_on_its_own() -> None:
    message = (
        EMAIL.split("MIME-Version")[0]
        + 'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="m"\r\n\r\n'
        + "--m\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
        + "--m\r\nContent-Type: application/xml\r\n"
        + 'Content-Disposition: attachment; filename="x.xml"\r\n\r\n'
        + NEWSML1.split("?>", 1)[1]
        + "\r\n--m--\r\n"
    )
    _, parts = split_document(message, "auto")
    assert len(parts) == 1 and detect_format(parts[0][0]) == "newsml1"


def dead(content: str) -> dict[str, Any]:
    result = clean_step(raw_item(content).to_json(), 1 << 22)
    assert isinstance(result, DeadLetter)
    return result.letter


@pytest.mark.parametrize(
    "content",
    [
        "\x16\x16\x01a1234\x1fstate\nb a\x13\x11 BC-Cut",  # ANPA cut before its text
        "\x01abc123 2 i 180\r\n\x02\x03",  # 7901 with no text
        "<NewsML>" + "<NewsComponent>" * 10_000 + "</NewsComponent>" * 10_000 + "</NewsML>",
        EMAIL.split("MIME-Version")[0]
        + 'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="p"\r\n\r\n'
        + "--p\r\nContent-Type: text/plain\r\n\r\nx\r\n" * 1000
        + "--p--\r\n",
    ],
)
def test_bad_input_of_each_format_is_a_dead_letter_with_a_reason(content: str) -> None:
    letter = dead(content)
    assert letter["reason"] and letter["code"] in ("malformed", "no-text", "too-large", "binary")


def test_ritzau_headline_body_and_control_fields() -> None:
    result = cleaned(RITZAU)
    article = result.article
    assert article.headline == "Havnearbejderne i Aarhus nedlagde arbejdet mandag."
    assert (article.paragraphs[-1], article.located) == ("Strejken varer to dage.", "Aarhus")
    assert (article.guid, article.version) == ("4f1c0e6a-5b7d-4c1e-9a0b-2f3d4e5f6a7b", "2")
    assert article.created == "2024-03-02T16:32:18.397000Z"  # Copenhagen time, in UTC
    assert (article.kind, article.control.ed_note) == ("correction", "Retter antal dage")
    for secret in ("NU/FLASH", "desk@wire.example", "33300000", "4f1c0e6a"):
        assert secret not in published_text(result)


def test_xml_of_an_unknown_vocabulary_is_refused_not_published_field_by_field() -> None:
    letter = dead('<?xml version="1.0"?><Inventory><Id>a1</Id><Tel>555</Tel></Inventory>')
    assert (letter["code"], letter["reason"]) == (
        "unsupported",
        "XML of a vocabulary Newswire does not read (root <Inventory>)",
    )


def test_a_wrong_declared_charset_is_read_not_crashed_on() -> None:
    message = EMAIL.replace('charset="iso-8859-1"', 'charset="no-such-charset"')
    assert "Dockers walked out" in cleaned(message).article.body
