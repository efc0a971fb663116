"""The clean stage: the seed story, and each removal rule from both sides."""

from __future__ import annotations

import pytest

from pipeline.clean import clean, is_boilerplate, normalise_text, split_caption
from pipeline.formats.text import split_blocks
from pipeline.records import Rejected
from tests.conftest import SEED_HEADLINE, raw_item


def test_seed_becomes_a_clean_story(seed_text: str) -> None:
    article = clean(raw_item(seed_text, receivedAt="2023-07-20T08:00:00Z"))
    assert article.headline == SEED_HEADLINE
    assert len(article.paragraphs) == 12
    assert article.paragraphs[0].startswith(
        "The head of the British secret intelligence service MI6 on Wednesday urged"
    )
    assert article.paragraphs[-1].startswith("However, Ukraine's State Border Service")
    assert "Advertisement" not in article.body
    assert "Latest Headlines" not in article.body
    assert "File photo" not in article.body
    assert "Richard Moore, or 'C'" not in article.body
    assert article.dateline is not None
    assert article.dateline.agency == "UPI"
    assert article.dateline.date is not None
    assert article.dateline.date.isoformat() == "2023-07-19"
    assert len(article.images) == 1
    assert article.images[0].caption.startswith("Richard Moore, or 'C'")
    assert article.images[0].credit == "File photo by Facundo Arrizabalaga/EPA"


@pytest.mark.parametrize(
    "block",
    [
        "Advertisement",
        "ADVERTISEMENT",
        "Story continues below advertisement",
        "Latest Headlines",
        "Read more",
        "Share this article",
        "Sign up for our daily newsletter",
        "We use cookies to improve your experience.",
        "© 2023 United Press International, Inc. All Rights Reserved.",
    ],
)
def test_boilerplate_blocks_are_recognised(block: str) -> None:
    assert is_boilerplate(block)


@pytest.mark.parametrize(
    "sentence",
    [
        "The advertisement ran in three newspapers before it was withdrawn.",
        "Officials said the latest headlines had caused panic among investors.",
        "Readers can read more about the inquiry in the full report, the ministry said.",
        "She urged viewers to share this article's findings with their doctors.",
        "Copyright lawyers for the band said the case would go to trial in 2024.",
    ],
)
def test_real_sentences_with_the_same_words_stay(sentence: str) -> None:
    assert not is_boilerplate(sentence)
    text = f"Headline of the day\n\n{sentence}\n\nA second paragraph ends here."
    assert sentence in clean(raw_item(text)).paragraphs


def test_photo_credit_at_the_end_of_a_block_makes_a_caption() -> None:
    image = split_caption("The mayor speaks in Gdansk. Photo by Jan Kowalski/Reuters")
    assert image is not None
    assert image.caption == "The mayor speaks in Gdansk."
    assert image.credit == "Photo by Jan Kowalski/Reuters"


def test_a_sentence_about_a_photo_is_not_a_caption() -> None:
    assert split_caption("He said the photo by the river was taken in 1998.") is None
    assert split_caption("The photo by Smith won the prize, the jury said.") is None


def test_html_remnants_go_but_comparisons_stay() -> None:
    assert normalise_text("A <b>bold</b> move &amp; a<br/>break") == "A bold move & a break"
    assert normalise_text("Inflation was 3 < 4 and 5 > 2.") == "Inflation was 3 < 4 and 5 > 2."


def test_invisible_characters_and_entities_are_normalised() -> None:
    assert (
        normalise_text("soft\u00adhyphen zero\u200bwidth &amp; done")
        == "softhyphen zerowidth & done"
    )
    assert normalise_text("mojibake: donâ€™t") == "mojibake: don’t"
    assert normalise_text("“Quoted” ＡＢＣ") == "“Quoted” ＡＢＣ"  # typography is the publisher's


def test_a_repeated_paragraph_is_kept_once_but_short_list_lines_may_recur() -> None:
    repeated = "The first paragraph is here and it says a lot."
    text = f"A headline\n\n{repeated}\n\nMeal 1\n\n{repeated}\n\nMeal 1\n\nLast one."
    assert clean(raw_item(text)).paragraphs == [repeated, "Meal 1", "Meal 1", "Last one."]


def test_trailing_navigation_goes_but_a_short_last_sentence_stays() -> None:
    text = "A headline\n\nThe story says something.\n\nIt ends.\n\nWorld\n\nSports"
    assert clean(raw_item(text)).paragraphs == ["The story says something.", "It ends."]


def test_trailing_lists_of_dates_or_results_stay() -> None:
    dates = ["June 9 -- Coral Sky Amphitheatre, West Palm Beach, FL", "June 10 -- Tampa, FL"]
    text = "Tour dates announced\n\nThe band will tour in 2020.\n\n" + "\n\n".join(dates)
    assert clean(raw_item(text)).paragraphs[-2:] == dates


def test_contact_lines_after_the_story_are_cut() -> None:
    body = [f"Paragraph {n} of the release says what happened." for n in range(1, 7)]
    trailer = [
        "Have a tip? Jane Doe may be reached at jdoe@example.com.",
        "Follow her on Twitter @janedoe",
    ]
    article = clean(raw_item("Release headline\n\n" + "\n\n".join(body + trailer)))
    assert article.paragraphs == body


def test_read_also_teasers_go_in_any_language() -> None:
    for teaser in (
        "Lesen Sie auch:",
        "Auch interessant",
        "VEA TAMBIÉN: Entre heces y guaricha: la educación en Panamá Oeste",
        "À lire aussi » Quel est votre profil digestif ?",
        "See also",
        "Notas relacionadas",
    ):
        assert is_boilerplate(teaser), teaser


def test_sentences_that_start_like_a_teaser_stay() -> None:
    for sentence in (
        "See also the report the ministry published on Monday, which lists every school.",
        "Lesen Sie auch die folgenden Beiträge zum Thema, sagte die Sprecherin.",
        "Recommended reading for the committee included the 2019 audit.",
    ):
        assert not is_boilerplate(sentence), sentence


def test_picture_credit_lines_go_but_facts_with_a_colon_stay() -> None:
    for credit in (
        "© Oli Scarff/Getty Images",
        "Foto: Sophia Mahnert",
        "(Credit: Clayton Aldern / Grist)",
        "Crédits photos : Bestimage",
    ):
        assert is_boilerplate(credit), credit
    fact = "Image: the agency said the photograph was taken in 2019, before the fire broke out."
    assert not is_boilerplate(fact)
    text = "Ear candy\n\nWe picked our favourite ear cuffs.\n\nEarcuff: Zoeca\n\nKreole: Stella"
    assert clean(raw_item(text)).paragraphs[-2:] == ["Earcuff: Zoeca", "Kreole: Stella"]


def test_about_and_contact_words_inside_the_story_stay() -> None:
    body = [
        "About 200 people attended the meeting, organisers said.",
        "The minister can be reached through her office, a spokesman said.",
        "About Face, the charity, said it would appeal.",
    ]
    assert clean(raw_item("Headline\n\n" + "\n\n".join(body))).paragraphs == body


def test_newsletter_prompts_go_but_reporting_on_newsletters_stays() -> None:
    prompt = "Get the latest updates right in your inbox. Subscribe to NJ.com's newsletters."
    fact = "More than 10,000 readers subscribe to the newsletter, the company said."
    assert is_boilerplate(prompt)
    assert not is_boilerplate(fact)


def test_byline_is_taken_out_of_the_body() -> None:
    text = "A headline\n\nBy Jane Doe\n\nThe story says something."
    article = clean(raw_item(text))
    assert article.byline == "Jane Doe"
    assert article.paragraphs == ["The story says something."]


@pytest.mark.parametrize("content", ["", "   \n\n  ", "Advertisement\n\nLatest Headlines"])
def test_a_document_without_story_text_is_rejected(content: str) -> None:
    with pytest.raises(Rejected) as error:
        clean(raw_item(content))
    assert error.value.stage == "clean"


def test_plain_copy_keeps_the_lines_its_writer_broke() -> None:
    """Wrapped lines join; a dateline line, the rows of a table and indented paragraphs
    stay apart."""
    text = (
        "SOCCER - LEADERS HELD AS ROVERS SLIP\n"
        "LONDON 1996-12-07\n"
        "Leaders Newcastle were held to a goalless draw at home by Sheffield\n"
        "Wednesday on Saturday, while Blackburn slipped further behind the\n"
        "leaders.\n"
        "    Results of English premier league matches on Saturday:\n"
        "Arsenal 2 Derby 2\n"
        "Chelsea 1 Everton 2\n"
        "Leicester 1 Southampton 0\n"
    )
    assert split_blocks(text) == [
        "SOCCER - LEADERS HELD AS ROVERS SLIP",
        "LONDON 1996-12-07",
        "Leaders Newcastle were held to a goalless draw at home by Sheffield Wednesday on "
        "Saturday, while Blackburn slipped further behind the leaders.",
        "Results of English premier league matches on Saturday:",
        "Arsenal 2 Derby 2",
        "Chelsea 1 Everton 2",
        "Leicester 1 Southampton 0",
    ]
