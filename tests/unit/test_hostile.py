"""Hostile documents end as dead letters with a clear reason: no crash, no hang, nothing read
from disk or network."""

from __future__ import annotations

import time

import pytest

from pipeline.chain import Cleaned, DeadLetter, clean_step
from tests.conftest import raw_item

LIMIT = 8 * 1024 * 1024


def outcome(content: str, format: str = "auto") -> Cleaned | DeadLetter:
    started = time.perf_counter()
    result = clean_step(raw_item(content, format=format).to_json(), LIMIT)
    assert time.perf_counter() - started < 10, "a hostile document must not hang the stage"
    return result


def reason(content: str, format: str = "auto") -> str:
    result = outcome(content, format)
    assert isinstance(result, DeadLetter)
    return str(result.letter["reason"])


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">'
    + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    + ']><newsItem guid="x"><contentMeta><headline>&lol9;</headline></contentMeta></newsItem>'
)


def test_entity_expansion_is_refused() -> None:
    assert "malformed XML" in reason(BILLION_LAUGHS)


@pytest.mark.parametrize(
    "document",
    [
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<newsItem guid="x"><contentMeta><headline>Head &x;</headline></contentMeta><contentSet>'
        '<inlineData contenttype="text/plain">Body text.</inlineData></contentSet></newsItem>',
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<rss><channel><item><title>Head &x;</title><description>Body text.</description>"
        "</item></channel></rss>",
    ],
)
def test_external_entities_are_never_read(document: str) -> None:
    result = outcome(document)
    if isinstance(result, Cleaned):
        assert "root:" not in result.article.headline + result.article.body


def test_truncated_xml() -> None:
    assert reason('<newsItem guid="x"><contentMeta><headline>Hi</headl').startswith("malformed XML")


def test_deeply_nested_html_and_json() -> None:
    nested = "<html><body>" + "<div>" * 50000 + "<p>Deep.</p>" + "</div>" * 50000 + "</body></html>"
    assert "no article text" in reason(nested)
    assert "depth limit exceeded" in reason("[" * 100000 + "]" * 100000, "ninjs")


def test_binary_and_nul_heavy_content() -> None:
    assert reason("".join(chr(i % 32) for i in range(5000))).startswith("binary or undecodable")
    assert reason("\ufffd" * 100 + " some text").startswith("binary or undecodable")


def test_a_few_stray_control_characters_are_removed_not_fatal() -> None:
    result = outcome("Headline here\n\n" + "Body text that is long enough. " * 20 + "\x00\x07")
    assert isinstance(result, Cleaned)
    assert "\x00" not in result.article.body and "\x07" not in result.article.body


def test_mojibake_is_repaired() -> None:
    result = outcome("Headline\n\nThe plan isnâ€™t dead, the minister said.")
    assert isinstance(result, Cleaned)
    assert result.article.paragraphs == ["The plan isn’t dead, the minister said."]


def test_an_item_over_the_size_limit_is_refused_unread() -> None:
    data = raw_item("x" * (50 * 1024 * 1024)).to_json()
    result = clean_step(data, LIMIT)
    assert isinstance(result, DeadLetter)
    assert str(result.letter["reason"]).startswith(f"item is {len(data)} bytes, over the limit")
