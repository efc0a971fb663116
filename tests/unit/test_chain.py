"""The stage chain as ``newswire process`` runs it: outcomes for good, repeated and bad items."""

from __future__ import annotations

import base64

import orjson
import pytest

from pipeline.chain import (
    Cleaned,
    DeadLetter,
    Duplicate,
    Published,
    Unique,
    clean_step,
    dedup_step,
    run_chain,
)
from pipeline.dedup import DedupConfig, DedupIndex
from pipeline.validation import validation_error
from tests.conftest import SEED_HEADLINE, raw_item

MAX_BYTES = 1024 * 1024
STORY = "A headline for the test\n\nThe first paragraph of the story.\n\nThe second one."


CONFIG = DedupConfig()


def run(data: bytes, index: DedupIndex | None = None) -> Published | Duplicate | DeadLetter:
    return run_chain(data, DedupIndex() if index is None else index, MAX_BYTES, True, CONFIG)


def test_seed_is_published_as_a_valid_story(seed_text: str) -> None:
    outcome = run(raw_item(seed_text, source="upi", guid="upi-1").to_json())
    assert isinstance(outcome, Published)
    story = outcome.story
    assert validation_error("story", story) is None
    assert story["headlines"] == [{"role": "main", "value": SEED_HEADLINE}]
    body = story["bodies"][0]
    assert body["value"].count("\n\n") == 11
    assert body["charCount"] == len(body["value"])
    assert story["newswire"]["dateline"]["agency"] == "UPI"
    assert story["altIds"] == [{"role": "guid", "value": "upi-1"}]
    assert story["associations"][0]["by"] == "File photo by Facundo Arrizabalaga/EPA"
    assert {"name": "UPI", "role": "originator"} in story["infoSources"]


def test_same_content_again_is_a_duplicate_of_the_first_story() -> None:
    index = DedupIndex()
    first = run(raw_item(STORY).to_json(), index)
    again = run(
        raw_item("  " + STORY.upper().replace(".", " .") + "\n\nAdvertisement").to_json(), index
    )
    assert isinstance(first, Published)
    assert isinstance(again, Duplicate)
    assert again.notice["duplicateOf"] == first.story["uri"]
    assert validation_error("duplicate-notice", again.notice) is None


def test_a_different_story_is_not_a_duplicate() -> None:
    index = DedupIndex()
    run(raw_item(STORY).to_json(), index)
    other = run(raw_item(STORY.replace("second", "third")).to_json(), index)
    assert isinstance(other, Published)


def test_skip_dedup_publishes_every_copy() -> None:
    data = raw_item(STORY).to_json()
    assert isinstance(run_chain(data, None, MAX_BYTES, True, CONFIG), Published)
    assert isinstance(run_chain(data, None, MAX_BYTES, True, CONFIG), Published)


@pytest.mark.parametrize(
    ("data", "stage", "reason", "code"),
    [
        (b"not json at all", "decode", "not a JSON raw item", "not-json"),
        (b"\xff\xfe\x00garbage", "decode", "not a JSON raw item", "not-json"),
        (b"[1, 2, 3]", "decode", "must be a JSON object", "not-raw-item"),
        (b'{"id": "a", "source": "s"}', "decode", "is a required property", "not-raw-item"),
        (
            b'{"id": 7, "source": "s", "receivedAt": "2024-01-01T00:00:00Z", '
            b'"format": "text", "content": "x"}',
            "decode",
            'is not of type "string"',
            "not-raw-item",
        ),
        (
            b'{"id": "a", "source": "s", "receivedAt": "yesterday", "format": "text", '
            b'"content": "x"}',
            "decode",
            "not an RFC 3339 time",
            "not-raw-item",
        ),
        (raw_item("").to_json(), "clean", "the document is empty", "no-text"),
        (
            raw_item("{not ninjs", format="ninjs").to_json(),
            "clean",
            "not valid ninjs JSON",
            "malformed",
        ),
        (b"[" * 5000 + b"]" * 5000, "decode", "not a JSON raw item", "not-json"),
    ],
)
def test_bad_input_becomes_a_dead_letter_with_the_original_bytes(
    data: bytes, stage: str, reason: str, code: str
) -> None:
    outcome = run(data)
    assert isinstance(outcome, DeadLetter)
    assert outcome.letter["stage"] == stage
    assert reason in outcome.letter["reason"]
    assert outcome.letter["code"] == code
    assert base64.b64decode(outcome.letter["original"]) == data
    assert validation_error("dead-letter", outcome.letter) is None


def test_an_item_over_the_size_limit_is_rejected_before_parsing() -> None:
    data = raw_item("x" * 2000).to_json()
    outcome = run_chain(data, DedupIndex(), 1024, True, CONFIG)
    assert isinstance(outcome, DeadLetter)
    assert "over the limit of 1024" in outcome.letter["reason"]
    assert outcome.letter["code"] == "too-large"


def test_a_dead_letter_keeps_the_item_id_when_it_can_be_read() -> None:
    outcome = run(orjson.dumps({"id": "item-42", "source": 3}))
    assert isinstance(outcome, DeadLetter)
    assert outcome.item_id == "item-42"


def test_a_cleaned_item_is_handed_on_as_it_was_read_and_reads_back_the_same() -> None:
    """Dedup hands the cleaned JSON it read on to publish as it is, not encoded again."""
    cleaned = clean_step(raw_item(STORY).to_json(), MAX_BYTES)
    assert isinstance(cleaned, Cleaned)
    # Indented: bytes no fresh encoding would make, so only a hand-on keeps them.
    as_read = orjson.dumps(cleaned.to_dict(), option=orjson.OPT_INDENT_2)
    unique = dedup_step(Cleaned.from_json(as_read), DedupIndex(), CONFIG)
    assert isinstance(unique, Unique)
    value = unique.to_json()
    assert b'"cleaned":' + as_read in value
    again = Unique.from_json(value)
    assert again.cleaned.to_json() == cleaned.to_json()  # encoded afresh: the same
    assert again.decision == unique.decision
