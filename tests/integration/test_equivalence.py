"""Batch and stream decide alike: a mixed corpus (an archive months old and items from today,
redeliveries, versions, rewrites, templated look-alikes, copies from other sources, a
malformed item) goes through ``newswire process`` and through the worker on the real broker,
and every item id gets the same outcome from both, exactly once on the worker's topics."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from agents.kafka.clients import produce_raw_items, started_producer
from agents.kafka.topics import TopicNames
from pipeline.config import Settings
from pipeline.records import RawItem, rfc3339
from tests.chaos.harness import read_all
from tests.conftest import ROOT
from tests.integration.conftest import WorkerProcess, environment, isolated, start_worker

pytestmark = pytest.mark.kafka

ARCHIVE = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
TODAY = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6)
STORY = [
    "The port authority in {place} said on Monday that {count} container ships were waiting "
    "to berth after a strike by tug crews entered its third day.",
    "Shipping lines said the delays would cost them {cost} million dollars a week and asked "
    "the government to intervene.",
    "Union leaders said the strike would go on until the authority agreed to talks on pay.",
]
BOND = [
    "{issuer} is issuing a {amount} mln dlr eurobond due May 7, 1992 paying eight pct and "
    "priced at 101-1/8, lead manager {manager} said.",
    "The issue is available in denominations of 5,000 dlrs and will be listed in Luxembourg.",
]


def item(
    number: int,
    when: datetime,
    headline: str,
    paragraphs: list[str],
    source: str = "wire",
    **fields: str,
) -> RawItem:
    return RawItem(
        id=f"eq-{number:03d}",
        source=source,
        receivedAt=rfc3339(when),
        format="text",
        content=headline + "\n\n" + "\n\n".join(paragraphs),
        **fields,
    )


def corpus() -> list[RawItem | bytes]:
    """In delivery order; numbers are item ids."""
    items: list[RawItem | bytes] = []
    for era, start in (("archive", ARCHIVE), ("today", TODAY)):
        base = 0 if era == "archive" else 100

        def at(minutes: int, origin: datetime = start) -> datetime:
            return origin + timedelta(minutes=minutes)

        ports = [("Rotterdam", 41, 12), ("Antwerp", 30, 9), ("Hamburg", 17, 5)]
        for n, (place, count, cost) in enumerate(ports):
            text = [p.format(place=place, count=count, cost=cost) for p in STORY]
            headline = f"{place.upper()} PORT STRIKE STRANDS SHIPS"
            guid = {"guid": f"{era}-port-{n}", "version": "1"}
            items.append(item(base + n * 10 + 1, at(n * 5), headline, text, **guid))
            # A redelivery, a newer provider version, a copy from another agency.
            items.append(item(base + n * 10 + 2, at(n * 5 + 1), headline, text, **guid))
            newer = {"guid": f"{era}-port-{n}", "version": "2"}
            more = [*text, "Talks were set for Wednesday, the authority said."]
            items.append(item(base + n * 10 + 3, at(n * 5 + 30), headline, more, **newer))
            items.append(item(base + n * 10 + 4, at(n * 5 + 31), headline, text, source="other"))
        # A rewrite without guid two hours on, under a new headline.
        lead = STORY[0].format(place="Rotterdam", count=41, cost=12)
        items.append(
            item(base + 41, at(120), "TUG STRIKE HOLDS 41 SHIPS OFF ROTTERDAM", [lead, STORY[2]])
        )
        # Templated look-alikes: other issuers' bonds from the same source.
        issuers = [("Walt Disney Co Ltd", 60, "Nomura"), ("IBM Australia Credit Ltd", 75, "Daiwa")]
        for n, (issuer, amount, manager) in enumerate(issuers):
            text = [BOND[0].format(issuer=issuer, amount=amount, manager=manager), BOND[1]]
            items.append(
                item(base + 51 + n, at(150 + n), f"{issuer.upper()} ISSUES EUROBOND", text)
            )
        # The same daily report the next day, with another figure.
        for n, amount in enumerate(("two", "1.5")):
            report = [
                f"The Federal Reserve arranged {amount} billion dlrs of customer repurchase "
                "agreements, a Fed spokesman said.",
                "Dealers said Federal funds were trading at 6-3/8 pct at the time.",
            ]
            items.append(item(base + 61 + n, at(200 + n * 24 * 60), "FED ADDS RESERVES", report))
    items.append(b"not a raw item")
    return items


def outcome_of(line: dict[str, Any]) -> tuple[str, str]:
    if line["status"] == "published":
        return "published", f"{line['story']['uri']} v{line['story']['version']}"
    if line["status"] == "duplicate":
        return "duplicate", str(line["duplicateOf"])
    return "rejected", ""


def batch_outcomes(records: list[RawItem | bytes], tmp_path: Path) -> dict[str, tuple[str, str]]:
    path = tmp_path / "corpus.jsonl"
    path.write_bytes(b"".join(r.to_json() + b"\n" for r in records if isinstance(r, RawItem)))
    done = subprocess.run(
        [sys.executable, "-m", "agents.cli", "process", "--emit", "all", str(path)],
        cwd=ROOT,
        env=environment(Settings.load()) | {"NEWSWIRE_ENRICH": "false"},
        capture_output=True,
        timeout=300,
        check=True,
    )
    lines = [orjson.loads(line) for line in done.stdout.splitlines()]
    return {line["itemId"]: outcome_of(line) for line in lines}


def stream_outcomes(settings: Settings) -> dict[str, list[tuple[str, str]]]:
    names = TopicNames.for_settings(settings)
    found: dict[str, list[tuple[str, str]]] = {}
    for story in asyncio.run(read_all(settings, names.structured)):
        newswire = story["newswire"]
        assert isinstance(newswire, dict)
        found.setdefault(str(newswire["itemId"]), []).append(
            ("published", f"{story['uri']} v{story['version']}")
        )
    for notice in asyncio.run(read_all(settings, names.duplicates)):
        found.setdefault(str(notice["itemId"]), []).append(
            ("duplicate", str(notice["duplicateOf"]))
        )
    for letter in asyncio.run(read_all(settings, names.rejected)):
        found.setdefault(str(letter["itemId"]), []).append(("rejected", ""))
    return found


async def deliver_in_order(settings: Settings, records: list[RawItem | bytes]) -> None:
    """One at a time, each once its outcome is out: the order batch mode reads them in
    (items on different partitions are otherwise cleaned side by side)."""
    producer = await started_producer(settings)
    topic = TopicNames.for_settings(settings).raw
    try:
        for number, record in enumerate(records):
            if isinstance(record, RawItem):
                report = await produce_raw_items(producer, topic, [record])
                assert not report.failures, report.failures
            else:
                await producer.send_and_wait(topic, record, key=b"malformed")
            deadline = time.monotonic() + 60
            while len(await asyncio.to_thread(stream_outcomes, settings)) <= number:
                assert time.monotonic() < deadline, f"no outcome for record {number}"
                await asyncio.sleep(0.2)
    finally:
        await producer.stop()


@pytest.fixture()
def equivalence_worker(kafka: Settings, tmp_path: Path) -> Iterator[WorkerProcess]:
    settings = replace(isolated(kafka), home=tmp_path, partitions=Settings().partitions)
    running = start_worker(replace(settings, enrich=False), tmp_path / "worker.log")
    yield running
    running.stop()


def test_an_old_archive_and_todays_items_decide_alike_in_batch_and_stream(
    equivalence_worker: WorkerProcess, tmp_path: Path
) -> None:
    records = corpus()
    asyncio.run(deliver_in_order(equivalence_worker.settings, records))
    stream = stream_outcomes(equivalence_worker.settings)
    batch = batch_outcomes(records, tmp_path)
    ids = [r.id for r in records if isinstance(r, RawItem)]
    assert {i: len(stream.get(i, [])) for i in ids} == dict.fromkeys(ids, 1)  # exactly one
    assert {i: stream[i][0] for i in ids} == {i: batch[i] for i in ids}
    statuses = Counter(batch[i][0] for i in ids)
    # The corpus is what it says: every kind of decision is in it, in both eras.
    assert statuses["published"] >= 20 and statuses["duplicate"] >= 10
    assert batch["eq-003"][1].endswith("v2") and batch["eq-041"][1].endswith("v3")
    assert batch["eq-051"][1] != batch["eq-052"][1] and batch["eq-062"][1].endswith("v1")
    assert batch["eq-101"][1] != batch["eq-001"][1]  # the archive's story, forgotten since
