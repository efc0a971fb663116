"""The bounds every door applies, and what a user gets when one is crossed."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from agents.web.auth import bearer_allows
from pipeline.chain import DeadLetter, clean_step, stage_failure
from pipeline.config import ConfigError, Settings
from pipeline.formats import MAX_STORIES_PER_DOCUMENT, split_document
from pipeline.ingest import raw_items_from_request
from pipeline.limits import MAX_ORIGINAL_BYTES, impossible_time, nesting_depth
from pipeline.records import Rejected, dead_letter
from pipeline.subscriptions import FilterError, check_subscription, saved_subscriptions
from tests.conftest import raw_item

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def deep(depth: int) -> bytes:
    return b'{"content": "x", "meta": ' + b'{"x": ' * depth + b"1" + b"}" * depth + b"}"


def test_nesting_is_counted_without_recursion() -> None:
    chain: object = 1
    for _ in range(5000):
        chain = [chain]
    assert nesting_depth(chain) == 65  # counted only up to one past the limit
    assert nesting_depth({"a": [1, {"b": 2}]}) == 3


def test_a_null_or_deep_record_on_the_wire_is_a_dead_letter() -> None:
    for data in (None, b"", deep(300)):
        letter = clean_step(data, 1 << 20)
        assert isinstance(letter, DeadLetter)
        assert letter.letter["code"] in ("not-raw-item", "malformed")


@pytest.mark.parametrize(
    ("moment", "wrong"),
    [
        (datetime(1969, 12, 31, tzinfo=UTC), "before 1970"),
        (NOW + timedelta(days=2), "ahead of now"),
        (NOW + timedelta(hours=20), None),
        (datetime(1987, 3, 2, tzinfo=UTC), None),
    ],
)
def test_impossible_times(moment: datetime, wrong: str | None) -> None:
    found = impossible_time(moment, NOW)
    assert (found is None) if wrong is None else (wrong in str(found))


@pytest.mark.parametrize("body", [b"null", b"42", b"[1, 2, 3]", b'"text"'])
def test_json_that_is_not_an_object_is_refused_at_the_door(body: bytes) -> None:
    with pytest.raises(Rejected, match="must be an object"):
        raw_items_from_request(body, source="http", format="auto", guid=None, url=None)


def test_a_deep_json_body_is_refused_at_the_door() -> None:
    with pytest.raises(Rejected, match="nested deeper"):
        raw_items_from_request(deep(100), source="http", format="auto", guid=None, url=None)


def test_a_dead_letter_carries_at_most_a_mib_with_the_length_and_digest() -> None:
    original = b"y" * (MAX_ORIGINAL_BYTES + 10)
    letter = dead_letter("item", Rejected("decode", "too big", "too-large"), original)
    assert len(base64.b64decode(letter["original"])) == MAX_ORIGINAL_BYTES
    assert letter["originalBytes"] == len(original)
    assert letter["originalSha256"] == hashlib.sha256(original).hexdigest()
    small = dead_letter("item", Rejected("decode", "bad", "malformed"), b"abc")
    assert "originalTruncated" not in small


def test_a_later_stage_failure_names_the_item_and_carries_the_raw_item() -> None:
    item = raw_item("Headline\n\nBody.")
    record = orjson.dumps({"cleaned": {"item": item.to_dict(), "article": {}}})
    failure = stage_failure("publish", record, KeyError("headline"))
    assert failure.item_id == item.id
    assert failure.letter["code"] == "unexpected" and failure.letter["stage"] == "publish"
    assert orjson.loads(base64.b64decode(failure.letter["original"])) == item.to_dict()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({"name": "abc\n", "filter": {}}, "subscription name"),
        ({"name": "desk", "filters": {"places": ["RU"]}}, "unknown subscription fields"),
        ({"name": "Desk", "filter": {}}, "subscription name"),
    ],
)
def test_subscription_names_are_matched_whole_and_fields_known(
    value: dict[str, object], reason: str
) -> None:
    with pytest.raises(FilterError, match=reason):
        check_subscription(value)


def test_a_name_saved_by_an_older_version_is_never_routed_to() -> None:
    saved = saved_subscriptions([("abc\n", {"places": ["RU"]}), ("desk", {"places": ["RU"]})])
    assert [s.name for s in saved] == ["desk"]


def test_a_worker_beyond_loopback_needs_a_token_or_the_operators_word() -> None:
    Settings.load({"NEWSWIRE_WEB_HOST": "127.0.0.2"}).check_listening()
    Settings.load({"NEWSWIRE_WEB_HOST": "0.0.0.0", "NEWSWIRE_API_TOKEN": "t"}).check_listening()
    open_on_purpose = {"NEWSWIRE_WEB_HOST": "0.0.0.0", "NEWSWIRE_ALLOW_OPEN_API": "1"}
    Settings.load(open_on_purpose).check_listening()
    with pytest.raises(ConfigError, match="NEWSWIRE_API_TOKEN"):
        Settings.load({"NEWSWIRE_WEB_HOST": "0.0.0.0"}).check_listening()


def test_topic_name_parts_are_checked() -> None:
    with pytest.raises(ConfigError, match="TOPIC_PREFIX"):
        Settings.load({"NEWSWIRE_TOPIC_PREFIX": "desk\n"})


def test_a_header_that_is_not_utf8_is_no_token() -> None:
    assert not bearer_allows({"Authorization": "Bearer d\udce9sk"}, "desk")


def rss(entries: int) -> str:
    items = "".join(
        f"<item><title>Story {n}</title><guid>g{n}</guid><description>{n}.</description></item>"
        for n in range(entries)
    )
    return f"<rss version='2.0'><channel><title>Wire</title>{items}</channel></rss>"


def test_a_feed_splits_into_one_feed_per_entry_with_its_channel() -> None:
    _, parts = split_document(rss(3), "auto")
    assert [guid for _, guid in parts] == ["g0", "g1", "g2"]
    for n, (document, _) in enumerate(parts):
        assert "<title>Wire</title>" in document and f"Story {n}" in document
        assert document.count("<item>") == 1


def test_a_feed_of_too_many_entries_is_refused_whole() -> None:
    with pytest.raises(Rejected, match="send it in parts"):
        split_document(rss(MAX_STORIES_PER_DOCUMENT + 1), "auto")
