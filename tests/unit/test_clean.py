"""The clean stage: the seed story, and each removal rule from both sides."""

from __future__ import annotations

import pytest

from pipeline.clean import clean, is_boilerplate, normalise_text, split_caption
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


def test_invisible_characters_and_entities_are_normalised() -> None:
    assert (
        normalise_text("soft\u00adhyphen zero\u200bwidth &amp; done")
        == "softhyphen zerowidth & done"
    )
    assert normalise_text("mojibake: donâ€™t") == "mojibake: don't"


def test_duplicated_paragraphs_are_kept_once() -> None:
    text = "A headline\n\nFirst paragraph is here.\n\nFirst paragraph is here.\n\nLast one."
    assert clean(raw_item(text)).paragraphs == ["First paragraph is here.", "Last one."]


def test_trailing_navigation_goes_but_a_short_last_sentence_stays() -> None:
    text = "A headline\n\nThe story says something.\n\nIt ends.\n\nWorld\n\nSports"
    assert clean(raw_item(text)).paragraphs == ["The story says something.", "It ends."]


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


def test_unsupported_format_is_rejected_not_guessed() -> None:
    with pytest.raises(Rejected, match="newsml format is not supported yet"):
        clean(raw_item("<newsItem></newsItem>"))
