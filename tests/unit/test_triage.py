"""The triage's lane for each format, and its agreement with the full readers: the lane is
read cheaply off the raw record, the story's urgency by the clean stage, and the two agree."""

from __future__ import annotations

import orjson
import pytest

from pipeline.chain import Cleaned, clean_step
from pipeline.records import RawItem
from pipeline.triage import in_fast_lane, sniff
from tests.conftest import raw_item

BODY = "The first paragraph of the story, long enough to be one."


def ninjs(**fields: object) -> str:
    item = {"uri": "urn:x:1", "headline": "Quake hits", "body_text": BODY, **fields}
    return orjson.dumps(item).decode()


def newsml(urgency: str, version: str = "1") -> str:
    return (
        f'<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="urn:x:2" version="{version}">'
        f"<contentMeta><urgency>{urgency}</urgency><headline>Quake hits</headline></contentMeta>"
        f"<contentSet><inlineXML><nitf><body><body.content><p>{BODY}</p></body.content></body>"
        "</nitf></inlineXML></contentSet></newsItem>"
    )


CASES = [
    (ninjs(urgency=1), 1),
    (ninjs(Urgency=2), 2),
    (ninjs(urgency=4), 4),
    (ninjs(urgency="1"), None),  # ninjs 3 makes it an integer; a string is not read
    (ninjs(), None),
    (newsml("2"), 2),
    (newsml(" 1 "), 1),
    (newsml("5"), 5),
    (f"FLASH\n\nQuake hits the capital\n\n{BODY}", 1),
    (f"BULLETIN BULLETIN\n\nQuake hits the capital\n\n{BODY}", 2),
    (f"URGENT\n\nQuake hits the capital\n\n{BODY}", 3),
    (f"EMBARGOED UNTIL 0001 GMT MONDAY DECEMBER 7\n\nFLASH\n\nQuake hits\n\n{BODY}", 1),
    (f"Flash floods hit the coast\n\n{BODY}", None),
    (f"FLASH FLOODS HIT THE COAST\n\n{BODY}", None),
    (f"Quake hits the capital\n\n{BODY}\n\nFLASH", None),  # below the story: not an agency line
]


@pytest.mark.parametrize(("content", "urgency"), CASES)
def test_the_triage_reads_the_urgency_each_format_gives(content: str, urgency: int | None) -> None:
    assert sniff(raw_item(content).to_json()).urgency == urgency


@pytest.mark.parametrize(("content", "urgency"), CASES)
def test_the_lane_agrees_with_the_clean_stage(content: str, urgency: int | None) -> None:
    record = raw_item(content).to_json()
    cleaned = clean_step(record, 10_000_000)
    assert isinstance(cleaned, Cleaned)
    assert cleaned.article.urgency == urgency
    assert in_fast_lane(record) == (urgency is not None and urgency <= 2)


def test_the_declared_format_decides_how_the_triage_reads() -> None:
    assert in_fast_lane(raw_item(ninjs(urgency=1), format="ninjs").to_json())
    assert not in_fast_lane(raw_item(ninjs(urgency=1), format="text").to_json())
    page = f"<html><body><p>FLASH</p><p>{BODY}</p></body></html>"
    assert not in_fast_lane(raw_item(page).to_json())


@pytest.mark.parametrize(
    "record",
    [b"\x00\x01 not json", b"[1, 2]", b'{"content": 5}', raw_item("{not ninjs").to_json()],
)
def test_what_is_no_raw_item_stays_in_the_routine_lane(record: bytes) -> None:
    assert not in_fast_lane(record)  # the clean stage dead-letters it, with its reason


@pytest.mark.parametrize(
    ("record", "fast"),
    [
        (raw_item(ninjs(urgency=1, version="2")), False),
        (raw_item(ninjs(urgency=1, version="1")), True),
        (raw_item(ninjs(urgency=1, version="0")), True),  # AP counts from 0
        (raw_item(newsml("1", version="3")), False),
        (raw_item(newsml("1", version="1")), True),
        (raw_item(f"FLASH\n\nQuake hits\n\n{BODY}", guid="g", version="4"), False),
        (raw_item(f"FLASH\n\nQuake hits\n\n{BODY}", guid="g", version="1"), True),
    ],
)
def test_only_a_first_version_takes_the_fast_lane(record: RawItem, fast: bool) -> None:
    # A later version stays behind the versions before it, which may still be queued.
    assert in_fast_lane(record.to_json()) == fast
