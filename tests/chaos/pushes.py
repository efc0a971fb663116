"""The chaos run's push subscription: a flaky receiver, and the accounting of what it took
against what the subscription's topic holds."""

from __future__ import annotations

import asyncio
import random
import time
from collections import defaultdict
from dataclasses import dataclass

import orjson

from agents.kafka.topics import subscription_topic
from pipeline.config import Settings
from tests.chaos.harness import read_records
from tests.receiver import Receiver

SECRET = "chaos-receiver-shared-secret"


class Flaky:
    """A receiver that answers 503 one time in six and 429 one in twenty-five, else 200."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def __call__(self, body: bytes) -> int:
        draw = self.rng.random()
        return 503 if draw < 1 / 6 else 429 if draw < 1 / 6 + 1 / 25 else 200

    def delay(self) -> float:
        return self.rng.uniform(0.0, 0.02)


@dataclass
class PushTally:
    records: int
    missing: list[str]
    """Records of the subscription's topic the receiver never took."""
    foreign: list[str]
    """Keys the receiver took that name no record of the topic."""
    unsigned: int
    out_of_order: list[str]
    """Stories whose versions the receiver first took in another order than the topic's."""
    requests: int
    refused: int
    """Requests the receiver answered 429 or 503 (and were tried again)."""

    def line(self) -> str:
        return (
            f"push_records={self.records} push_missing={len(self.missing)} "
            f"push_foreign={len(self.foreign)} push_unsigned={self.unsigned} "
            f"push_out_of_order={len(self.out_of_order)} push_requests={self.requests} "
            f"push_retried={self.refused}"
        )


def tally_pushes(settings: Settings, name: str, receiver: Receiver) -> PushTally:
    records = asyncio.run(read_records(settings, subscription_topic(settings, name)))
    stories = [orjson.loads(r.value) for r in records if r.value]
    wanted = [f"{story['uri']}:{story['version']}" for story in stories]
    first_taken: dict[str, int] = {}
    for number, request in enumerate(receiver.delivered()):
        first_taken.setdefault(request.headers.get("Idempotency-Key", ""), number)
    per_story: dict[str, list[str]] = defaultdict(list)
    for story, key in zip(stories, wanted, strict=True):
        if key not in per_story[story["uri"]]:
            per_story[story["uri"]].append(key)
    out_of_order = [
        uri
        for uri, keys in per_story.items()
        if all(k in first_taken for k in keys) and keys != sorted(keys, key=first_taken.__getitem__)
    ]
    return PushTally(
        records=len(stories),
        missing=[key for key in wanted if key not in first_taken],
        foreign=sorted(set(first_taken) - set(wanted)),
        unsigned=sum(not request.signed_with(SECRET) for request in list(receiver.requests)),
        out_of_order=out_of_order,
        requests=len(receiver.requests),
        refused=sum(request.status in (429, 503) for request in list(receiver.requests)),
    )


def wait_for_pushes(settings: Settings, name: str, receiver: Receiver, timeout: float) -> None:
    """Until the receiver has taken every record of the subscription's topic, or ``timeout``."""
    deadline = time.monotonic() + timeout
    while tally_pushes(settings, name, receiver).missing and time.monotonic() < deadline:
        time.sleep(2)
