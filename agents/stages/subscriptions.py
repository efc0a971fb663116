"""Saved subscriptions in the worker: the table that keeps them, its command agent, and routing
(the HTTP API is ``agents.web.subscriptions``).

Changes go through one command topic (``newswire.internal.subscriptions``, compacted, one
partition): the API writes a command, one agent applies it to a GlobalTable (every worker
holds every subscription, restored from its changelog after a restart), and the publish agent
rebuilds its in-memory index whenever the table's generation moves on.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import faust
import orjson
import yaml
from faust.types import EventT

from agents.kafka.outbox import Outbox
from agents.kafka.topics import (
    TopicNames,
    bytes_topic,
    ensure_topics,
    headers,
    subscription_spec,
    subscription_topic,
)
from agents.observe.metrics import Metrics
from agents.stages.embargo import EmbargoHolds, register_embargo_release
from pipeline.config import Settings
from pipeline.subscriptions import (
    DELETED,
    KEEP_DELETED_S,
    FilterError,
    Subscription,
    SubscriptionIndex,
    check_subscription,
    deleted_entry,
    holds_back,
    recipients,
    saved_subscriptions,
)

GENERATION = ""
"""The table key that counts changes, so that workers know when to rebuild their index."""


@dataclass(frozen=True)
class Router:
    """What the publish agent routes with. ``index()`` gives the subscriptions saved now; the
    agent takes it once per batch, before the batch goes out on the main feed, so that a
    story on the main feed reaches every subscription saved before it got there, even one
    deleted while the batch was on its way. ``index(at)`` gives those saved at that moment,
    for a story routed again after a crash. ``route`` sends a story to the subscriptions of
    an index (given those that received the story before), or holds it back from public
    ones while it is embargoed, and returns the names it went or is held for."""

    index: Callable[[float | None], SubscriptionIndex]
    route: Callable[
        [SubscriptionIndex, dict[str, Any], bytes, Collection[str]], Awaitable[list[str]]
    ]


def load_subscriptions_file(
    path: Path, push_hosts: frozenset[str] = frozenset()
) -> list[Subscription]:
    """Subscriptions from a JSON or YAML file: ``{"subscriptions": [{name, filter}, ...]}``."""
    text = path.read_text()
    data = yaml.safe_load(text) if path.suffix in (".yml", ".yaml") else orjson.loads(text)
    entries = data.get("subscriptions") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise FilterError(f"{path}: expected an object with a 'subscriptions' list")
    return [check_subscription(entry, push_hosts) for entry in entries]


class SavedSubscriptions:
    """The subscriptions table, changed only through its command topic, and the index the
    publish agent matches stories with (rebuilt when the table's generation moves on)."""

    def __init__(self, app: faust.App, settings: Settings, metrics: Metrics) -> None:
        self.settings, self.metrics = settings, metrics
        names = TopicNames.for_settings(settings)
        self.commands = bytes_topic(app, names.subscription_commands, partitions=1, internal=True)
        self.table = app.GlobalTable("subscriptions", partitions=1, key_type=str)
        self._index, self._generation = SubscriptionIndex(), -1

    async def command(self, name: str, subscription: Subscription | None) -> None:
        """Save (after creating its topic: ``TopicRefused`` if the broker will not) or, with
        None, delete a subscription."""
        if subscription is not None:
            topic = subscription_topic(self.settings, name)
            await ensure_topics(self.settings, {topic: subscription_spec(self.settings)})
        value = orjson.dumps(subscription.stored()) if subscription else b"null"
        await (await self.commands.send(key=name.encode(), value=value))

    async def apply(self, events: Sequence[EventT[bytes]]) -> None:
        """The command agent's step: a command into the table, at the command's own time, so
        that a command read again after a restart keeps it."""
        (event,) = events
        name, filter_ = cast(bytes, event.key).decode(), orjson.loads(event.value)
        at = event.message.timestamp
        if filter_ is not None:
            self.table[name] = filter_
        elif name in self.saved_names():
            self.table[name] = deleted_entry(self.table[name], at)
        for old, value in self.entries():
            if DELETED in value and value[DELETED] < at - KEEP_DELETED_S:
                self.table.pop(old)
        self.table[GENERATION] = int(self.table.get(GENERATION) or 0) + 1

    def entries(self) -> list[tuple[str, dict[str, Any]]]:
        return [(name, value) for name, value in self.table.items() if name != GENERATION]

    def saved_names(self) -> set[str]:
        return {name for name, value in self.entries() if DELETED not in value}

    def saved(self) -> list[Subscription]:
        return sorted(saved_subscriptions(self.entries()), key=lambda s: s.name)

    def one(self, name: str) -> Subscription | None:
        if name not in self.saved_names():
            return None
        return Subscription.from_stored(name, self.table[name])

    def index(self, at: float | None = None) -> SubscriptionIndex:
        """The subscriptions saved now, or (``at``) those saved at that moment."""
        if at is not None:
            return SubscriptionIndex(saved_subscriptions(self.entries(), at))
        generation = int(self.table.get(GENERATION) or 0)
        if generation != self._generation:
            self._index = SubscriptionIndex(saved_subscriptions(self.entries()))
            self._generation = generation
            count = len(self._index.subscriptions)
            self.metrics.subscriptions.labels(self.metrics.worker).set(count)
        return self._index


def register_subscriptions(
    app: faust.App,
    settings: Settings,
    metrics: Metrics,
    outbox: Outbox,
    track: Callable[[list[str]], Awaitable[None]],
    holds: EmbargoHolds,
) -> tuple[SavedSubscriptions, Router]:
    """Add the subscription command agent, the start-up load and the embargo release to
    ``app``; returns the saved subscriptions (for the API) and the router the publish agent
    calls for every story (``track`` readies the producer for a new topic; ``holds`` keeps
    embargoed stories back from public ones)."""
    saved = SavedSubscriptions(app, settings, metrics)

    @app.agent(saved.commands, name="subscriptions")
    async def apply_commands(stream: faust.StreamT[bytes]) -> None:
        await outbox.consume(stream, saved.apply)

    async def load_configured() -> None:
        if settings.subscriptions_file:
            path = Path(settings.subscriptions_file)
            for subscription in load_subscriptions_file(path, settings.push_hosts):
                await saved.command(subscription.name, subscription)

    app.task(load_configured)
    send = subscription_sender(app, settings, outbox, track)
    register_embargo_release(app, holds, outbox, send)
    return saved, Router(saved.index, router_for(holds, send))


Send = Callable[[str, bytes, bytes], Awaitable[None]]


def subscription_sender(
    app: faust.App,
    settings: Settings,
    outbox: Outbox,
    track: Callable[[list[str]], Awaitable[None]],
) -> Send:
    """Sends a record to a subscription's topic, readying the producer for it first."""
    outputs: dict[str, faust.TopicT] = {}
    story_headers = headers("story")

    async def send(name: str, key: bytes, value: bytes) -> None:
        topic = outputs.get(name)
        if topic is None:
            topic_name = subscription_topic(settings, name)
            await track([topic_name])
            topic = outputs[name] = bytes_topic(app, topic_name)
        await outbox.send(topic, key, value, story_headers)

    return send


def router_for(
    holds: EmbargoHolds, send: Send
) -> Callable[[SubscriptionIndex, dict[str, Any], bytes, Collection[str]], Awaitable[list[str]]]:
    async def route(
        saved: SubscriptionIndex, story: dict[str, Any], value: bytes, before: Collection[str]
    ) -> list[str]:
        names = recipients(saved, story, before)
        now, uri, version = time.time(), story["uri"], int(story["version"])
        for name in names:
            if holds_back(saved.subscriptions[name], story, now):
                holds.hold(uri, name, story, value)
                continue
            holds.drop(uri, name, version)
            await send(name, uri.encode(), value)
        return names

    return route
