"""HTML pages: trafilatura's main text with our wire cleaning on top."""

from __future__ import annotations

from trafilatura.utils import load_html

from bench.extraction_quality import (
    load_dataset,
    load_more,
    newswire_story_text,
    newswire_text,
    score,
    score_snippets,
    trafilatura_default,
    trafilatura_precision,
)
from pipeline.chain import Published, run_chain
from pipeline.clean import clean
from pipeline.dedup import DedupConfig, DedupIndex
from pipeline.formats.html import read_main_text
from pipeline.publish import check_story
from tests.conftest import raw_item, shared_path

PAGE = """<html lang="en"><head><title>Site | Storm hits coast</title>
<meta property="og:title" content="Storm hits coast">
<meta property="og:description" content="Thousands of homes lost power as the storm came ashore.">
<meta name="author" content="Jane Doe">
<meta property="article:published_time" content="2023-07-19T08:00:00Z"></head>
<body><nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>Storm hits coast</h1>
<p>MIAMI (AP) — A powerful storm hit the coast on Wednesday, cutting power to thousands of
homes and flooding streets in several towns, officials said.</p>
<p>Advertisement</p>
<p>Emergency crews worked through the night to clear roads and reach stranded residents,
the county's emergency manager told reporters at a briefing.</p>
<p>Forecasters expect the storm to weaken as it moves inland over the next two days, but
warned that heavy rain could still cause flash floods.</p>
<p>Sign up for our daily newsletter to get the latest news in your inbox.</p>
</article><footer>© 2023 Example News. All rights reserved.</footer></body></html>"""


def test_a_news_page_becomes_a_clean_article() -> None:
    article = clean(raw_item(PAGE))
    assert article.headline == "Storm hits coast"
    assert article.byline == "Jane Doe"
    assert article.created == "2023-07-19T08:00:00Z"
    assert article.language == "en"
    assert article.dateline is not None and article.dateline.place == "Miami"
    assert len(article.paragraphs) == 3
    assert article.paragraphs[0].startswith("A powerful storm hit the coast on Wednesday")
    assert not any("Advertisement" in p or "newsletter" in p for p in article.paragraphs)
    assert article.summary == "Thousands of homes lost power as the storm came ashore."
    assert article.extraction == "precision"


STORY_SENTENCE = (
    "of the story tells readers what the council decided on Monday about the new bridge, "
    "and why it matters to the town"
)
# The story's paragraphs are links inside a list of teasers, so trafilatura's precision mode
# keeps only the reprint notice above them.
LINKED_PAGE = (
    "<html><head><title>Council backs the bridge</title></head><body><article>"
    "<p>This copy is for your personal use only.</p><div class='related'>"
    + "".join(f"<p><a href='/s{n}'>Paragraph {n} {STORY_SENTENCE}.</a></p>" for n in range(8))
    + "</div></article></body></html>"
)


def test_a_precise_reading_that_lost_the_article_falls_back_to_the_balanced_one() -> None:
    text, reading = read_main_text(load_html(LINKED_PAGE))
    assert reading == "balanced"
    assert all(f"Paragraph {n} {STORY_SENTENCE}" in text for n in range(8))
    article = clean(raw_item(LINKED_PAGE))
    assert article.extraction == "balanced"
    assert all(f"Paragraph {n} {STORY_SENTENCE}" in article.body for n in range(8))


def test_a_full_precise_reading_is_kept() -> None:
    _, reading = read_main_text(load_html(PAGE))
    assert reading == "precision"


def test_extraction_quality_on_the_dev_pages_beats_trafilatura() -> None:
    pages, truth = load_dataset(shared_path("data/extraction-dev"))
    ours = score(pages, truth, newswire_text)
    modes = (trafilatura_default, trafilatura_precision)
    best = max(score(pages, truth, mode).f1 for mode in modes)
    assert ours.f1 >= 0.975
    assert ours.f1 >= best


def test_extraction_on_the_varied_pages_keeps_recall_and_precision_at_once() -> None:
    """extraction-more: as many ``with`` snippets as trafilatura's default mode finds, as few
    ``without`` snippets as its precision mode leaves in, and no page lost that the default
    mode reads."""
    pages = load_more(shared_path("data/extraction-more"))
    ours = score_snippets(pages, newswire_story_text)
    assert ours.kept >= 0.936
    assert ours.left_out >= 0.929
    default = score_snippets([pages[n] for n in ours.lost], trafilatura_default)
    assert not [n for n, share in zip(ours.lost, default.shares, strict=True) if share >= 0.5]


def test_a_page_story_carries_its_summary_and_reading() -> None:
    outcome = run_chain(raw_item(PAGE).to_json(), DedupIndex(), 1 << 20, True, DedupConfig())
    assert isinstance(outcome, Published)
    story = outcome.story
    assert story["descriptions"] == [
        {
            "role": "summary",
            "contentType": "text/plain",
            "value": "Thousands of homes lost power as the storm came ashore.",
        }
    ]
    assert story["newswire"]["extraction"] == "precision"
    check_story(story)
