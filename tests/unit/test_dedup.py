"""Every dedup rule, both ways: what must be recognised, and what must not be merged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.chain import Cleaned, Duplicate, Unique, clean_step, dedup_step
from pipeline.dedup import DedupConfig, DedupIndex, Sweeper, item_key, rebuild_derived
from pipeline.records import rfc3339
from tests.conftest import raw_item

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PARAGRAPHS = [
    "The city council voted 7-2 on Tuesday to approve a new budget of 48 million dollars "
    "for the coming year, after three hours of debate.",
    "Mayor Ana Ruiz said the budget would pay for 12 new teachers and the repair of the "
    "bridge over the river, closed since March.",
    "Opponents said the plan relied on a tax rise that residents had rejected twice, and "
    "promised to challenge it in court.",
    "The budget takes effect on July 1, the council said in a statement released after the vote.",
]
HEADLINE = "Council approves budget after long debate"


class Desk:
    """Items delivered in order through clean and dedup, one index for all."""

    def __init__(self, config: DedupConfig | None = None) -> None:
        self.index = DedupIndex()
        self.config = config or DedupConfig()
        self.clock = START

    def deliver(
        self,
        headline: str,
        paragraphs: list[str],
        source: str = "agency-a",
        after: timedelta = timedelta(minutes=10),
        **fields: str,
    ) -> Unique | Duplicate:
        self.clock += after
        content = headline + "\n\n" + "\n\n".join(paragraphs)
        item = raw_item(content, source=source, receivedAt=rfc3339(self.clock), **fields)
        cleaned = clean_step(item.to_json(), 1 << 20)
        assert isinstance(cleaned, Cleaned)
        return dedup_step(cleaned, self.index, self.config)


def status(result: Unique | Duplicate) -> str:
    if isinstance(result, Duplicate):
        return f"duplicate:{result.notice['reason']}"
    return result.decision.status


def test_first_item_is_a_new_story_version_one() -> None:
    first = Desk().deliver(HEADLINE, PARAGRAPHS)
    assert isinstance(first, Unique)
    assert (first.decision.status, first.decision.version) == ("new", 1)


def test_redelivery_of_the_same_guid_and_version_is_dropped() -> None:
    desk = Desk()
    first = desk.deliver(HEADLINE, PARAGRAPHS, guid="g1", version="1")
    again = desk.deliver(HEADLINE, PARAGRAPHS, guid="g1", version="1")
    assert isinstance(first, Unique) and isinstance(again, Duplicate)
    assert again.notice["reason"] == "redelivery"
    assert again.notice["duplicateOf"] == first.decision.uri


def test_newer_provider_version_is_a_new_version_and_older_one_is_stale() -> None:
    desk = Desk()
    first = desk.deliver(HEADLINE, PARAGRAPHS, guid="g1", version="2")
    fixed = [*PARAGRAPHS[:3], "The budget takes effect on August 1, the council said."]
    update = desk.deliver(HEADLINE, fixed, guid="g1", version="3")
    stale = desk.deliver(HEADLINE, PARAGRAPHS[:2], guid="g1", version="1")
    assert isinstance(first, Unique) and isinstance(update, Unique)
    assert update.decision.status == "version"
    assert (update.decision.uri, update.decision.version) == (first.decision.uri, 2)
    assert update.decision.version_of == first.decision.uri
    assert update.decision.first_created == first.decision.first_created
    assert status(stale) == "duplicate:stale"


def test_changed_content_under_the_same_guid_without_versions_is_a_version() -> None:
    desk = Desk()
    desk.deliver(HEADLINE, PARAGRAPHS, guid="g1")
    assert status(desk.deliver(HEADLINE, PARAGRAPHS[:3], guid="g1")) == "version"


def test_exact_copy_from_another_source_with_other_boilerplate_is_a_duplicate() -> None:
    desk = Desk()
    first = desk.deliver(HEADLINE, PARAGRAPHS)
    noisy = ["  " + p.replace(". ", ".  ") for p in PARAGRAPHS] + ["Advertisement"]
    copy = desk.deliver(HEADLINE.upper(), noisy, source="agency-b", guid="b-77")
    assert isinstance(first, Unique) and isinstance(copy, Duplicate)
    assert copy.notice["reason"] == "exact"
    assert copy.notice["duplicateOf"] == first.decision.uri


@pytest.mark.parametrize(
    ("headline", "paragraphs"),
    [
        ("UPDATE 1-" + HEADLINE, [*PARAGRAPHS, "Councillor Tom Reed said the vote was a mistake."]),
        (HEADLINE, [*PARAGRAPHS, "Councillor Tom Reed said the vote was a mistake."]),
        ("CORRECTED-" + HEADLINE, [PARAGRAPHS[0].replace("7-2", "6-3"), *PARAGRAPHS[1:]]),
        (
            "Budget passes as opponents vow court fight",
            [PARAGRAPHS[0], PARAGRAPHS[2], PARAGRAPHS[1], PARAGRAPHS[3]],
        ),
    ],
    ids=["marked-extension", "unmarked-extension", "correction", "rewrite-new-headline"],
)
def test_updates_from_the_same_source_without_guid_are_versions(
    headline: str, paragraphs: list[str]
) -> None:
    desk = Desk()
    first = desk.deliver(HEADLINE, PARAGRAPHS)
    update = desk.deliver(headline, paragraphs)
    assert isinstance(first, Unique) and isinstance(update, Unique)
    assert update.decision.status == "version"
    assert update.decision.uri == first.decision.uri


def test_an_update_after_the_version_window_is_a_new_story() -> None:
    desk = Desk(DedupConfig(version_window=timedelta(hours=24)))
    desk.deliver(HEADLINE, PARAGRAPHS)
    late = desk.deliver(
        HEADLINE,
        [*PARAGRAPHS, "A new paragraph, days later, on the appeal."],
        after=timedelta(days=3),
    )
    assert status(late) == "new"


def test_resyndicated_copy_with_a_new_intro_is_a_near_duplicate() -> None:
    desk = Desk()
    first = desk.deliver(HEADLINE, PARAGRAPHS)
    intro = "(Agency C) -- This story first appeared in the Riverside Gazette."
    copy = desk.deliver("Riverside council backs budget", [intro, *PARAGRAPHS], source="agency-c")
    assert isinstance(first, Unique) and isinstance(copy, Duplicate)
    assert copy.notice["reason"] == "near"
    assert 0.85 <= copy.notice["similarity"] <= 1.0


def test_link_policy_publishes_the_copy_linked_to_the_first() -> None:
    desk = Desk(DedupConfig(policy="link"))
    first = desk.deliver(HEADLINE, PARAGRAPHS)
    copy = desk.deliver(
        "Riverside council backs budget",
        ["(Agency C) -- Reprinted.", *PARAGRAPHS],
        source="agency-c",
    )
    assert isinstance(first, Unique) and isinstance(copy, Unique)
    assert copy.decision.status == "new"
    assert copy.decision.uri != first.decision.uri
    assert copy.decision.duplicate_of == first.decision.uri


REPORT = [
    "NEW YORK (Wire) -- The Dow Jones Industrial Average {a} {b} points, or {c} percent, to "
    "{d} on {day}, while the S&P 500 moved {e} percent to {f}.",
    "The Nasdaq Composite ended at {g}, and the yield on the 10-year Treasury note stood at "
    "{h} percent, traders said.",
]


@pytest.mark.parametrize("source", ["agency-a", "agency-b"])
def test_daily_reports_from_one_template_are_distinct_stories(source: str) -> None:
    desk = Desk()
    monday = dict(
        a="rose",
        b="112",
        c="0.3",
        d="38,410",
        day="Monday",
        e="0.4",
        f="5,120",
        g="16,020",
        h="4.21",
    )
    tuesday = dict(
        a="fell",
        b="87",
        c="0.2",
        d="38,323",
        day="Tuesday",
        e="0.1",
        f="5,115",
        g="15,980",
        h="4.25",
    )
    headline = "Stocks close as investors weigh rate outlook"
    first = desk.deliver(headline, [p.format(**monday) for p in REPORT])
    second = desk.deliver(
        headline, [p.format(**tuesday) for p in REPORT], source=source, after=timedelta(days=1)
    )
    assert status(first) == "new"
    assert status(second) == "new"


def test_two_stories_on_the_same_topic_are_distinct() -> None:
    desk = Desk()
    desk.deliver(HEADLINE, PARAGRAPHS)
    other = [
        "Teachers in the city said on Wednesday they would strike next month over pay, a day "
        "after the council passed its budget.",
        "The union said 80 percent of members backed the strike in a ballot.",
    ]
    assert status(desk.deliver("Teachers to strike over pay", other)) == "new"
    assert status(desk.deliver("Teachers to strike over pay", other, source="agency-b")) == (
        "duplicate:exact"
    )


def test_expired_stories_leave_every_mapping() -> None:
    desk = Desk()
    desk.deliver(HEADLINE, PARAGRAPHS, guid="g1")
    assert desk.index.stories and desk.index.keys and desk.index.bands
    sweeper = Sweeper(desk.index, timedelta(days=7))
    assert sweeper.step(START + timedelta(days=3)) == 0
    assert sweeper.step(START + timedelta(days=9)) == 1
    mappings = (desk.index.stories, desk.index.keys, desk.index.bands)
    assert [dict(m) for m in mappings] == [{}, {}, {}]
    assert status(desk.deliver(HEADLINE, PARAGRAPHS, guid="g1")) == "new"


def test_the_indexes_rebuilt_from_the_stories_are_the_ones_kept_as_they_came() -> None:
    """The worker keeps only the stories table and rebuilds the lookup keys, item decisions
    and bands from it: new stories, versions (whose old bands left), a headline key taken
    over by a later story and expired stories all agree, and the rebuilt index finds a near
    copy."""
    desk = Desk()
    desk.deliver("An old story of the week", ["Text of the old story here."])
    desk.deliver(HEADLINE, PARAGRAPHS, guid="g1", after=timedelta(days=8))
    update = desk.deliver(HEADLINE, PARAGRAPHS[:3], guid="g1", version="2")
    assert status(update) == "version"
    for number in range(3):
        desk.deliver(f"Story number {number} of the day", [f"Text of story {number} here."])
    report = ["Shares rose in early trade on the exchange, dealers said."]
    first = desk.deliver("Market report", report)
    later = desk.deliver("Market report", ["Bonds fell in late trade."], after=timedelta(days=1))
    assert isinstance(first, Unique) and isinstance(later, Unique)
    assert later.decision.uri != first.decision.uri
    taken = {k for k, v in desk.index.keys.items() if v == later.decision.uri.split(":")[-1]}
    assert taken & set(desk.index.stories[first.decision.uri.split(":")[-1]]["keys"]) == set()
    Sweeper(desk.index, timedelta(days=7), batch=10).step(desk.clock + timedelta(hours=1))
    assert len(desk.index.stories) == 6  # the old story expired
    restored = DedupIndex(stories=dict(desk.index.stories))
    assert rebuild_derived(restored) == 6
    assert restored.keys == desk.index.keys
    assert {k: sorted(v) for k, v in restored.bands.items()} == {
        k: sorted(v) for k, v in desk.index.bands.items()
    }
    desk.index = restored
    copy = ["From our correspondent in the city.", *PARAGRAPHS[:3]]
    assert status(desk.deliver("Budget passes", copy, source="agency-b")) == "duplicate:near"


def test_the_sweeper_expires_a_few_stories_at_a_time_and_keeps_fresh_ones() -> None:
    desk = Desk()
    for number in range(10):
        desk.deliver(
            f"Story number {number} of the day",
            [f"Text of story {number} here."],
            after=timedelta(days=1),
        )
    sweeper = Sweeper(desk.index, timedelta(days=7), batch=3)
    now = desk.clock + timedelta(hours=1)
    forgotten = sum(sweeper.step(now) for _ in range(20))
    assert forgotten == 3  # the stories delivered more than seven days before ``now``
    assert len(desk.index.stories) == 7


def test_the_sweeper_keeps_a_story_whose_later_version_is_fresh() -> None:
    """The sweep goes by each story's last version: a story updated since its first version
    stays, an older one goes, on the live index and on one rebuilt from the stories."""
    desk = Desk()
    first = desk.deliver(HEADLINE, PARAGRAPHS, guid="g1")
    other = desk.deliver("Story of another day", ["Text of that story."], after=timedelta(days=1))
    update = desk.deliver(HEADLINE, PARAGRAPHS[:3], guid="g1", after=timedelta(days=4))
    assert status(update) == "version"
    restored = DedupIndex(stories=dict(desk.index.stories))
    rebuild_derived(restored)
    for index in (desk.index, restored):
        sweeper = Sweeper(index, timedelta(days=7))
        assert sweeper.step(desk.clock + timedelta(days=3, hours=1)) == 1
        assert isinstance(first, Unique) and isinstance(other, Unique)
        assert set(index.stories) == {first.decision.uri.split(":")[-1]}


def replay(desk: Desk, item_json: bytes) -> Unique | Duplicate:
    cleaned = clean_step(item_json, 1 << 20)
    assert isinstance(cleaned, Cleaned)
    return dedup_step(cleaned, desk.index, desk.config)


def test_a_replayed_item_gets_its_first_decision_again() -> None:
    """Kafka redelivers a record after a crash: the same item id must not become a duplicate
    of its own story, nor a second version."""
    desk = Desk()
    story = raw_item(HEADLINE + "\n\n" + "\n\n".join(PARAGRAPHS), guid="g1")
    first = replay(desk, story.to_json())
    update = raw_item(HEADLINE + "\n\n" + "\n\n".join(PARAGRAPHS[:3]), guid="g1")
    second = replay(desk, update.to_json())
    copy = raw_item(HEADLINE + "\n\n" + "\n\n".join(PARAGRAPHS[:3]), source="agency-b")
    third = replay(desk, copy.to_json())
    assert isinstance(first, Unique) and isinstance(second, Unique)
    assert isinstance(third, Duplicate)
    stories = dict(desk.index.stories)

    again = [replay(desk, item.to_json()) for item in (story, update, copy)]
    assert isinstance(again[0], Unique) and isinstance(again[1], Unique)
    assert (again[0].decision.status, again[0].decision.uri, again[0].decision.version) == (
        "new",
        first.decision.uri,
        1,
    )
    assert (again[1].decision.status, again[1].decision.version) == ("version", 2)
    assert again[0].decision.replay and again[1].decision.replay
    assert isinstance(again[2], Duplicate)
    assert again[2].notice["duplicateOf"] == third.notice["duplicateOf"]
    assert dict(desk.index.stories) == stories  # a replay changes nothing


def test_a_replay_after_a_restart_gets_its_first_decision_from_the_stories_alone() -> None:
    """A worker that restarts keeps only the stories table: an item redelivered after the
    crash is still decided as it was, from the decisions kept with its story."""
    desk = Desk()
    story = raw_item(HEADLINE + "\n\n" + "\n\n".join(PARAGRAPHS), guid="g1")
    update = raw_item(HEADLINE + "\n\n" + "\n\n".join(PARAGRAPHS[:3]), guid="g1")
    first, second = replay(desk, story.to_json()), replay(desk, update.to_json())
    assert isinstance(first, Unique) and isinstance(second, Unique)
    desk.index = DedupIndex(stories=dict(desk.index.stories))
    rebuild_derived(desk.index)

    again = replay(desk, story.to_json())
    assert isinstance(again, Unique) and again.decision.replay
    assert (again.decision.status, again.decision.uri) == ("new", first.decision.uri)
    newer = raw_item(HEADLINE + "\n\n" + "\n\n".join(PARAGRAPHS[:2]), guid="g1")
    third = replay(desk, newer.to_json())
    assert isinstance(third, Unique)
    assert (third.decision.status, third.decision.version) == ("version", 3)


def test_a_story_keeps_its_latest_item_decisions_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """A story resent all week keeps a bounded record: the oldest item decisions go, from
    the record and from the lookup keys alike, and a copy still finds the story."""
    monkeypatch.setattr("pipeline.dedup.index.KEPT_DECISIONS", 3)
    desk = Desk()
    items = [raw_item(HEADLINE + "\n\n" + "\n\n".join(PARAGRAPHS)) for _ in range(5)]
    results = [replay(desk, item.to_json()) for item in items]
    assert [isinstance(result, Duplicate) for result in results] == [False, *[True] * 4]
    (story,) = desk.index.stories.values()
    assert list(story["dec"]) == [item_key(item.id) for item in items[2:]]
    assert {k for k in desk.index.keys if k.startswith("i:")} == set(story["dec"])
    assert isinstance(replay(desk, items[0].to_json()), Duplicate)


def test_an_exact_copy_is_found_by_the_story_id_when_its_fingerprint_key_was_lost() -> None:
    desk = Desk()
    text = HEADLINE + "\n\n" + "\n\n".join(PARAGRAPHS)
    first = replay(desk, raw_item(text).to_json())
    assert isinstance(first, Unique)
    for key in [k for k in desk.index.keys if k.startswith("f:")]:
        del desk.index.keys[key]
    copy = replay(desk, raw_item(text).to_json())
    assert isinstance(copy, Duplicate)
    assert (copy.notice["duplicateOf"], copy.notice["reason"]) == (first.decision.uri, "exact")


def test_forgetting_a_story_forgets_its_items() -> None:
    desk = Desk(DedupConfig(retention=timedelta(days=1)))
    desk.deliver(HEADLINE, PARAGRAPHS)
    desk.deliver(HEADLINE, PARAGRAPHS, source="agency-b")
    assert any(key.startswith("i:") for key in desk.index.keys)
    Sweeper(desk.index, timedelta(days=1)).step(START + timedelta(days=3))
    assert dict(desk.index.keys) == {}
    assert dict(desk.index.stories) == {}
