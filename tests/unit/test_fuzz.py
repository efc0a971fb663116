"""Fuzzing every door with hypothesis: whatever arrives on ``wire.raw`` or at ``ingest``, no
exception escapes, and every bad item is a dead letter carrying its reason and its bytes.

``NEWSWIRE_FUZZ_EXAMPLES`` sets the cases per test (CI: 400, about 3,600 in all; ``make
fuzz`` runs 20,000 per test).
"""

from __future__ import annotations

import base64
import json
import os
from functools import cache
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.chain import Cleaned, DeadLetter, Duplicate, Published, clean_step, run_chain
from pipeline.dedup import DedupConfig, DedupIndex
from pipeline.enrich import Enricher, load_enricher
from pipeline.formats.markup import html_blocks
from pipeline.ingest import raw_items_from_document, raw_items_from_request
from pipeline.records import FORMATS, Article, Rejected
from pipeline.validation import validation_error

EXAMPLES = int(os.environ.get("NEWSWIRE_FUZZ_EXAMPLES", "400"))
LIMIT = 1 << 20
fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=EXAMPLES <= 400,  # CI runs the same cases every time; `make fuzz` explores
)
DOCUMENT_FORMATS = [f for f in FORMATS if f != "jsonl"]

json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=50)
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)

TAGS = [
    "newsItem", "newsMessage", "itemSet", "contentMeta", "contentSet", "inlineXML", "headline",
    "nitf", "body", "body.content", "p", "hl1", "rss", "channel", "item", "title",
    "description", "guid", "feed", "entry", "content", "html", "article", "div", "script",
    "h1", "span", "itemMeta", "itemClass", "dateline", "byline",
]  # fmt: skip
ATTRIBUTES = ["guid", "version", "qcode", "type", "xmlns", "contenttype", "href", "rel"]


@st.composite
def markup(draw: st.DrawFn, depth: int = 0) -> str:
    """Plausible XML and HTML: the tag names the parsers look for, nested at random, with
    text, attributes, entities and now and then a broken tag."""
    tag = draw(st.sampled_from(TAGS))
    attributes = "".join(
        f' {name}="{draw(st.text(max_size=12)).replace(chr(34), "")}"'
        for name in draw(st.lists(st.sampled_from(ATTRIBUTES), max_size=3, unique=True))
    )
    children = (
        [draw(markup(depth + 1)) for _ in range(draw(st.integers(0, 3)))] if depth < 4 else []
    )
    text = draw(st.text(max_size=40))
    if draw(st.integers(0, 20)) == 0:
        text += draw(st.sampled_from(["&amp;", "&nbsp;", "&bogus;", "<", "]]>", "&#0;"]))
    closing = "" if draw(st.integers(0, 15)) == 0 else f"</{tag}>"
    return f"<{tag}{attributes}>{text}{''.join(children)}{closing}"


def ninjs_documents() -> st.SearchStrategy[str]:
    field = st.sampled_from(
        ["uri", "type", "version", "headline", "headlines", "body_text", "bodies", "body_html",
         "language", "versioncreated", "firstcreated", "pubstatus", "subject", "associations",
         "located", "byline", "urgency", "description_text"]
    )  # fmt: skip
    return st.dictionaries(field, json_value, max_size=8).map(json.dumps)


documents = st.one_of(
    st.text(max_size=2000),
    markup(),
    ninjs_documents(),
    st.builds(lambda x: f'<?xml version="1.0"?>{x}', markup()),
)


def assert_dead_letter_keeps(outcome: Any, data: bytes) -> None:
    """A dead letter carries its bytes and a reason a reader gave: never a crash's."""
    if isinstance(outcome, DeadLetter):
        assert outcome.letter["reason"]
        assert outcome.letter["code"] != "unexpected", outcome.letter["reason"]
        assert base64.b64decode(outcome.letter["original"]) == data
        assert validation_error("dead-letter", outcome.letter) is None


@fuzz
@given(st.binary(max_size=4000))
def test_any_bytes_on_wire_raw(data: bytes) -> None:
    outcome = clean_step(data, LIMIT)
    assert isinstance(outcome, Cleaned | DeadLetter)
    assert_dead_letter_keeps(outcome, data)


raw_item_fields = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.text(max_size=20), json_value),
        "source": st.one_of(st.text(max_size=20), json_value),
        "receivedAt": st.one_of(
            st.sampled_from(["2026-11-29T10:00:00Z", "2026-02-30T10:00:00Z", "yesterday"]),
            json_value,
        ),
        "format": st.one_of(st.sampled_from(FORMATS), json_value),
        "content": st.one_of(documents, json_value),
        "guid": json_value,
        "version": json_value,
        "url": json_value,
    },
)


@fuzz
@given(raw_item_fields)
def test_raw_items_with_wrong_types_in_every_field(fields: dict[str, Any]) -> None:
    data = json.dumps(fields).encode()  # ints beyond 64 bits too, which orjson refuses
    outcome = clean_step(data, LIMIT)
    assert isinstance(outcome, Cleaned | DeadLetter)
    assert_dead_letter_keeps(outcome, data)


@fuzz
@given(documents, st.sampled_from(DOCUMENT_FORMATS))
def test_documents_of_every_format_through_the_whole_chain(content: str, format: str) -> None:
    data = orjson.dumps(
        {
            "id": "fuzz",
            "source": "fuzz",
            "receivedAt": "2026-11-29T10:00:00Z",
            "format": format,
            "content": content,
        }
    )
    outcome = run_chain(data, DedupIndex(), LIMIT, True, DedupConfig())
    assert isinstance(outcome, Published | Duplicate | DeadLetter)
    assert_dead_letter_keeps(outcome, data)
    if isinstance(outcome, Published):
        assert validation_error("story", outcome.story) is None


@settings(fuzz, max_examples=max(50, EXAMPLES // 4))
@given(st.lists(st.text(min_size=1, max_size=300), min_size=1, max_size=5), st.text(max_size=80))
def test_the_enricher_takes_any_text(paragraphs: list[str], headline: str) -> None:
    article = Article(headline=headline or "x", paragraphs=paragraphs)
    (enrichment,) = enricher().enrich_many([article])
    body = article.body
    for entity in enrichment.entities:
        for mention in entity.mentions:
            assert body[mention["start"] : mention["end"]] == mention["text"]


@cache
def enricher() -> Enricher:
    return load_enricher("", None)


@fuzz
@given(st.one_of(st.binary(max_size=3000), documents.map(str.encode)), st.sampled_from(FORMATS))
def test_ingest_splits_or_refuses_with_a_reason(data: bytes, format: str) -> None:
    try:
        items = raw_items_from_document(data, source="fuzz", format=format)
    except Rejected as rejected:
        assert rejected.reason
        return
    assert items
    for item in items:
        assert validation_error("raw-item", orjson.loads(item.to_json())) is None


@fuzz
@given(st.one_of(st.binary(max_size=2000), json_value.map(lambda v: json.dumps(v).encode())))
def test_http_bodies_become_raw_items_or_a_reason(body: bytes) -> None:
    try:
        items = raw_items_from_request(body, source="http", format="auto", guid=None, url=None)
    except Rejected as rejected:
        assert rejected.reason
        return
    assert items


HTML_TAGS = [
    "p", "div", "section", "table", "tr", "td", "br", "figure", "figcaption", "blockquote",
    "ul", "li", "span", "strong", "a", "head", "title", "h2", "pre",
]  # fmt: skip


@st.composite
def html_fragment(draw: st.DrawFn, depth: int = 0) -> str:
    """HTML as bodies carry it: blocks, inline elements, line breaks and comments anywhere."""
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.integers(0, 5))
        if kind == 0:
            parts.append("<!-- a note -->")
        elif kind == 1:
            parts.append(draw(st.sampled_from(["<br>", "\n\n", " "])))
        elif kind == 2 or depth >= 4:
            parts.append(draw(st.text(max_size=20)).replace("<", " "))
        else:
            tag = draw(st.sampled_from(HTML_TAGS))
            parts.append(f"<{tag}>{draw(html_fragment(depth + 1))}</{tag}>")
    return "".join(parts)


@fuzz
@given(html_fragment())
def test_html_bodies_read_into_paragraphs_whatever_their_shape(markup: str) -> None:
    assert all(block and block == block.strip() for block in html_blocks(markup))
