"""The chaos harness: a planned mix of items, waves of production, and the accounting of
every outcome on the output topics against the plan."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from aiokafka import ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient

from agents.kafka.clients import (
    batches_to_end,
    group_caught_up,
    produce_raw_items,
    started_producer,
)
from agents.kafka.security import client_options
from agents.kafka.topics import TopicNames, subscription_topic
from pipeline.chain import item_id_for
from pipeline.config import Settings
from pipeline.records import RawItem, new_item_id, rfc3339, utc_now
from pipeline.subscriptions import Subscription, SubscriptionIndex


def _word(rng: random.Random) -> str:
    return "".join(rng.choice("bcdfghjklmnprstvz") + rng.choice("aeiou") for _ in range(3))


_WORDS = random.Random(1)
VOCABULARY = sorted({_word(_WORDS) for _ in range(4000)})


@dataclass
class Plan:
    """What was sent, and the outcome each item must end as."""

    records: list[bytes | RawItem] = field(default_factory=list)
    expected: dict[str, str] = field(default_factory=dict)
    """item id -> "published:v1", "published:v2", "duplicate" or "rejected"."""
    mix: Counter[str] = field(default_factory=Counter)
    """How many kills, corrections and embargoed stories the plan holds."""


def story_text(rng: random.Random, number: int) -> str:
    def sentence() -> str:
        words = rng.sample(VOCABULARY, 14)
        return " ".join(words).capitalize() + f" {rng.randint(1, 999)}."

    paragraphs = [" ".join(sentence() for _ in range(3)) for _ in range(3)]
    return f"Story {number} {rng.choice(VOCABULARY)} {rng.choice(VOCABULARY)}\n\n" + "\n\n".join(
        paragraphs
    )


def raw(content: str, source: str, guid: str | None, version: str | None) -> RawItem:
    return RawItem(
        id=new_item_id(),
        source=source,
        receivedAt=rfc3339(utc_now()),
        format="text",
        content=content,
        guid=guid,
        version=version,
    )


def in_agency_format(rng: random.Random, text: str) -> str:
    """The story as ANPA-1312, IPTC 7901, NewsML 1.2 or an e-mail would carry it."""
    headline, *paragraphs = text.split("\n\n")
    kind = rng.choice(["anpa", "iptc7901", "newsml1", "email"])
    if kind == "anpa":
        lines = "".join(f"\t   {p}\r\n" for p in paragraphs)
        return (
            "\x16\x16\x01a1234\x1fstate\nr a\x13\x11 BC-Chaos   03-02 0300\r\n"
            f"\x02^BC-Chaos,300<\r\n^{headline}<\r\n{lines}\t   \x03AP-WF-03-02-24 1015GMT<\r\n\x04"
        )
    if kind == "iptc7901":
        body = "\r\n\r\n".join(f"   {p}" for p in paragraphs)
        return (
            f"\x01abc123 4 i 300 x wire 1\r\n\r\nChaos/\r\n\x02{headline} =\r\n\r\n{body}\x03\x04"
        )
    if kind == "newsml1":
        body = "".join(f"<p>{p}</p>" for p in paragraphs)
        return (
            "<NewsML><NewsItem><NewsComponent><NewsLines>"
            f"<HeadLine>{headline}</HeadLine></NewsLines><ContentItem><DataContent><nitf><body>"
            f"<body.content>{body}</body.content></body></nitf></DataContent></ContentItem>"
            "</NewsComponent></NewsItem></NewsML>"
        )
    return (
        "From: Desk <desk@wire.example>\r\nTo: news@example.org\r\n"
        f"Subject: {headline}\r\nDate: Sat, 02 Mar 2024 10:15:00 +0000\r\n\r\n"
        + "\r\n\r\n".join(paragraphs)
    )


EMBARGO_LINE = "EMBARGOED UNTIL 0001 GMT MONDAY DECEMBER 7\n\n"
FLASH_LINE = "FLASH\n\n"


def plan_items(count: int, seed: int) -> Plan:
    """About 50% new stories (a tenth of them embargoed, a tenth flashes, which take the
    fast lane, a tenth in an agency format: ANPA, IPTC 7901, NewsML 1.2 or e-mail), 15% new
    versions (same guid, a paragraph more), 15% redeliveries (same guid, version and text),
    5% kills and 5% corrections of a story (its next version; the story gets nothing after
    them) and 10% malformed items, in an order where everything of a story follows it (same
    key, so same partition)."""
    rng = random.Random(seed)
    plan = Plan()
    stories: list[tuple[str, str]] = []
    versions: dict[str, int] = {}
    live: list[int] = []
    while len(plan.records) < count:
        roll = rng.random()
        if roll < 0.5 or not live:
            guid = f"chaos-{seed}-{len(stories)}"
            text = story_text(rng, len(stories))
            chance = rng.random()
            if chance < 0.1:
                text = EMBARGO_LINE + text
                plan.mix["embargoed"] += 1
            elif chance < 0.2:
                text = FLASH_LINE + text  # through the fast lane, and the routine lane too
                plan.mix["flash"] += 1
            elif chance < 0.3:  # an agency format: a story of its own, never versioned here
                item = raw(in_agency_format(rng, text), "agency-formats", guid, "1")
                plan.records.append(item)
                plan.expected[item.id] = "published:v1"
                plan.mix["agency-formats"] += 1
                stories.append((guid, text))
                continue
            stories.append((guid, text))
            live.append(len(stories) - 1)
            versions[guid] = 1
            item = raw(text, f"agency-{len(stories) % 3}", guid, "1")
            plan.records.append(item)
            plan.expected[item.id] = "published:v1"
        elif roll < 0.65:
            index = rng.choice(live)
            guid, text = stories[index]
            extra = f"{text}\n\nUpdate {rng.randint(1, 10**6)}: {story_text(rng, index)[-200:]}"
            item = raw(extra, f"agency-{(index + 1) % 3}", guid, "2")
            plan.records.append(item)
            # Only the first version 2 per story is new; later ones are redeliveries of it.
            if versions[guid] >= 2:
                plan.expected[item.id] = "duplicate"
            else:
                versions[guid] = 2
                plan.expected[item.id] = "published:v2"
        elif roll < 0.8:
            index = rng.choice(live)
            guid, text = stories[index]
            item = raw(text, f"agency-{(index + 1) % 3}", guid, "1")
            plan.records.append(item)
            plan.expected[item.id] = "duplicate"
        elif roll < 0.9:
            index = rng.choice(live)
            live.remove(index)
            guid, text = stories[index]
            headline = text.removeprefix(EMBARGO_LINE).removeprefix(FLASH_LINE).split("\n\n")[0]
            if roll < 0.85:
                content = f"KILL KILL KILL\n\nPlease kill the item headlined '{headline}'."
                plan.mix["recalled"] += 1
            else:
                content = "CORRECTED\n\n" + text.replace("Story", "Corrected story", 1)
                plan.mix["corrected"] += 1
            item = raw(content, f"agency-{(index + 1) % 3}", guid, "9")
            plan.records.append(item)
            versions[guid] += 1
            plan.expected[item.id] = f"published:v{versions[guid]}"
        else:
            malformed: list[bytes | RawItem] = [
                f"not json {rng.random()}".encode(),
                orjson.dumps({"id": new_item_id(), "source": "x"}),
                raw("", "agency-0", None, None),
            ]
            bad = rng.choice(malformed)
            plan.records.append(bad)
            plan.expected[bad.id if isinstance(bad, RawItem) else item_id_for(bad)] = "rejected"
    return plan


async def produce(settings: Settings, records: list[bytes | RawItem]) -> None:
    """Send records to wire.raw; every one acknowledged (acks=all) or the call fails."""
    producer = await started_producer(settings)
    topic = TopicNames.for_settings(settings).raw
    try:
        items = [r for r in records if isinstance(r, RawItem)]
        report = await produce_raw_items(producer, topic, items)
        assert not report.failures, report.failures
        for record in records:
            if isinstance(record, bytes):
                await producer.send_and_wait(topic, record, key=b"malformed")
    finally:
        await producer.stop()


def drain(settings: Settings, timeout: float) -> None:
    """Wait until the group has caught up twice in a row (the last hops have run too)."""
    deadline = time.monotonic() + timeout
    streak = 0
    while streak < 2:
        if time.monotonic() > deadline:
            committed = asyncio.run(committed_offsets(settings))
            raise AssertionError(f"the pipeline did not drain; committed: {committed}")
        streak = streak + 1 if asyncio.run(group_caught_up(settings)) else 0
        time.sleep(3)


async def read_records(settings: Settings, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of ``topic``, from the beginning to the current end."""
    return [record async for batch in batches_to_end(settings, topic) for record in batch]


async def read_all(settings: Settings, topic: str) -> list[dict[str, object]]:
    """Every record value of ``topic`` as JSON."""
    return [orjson.loads(r.value) for r in await read_records(settings, topic) if r.value]


def trace(settings: Settings, plan: Plan, item_ids: list[str], logs: list[Path]) -> str:
    """Where each of these items was seen: its plan, the records of every topic that carry
    its id (topic, partition, offset), the group's committed offsets, and the log lines
    that name it. Printed when an item is lost, so that a failing run explains itself."""
    names = TopicNames.for_settings(settings)
    topics = [names.raw, names.cleaned, names.unique, names.structured, names.duplicates]
    records = {topic: asyncio.run(read_records(settings, topic)) for topic in topics}
    committed = asyncio.run(committed_offsets(settings))
    lines = [f"committed: {committed}"]
    for item_id in item_ids:
        lines.append(f"{item_id}: planned {plan.expected[item_id]}")
        for topic, found in records.items():
            for record in found:
                if item_id.encode() in (record.value or b""):
                    lines.append(f"  {topic}[{record.partition}]@{record.offset}")
        for log in logs:
            lines.extend(f"  {line}" for line in log.read_text().splitlines() if item_id in line)
    return "\n".join(lines)


async def committed_offsets(settings: Settings) -> dict[str, int]:
    """The worker group's committed offset per topic partition, by name."""
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(settings.faust_id)
    finally:
        await admin.close()
    return {f"{tp.topic}[{tp.partition}]": meta.offset for tp, meta in sorted(offsets.items())}


@dataclass
class SubscriptionSpan:
    """A saved subscription and when it was alive: from its creation (acknowledged by the
    worker) until its deletion was asked for, if it was."""

    name: str
    filter: dict[str, object]
    alive_from: float
    alive_until: float | None = None

    def alive_at(self, seconds: float) -> bool:
        # The command reaches every worker's index a moment after the API acknowledged it.
        settled = self.alive_from + SUBSCRIPTION_SETTLE_S
        return settled <= seconds and (self.alive_until is None or seconds < self.alive_until)


SUBSCRIPTION_SETTLE_S = 3.0


def subscription_missing(settings: Settings, spans: list[SubscriptionSpan]) -> list[str]:
    """Story versions published while a subscription that matches them was alive, yet not
    on that subscription's topic."""
    names = TopicNames.for_settings(settings)
    published = asyncio.run(read_records(settings, names.structured))
    missing = []
    for span in spans:
        index = SubscriptionIndex([Subscription(span.name, dict(span.filter))])
        topic = subscription_topic(settings, span.name)
        received = {
            (story["uri"], story["version"]) for story in asyncio.run(read_all(settings, topic))
        }
        for record in published:
            story = orjson.loads(record.value or b"{}")
            if not span.alive_at(record.timestamp / 1000) or not index.match(story):
                continue
            if (story["uri"], story["version"]) not in received:
                missing.append(f"{span.name}: {story['uri']} v{story['version']}")
    return missing


def never_retrieved(logs: list[Path]) -> list[str]:
    """Log lines of a send failure nobody looked at."""
    return [
        line
        for log in logs
        if log.exists()
        for line in log.read_text().splitlines()
        if "exception was never retrieved" in line
    ]


@dataclass
class Tally:
    items: int
    published: int
    duplicates: int
    dead_letters: int
    lost: list[str]
    doubled: list[str]
    wrong: list[str]
    repeated_notices: int
    subscription_missing: list[str]
    mix: dict[str, int]
    """The plan's story kills (recalled), corrections and embargoed stories."""
    fast_lane: int
    """Planned items the triage copied to the fast lane."""

    def line(self, kills: int, restarts: int, broker_restarts: int) -> str:
        return (
            f"chaos: items={self.items} kills={kills} restarts={restarts} "
            f"broker_restarts={broker_restarts} published={self.published} "
            f"duplicates={self.duplicates} dead_letters={self.dead_letters} "
            f"lost={len(self.lost)} doubled={len(self.doubled)} wrong={len(self.wrong)} "
            f"repeated_notices={self.repeated_notices} "
            f"subscription_missing={len(self.subscription_missing)} "
            + " ".join(
                f"{k.replace('-', '_')}={self.mix.get(k, 0)}"
                for k in ("recalled", "corrected", "embargoed", "flash", "agency-formats")
            )
            + f" fast_lane={self.fast_lane}"
        )


def account(settings: Settings, plan: Plan, spans: list[SubscriptionSpan] | None = None) -> Tally:
    """Every planned item against what the output topics hold."""
    names = TopicNames.for_settings(settings)
    stories = asyncio.run(read_all(settings, names.structured))
    notices = asyncio.run(read_all(settings, names.duplicates))
    letters = asyncio.run(read_all(settings, names.rejected))
    copied = {str(item["id"]) for item in asyncio.run(read_all(settings, names.urgent_raw))}
    outcomes: dict[str, set[str]] = defaultdict(set)
    versions: Counter[tuple[object, object]] = Counter()
    for story in stories:
        newswire = story["newswire"]
        assert isinstance(newswire, dict)
        versions[(story["uri"], story["version"])] += 1
        outcomes[str(newswire["itemId"])].add(f"published:v{story['version']}")
    notice_count = Counter(str(n["itemId"]) for n in notices)
    letter_count = Counter(str(n["itemId"]) for n in letters)
    for item_id in notice_count:
        outcomes[item_id].add("duplicate")
    for item_id in letter_count:
        outcomes[item_id].add("rejected")
    lost = [i for i in plan.expected if not outcomes.get(i)]
    doubled = [f"{uri} v{v}" for (uri, v), n in versions.items() if n > 1]
    doubled += [i for i, kinds in outcomes.items() if len(kinds) > 1]
    wrong = [
        f"{i}: planned {kind}, got {', '.join(sorted(outcomes[i]))}"
        for i, kind in plan.expected.items()
        if outcomes.get(i) and outcomes[i] != {kind}
    ]
    repeated = sum(n - 1 for n in notice_count.values()) + sum(n - 1 for n in letter_count.values())
    return Tally(
        items=len(plan.expected),
        published=len(stories),
        duplicates=len(notice_count),
        dead_letters=len(letter_count),
        lost=lost,
        doubled=doubled,
        wrong=wrong,
        repeated_notices=repeated,
        subscription_missing=subscription_missing(settings, spans or []),
        mix=dict(plan.mix),
        fast_lane=len(copied & plan.expected.keys()),
    )
