"""A story's life on the real broker: kills reach stories.latest and every subscriber that
had the story, late old versions do not replace newer ones, advisories go to
wire.advisories and never to the stories."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from agents.kafka.topics import TopicNames, subscription_topic
from pipeline.config import Settings
from tests.chaos.harness import read_records
from tests.conftest import raw_item
from tests.integration.conftest import (
    WorkerProcess,
    isolated,
    start_worker,
    topic_records,
    wait_for,
)

pytestmark = pytest.mark.kafka


def last_on_latest(worker: WorkerProcess, uri: str) -> dict[str, Any]:
    """The value a consumer of stories.latest holds for ``uri``: the last one written."""
    latest = TopicNames.for_settings(worker.settings).latest
    return [s for s in topic_records(worker.settings, latest) if s.get("uri") == uri][-1]


def test_stories_latest_ends_with_the_kill(worker: WorkerProcess) -> None:
    guid, marker = uuid.uuid4().hex, uuid.uuid4().hex[:8]
    headline = f"Minister quits over contracts {marker}"
    story = raw_item(
        f"{headline}\n\nThe minister resigned on Monday after a report on contracts.",
        source="wire",
        guid=guid,
        version="1",
    )
    kill = raw_item(
        f"KILL KILL KILL\n\nPlease kill the item headlined '{headline}'. Legal reasons.",
        source="wire",
        guid=guid,
        version="2",
    )
    published = worker.collect([story])[story.id]
    assert published.status == "published"
    killed = worker.collect([kill])[kill.id]
    assert killed.status == "published"
    assert killed.value["uri"] == published.value["uri"]
    assert killed.value["pubStatus"] == "canceled"
    latest = last_on_latest(worker, published.value["uri"])
    assert (latest["version"], latest["pubStatus"]) == ("2", "canceled")
    assert latest["bodies"][0]["value"].startswith("KILL.")


def test_an_older_version_arriving_late_does_not_replace_the_newer(
    worker: WorkerProcess,
) -> None:
    guid, marker = uuid.uuid4().hex, uuid.uuid4().hex[:8]

    def version(n: int) -> Any:
        text = f"Storm closes port {marker}\n\nThe port closed, update {n}.\n\nShips wait."
        return raw_item(text, source="wire", guid=guid, version=str(n))

    first, third, second = version(1), version(3), version(2)
    uri = worker.collect([first])[first.id].value["uri"]
    assert worker.collect([third])[third.id].status == "published"
    late = worker.collect([second])[second.id]
    assert late.status == "duplicate" and late.value["reason"] == "stale"
    assert last_on_latest(worker, uri)["newswire"]["itemId"] == third.id


def test_a_flash_overtakes_a_queue_of_routine_items(worker: WorkerProcess) -> None:
    marker, rng = uuid.uuid4().hex[:8], random.Random(5)
    words = [f"{a}{b}{c}" for a in "bdfgklmnprst" for b in "aeiou" for c in "lmnrst"]

    def routine(n: int) -> Any:
        text = " ".join(rng.choices(words, k=60))
        return raw_item(f"Council hears plan {n} {marker}\n\nThe council heard {text}.")

    queue = [routine(n) for n in range(400)]
    flash = raw_item(
        f"FLASH\n\nQuake hits the capital {marker}\n\nA strong earthquake struck the capital."
    )
    outcomes = worker.collect([*queue, flash], timeout=240)
    assert {outcome.status for outcome in outcomes.values()} == {"published"}
    structured = TopicNames.for_settings(worker.settings).structured
    appended = {
        orjson.loads(record.value)["newswire"]["itemId"]: record.timestamp
        for record in asyncio.run(read_records(worker.settings, structured))
        if record.value
    }
    after = sum(1 for item in queue if appended[item.id] > appended[flash.id])
    # Sent last, behind 400 routine items: it would be published last without its lane.
    assert after >= len(queue) // 2, f"only {after} routine stories came out after the flash"
    assert outcomes[flash.id].value["newswire"]["lifecycle"]["urgency"] == "flash"


def test_an_advisory_goes_to_wire_advisories_and_not_to_the_stories(
    worker: WorkerProcess,
) -> None:
    marker = uuid.uuid4().hex[:8]
    note = raw_item(
        f"ADVISORY\n\nEditors: the story headlined 'Budget vote {marker}' will move at 1500 GMT."
    )
    outcome = worker.collect([note])[note.id]
    assert outcome.status == "advisory"
    assert outcome.value["refersTo"] == {"headline": f"Budget vote {marker}"}
    structured = TopicNames.for_settings(worker.settings).structured
    assert not [
        s for s in topic_records(worker.settings, structured) if s["newswire"]["itemId"] == note.id
    ]


def post_subscription(worker: WorkerProcess, subscription: dict[str, Any]) -> None:
    assert worker.call("POST", "/subscriptions", orjson.dumps(subscription)) == 201


def saved_filter(worker: WorkerProcess, name: str) -> Any:
    status, body = worker.get(f"/subscriptions/{name}")
    return orjson.loads(body)["filter"] if status == 200 else None


def test_a_subscriber_whose_filter_no_longer_matches_still_gets_the_kill(
    worker: WorkerProcess,
) -> None:
    marker, guid = uuid.uuid4().hex[:8], uuid.uuid4().hex
    name = f"desk-{marker}"
    post_subscription(worker, {"name": name, "filter": {"keywords": [marker]}})
    wait_for(lambda: saved_filter(worker, name) == {"keywords": [marker]})
    time.sleep(3)  # every worker's index has the subscription a moment after the API said so
    headline = f"Port strike spreads {marker}"
    story = raw_item(f"{headline}\n\nDockers walked out on Monday.", guid=guid, version="1")
    uri = worker.collect([story])[story.id].value["uri"]
    topic = subscription_topic(worker.settings, name)
    wait_for(lambda: [s["version"] for s in topic_records(worker.settings, topic)] == ["1"])

    post_subscription(worker, {"name": name, "filter": {"keywords": ["no-such-word"]}})
    wait_for(lambda: saved_filter(worker, name) == {"keywords": ["no-such-word"]})
    time.sleep(3)
    kill = raw_item(
        f"KILL KILL KILL\n\nPlease kill the item headlined '{headline}'.", guid=guid, version="2"
    )
    assert worker.collect([kill])[kill.id].status == "published"

    def recalled() -> bool:
        got = [
            (s["uri"], s["version"], s["pubStatus"]) for s in topic_records(worker.settings, topic)
        ]
        return got == [(uri, "1", "usable"), (uri, "2", "canceled")]

    wait_for(recalled)


def test_a_public_subscription_gets_an_embargoed_story_after_its_time_exactly_once(
    kafka: Settings, tmp_path: Path
) -> None:
    """The story passes at once on a subscription that is no public output; the public one
    gets it only after the embargo, once, although the worker is SIGKILLed meanwhile."""
    settings = replace(isolated(kafka), home=tmp_path)
    log = tmp_path / "worker.log"
    worker = start_worker(settings, log)
    marker = uuid.uuid4().hex[:8]
    try:
        for name, public in ((f"web-{marker}", True), (f"desk-{marker}", False)):
            body = {"name": name, "filter": {"keywords": [marker]}, "public": public}
            post_subscription(worker, body)
            wait_for(lambda name=name: saved_filter(worker, name) == {"keywords": [marker]})
        time.sleep(3)
        until = datetime.now(UTC) + timedelta(seconds=40)
        story = raw_item(
            orjson.dumps(
                {
                    "uri": f"urn:test:{marker}",
                    "type": "text",
                    "headlines": [{"role": "main", "value": f"Results embargoed {marker}"}],
                    "bodies": [
                        {"role": "main", "contentType": "text/plain", "value": "Profit rose."}
                    ],
                    "embargoedUntil": until.isoformat().replace("+00:00", "Z"),
                }
            ).decode()
        )
        published = worker.collect([story])[story.id]
        assert published.status == "published"
        assert published.value["newswire"]["embargo"]["embargoed"] is True
        web = subscription_topic(settings, f"web-{marker}")
        desk = subscription_topic(settings, f"desk-{marker}")
        wait_for(lambda: len(topic_records(settings, desk)) == 1)
        assert topic_records(settings, web) == []
        os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait()
        worker = start_worker(settings, log)
        wait_for(lambda: len(topic_records(settings, web)) == 1, timeout=120)
        time.sleep(10)  # and nothing more comes
        (released,) = asyncio.run(read_records(settings, web))
        assert released.timestamp / 1000 >= until.timestamp()
        assert orjson.loads(released.value or b"{}")["uri"] == published.value["uri"]
    finally:
        worker.stop()


def test_a_kill_naming_its_story_by_headline_recalls_it_everywhere(
    worker: WorkerProcess,
) -> None:
    """No guid: the kill names the story only by its headline, written another way (case,
    punctuation, the update slug), ten minutes after it. The story is canceled on
    stories.latest and on both subscriptions that had it."""
    marker = uuid.uuid4().hex[:8]
    names = [f"legal-{marker}", f"web-{marker}"]
    for name in names:
        post_subscription(worker, {"name": name, "filter": {"keywords": [marker]}})
        wait_for(lambda name=name: saved_filter(worker, name) == {"keywords": [marker]})
    time.sleep(3)
    sent = datetime.now(UTC) - timedelta(minutes=10)
    story = raw_item(
        f"UPDATE 1-MINISTER'S AIDE QUITS OVER CONTRACTS {marker}\n\n"
        f"The aide resigned on Monday after a report on contracts ({marker}).",
        source="desk-wire",
        receivedAt=sent.isoformat(),
    )
    uri = worker.collect([story])[story.id].value["uri"]
    kill = raw_item(
        "KILL KILL KILL\n\nPlease kill the item headlined "
        f"'Minister's aide quits over contracts {marker}'. Legal reasons.",
        source="desk-wire",
        receivedAt=(sent + timedelta(minutes=10)).isoformat(),
    )
    killed = worker.collect([kill])[kill.id]
    assert (killed.value["uri"], killed.value["pubStatus"]) == (uri, "canceled")
    assert killed.value["newswire"]["dedup"]["reason"] == "referred"
    latest = last_on_latest(worker, uri)
    assert (latest["version"], latest["pubStatus"]) == ("2", "canceled")
    for name in names:
        topic = subscription_topic(worker.settings, name)

        def recalled(topic: str = topic) -> bool:
            got = [
                (s["uri"], s["version"], s["pubStatus"])
                for s in topic_records(worker.settings, topic)
            ]
            return got == [(uri, "1", "usable"), (uri, "2", "canceled")]

        wait_for(recalled)
