"""HTML pages: trafilatura's main text with our wire cleaning on top."""

from __future__ import annotations

from bench.extraction_quality import load_dataset, newswire_text, score, trafilatura_precision
from pipeline.clean import clean
from tests.conftest import raw_item, shared_path

PAGE = """<html lang="en"><head><title>Site | Storm hits coast</title>
<meta property="og:title" content="Storm hits coast">
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


def test_extraction_quality_on_the_dev_pages_beats_trafilatura() -> None:
    pages, truth = load_dataset(shared_path("data/extraction-dev"))
    ours = score(pages, truth, newswire_text)
    baseline = score(pages, truth, trafilatura_precision)
    assert ours[2] >= 0.975
    assert ours[2] > baseline[2]
