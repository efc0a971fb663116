"""ninjs input: the IPTC examples that carry story text become articles with their metadata."""

from __future__ import annotations

import orjson
import pytest

from pipeline.clean import clean
from pipeline.records import Rejected
from tests.conftest import raw_item, shared_path

TEXT_EXAMPLES = {
    "ninjsExSimpleText_3.json": "Captain of wrecked cruise ship on trial in Italy",
    "dpa_text.json": "Faktencheck Derby-Elfmeter: Hat Schiedsrichter Zwayer recht?",
    "tt_text_image_3.json": "Militärövning i jätteformat hålls 2023",
}


@pytest.mark.parametrize(("name", "headline"), sorted(TEXT_EXAMPLES.items()))
def test_ninjs_text_examples(name: str, headline: str) -> None:
    path = shared_path(f"reference/ninjs/examples/{name}")
    document = orjson.loads(path.read_bytes())
    article = clean(raw_item(path.read_text()))
    assert article.headline == headline
    assert article.guid == document["uri"]
    assert len(article.paragraphs) >= 2
    assert all(paragraph.strip() for paragraph in article.paragraphs)


def test_simple_text_keeps_paragraphs_and_dateline() -> None:
    path = shared_path("reference/ninjs/examples/ninjsExSimpleText_3.json")
    article = clean(raw_item(path.read_text()))
    assert len(article.paragraphs) == 4
    assert article.paragraphs[0].startswith("The trial of the captain")
    assert article.dateline is not None and article.dateline.agency == "AP"
    assert article.byline == "Paulo Santalucia and Frances d'Emilio"


def test_non_text_ninjs_items_are_rejected_with_the_reason() -> None:
    with pytest.raises(Rejected, match="type 'picture' has no story text"):
        clean(raw_item('{"uri": "urn:x", "type": "picture"}'))
