"""Saved subscriptions in the worker: the HTTP API, the table that keeps them, and routing.

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
from aiohttp import web
from aiokafka.errors import KafkaError
from faust.types import EventT
from faust.web import Request, Response, View

from agents.auth import UNAUTHORISED, bearer_allows
from agents.embargo import EmbargoHolds, register_embargo_release
from agents.metrics import Metrics
from agents.outbox import Outbox
from agents.output import headers
from agents.requests import BadBody, read_body
from agents.topics import (
    TopicNames,
    TopicRefused,
    bytes_topic,
    ensure_topics,
    subscription_spec,
    subscription_topic,
)
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


class _CurrentIndex:
    """The index built from the table, and the table generation it was built from."""

    def __init__(self) -> None:
        self.index = SubscriptionIndex()
        self.generation = -1


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


def load_subscriptions_file(path: Path) -> list[Subscription]:
    """Subscriptions from a JSON or YAML file: ``{"subscriptions": [{name, filter}, ...]}``."""
    text = path.read_text()
    data = yaml.safe_load(text) if path.suffix in (".yml", ".yaml") else orjson.loads(text)
    entries = data.get("subscriptions") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise FilterError(f"{path}: expected an object with a 'subscriptions' list")
    return [check_subscription(entry) for entry in entries]


def register_subscriptions(
    app: faust.App,
    settings: Settings,
    metrics: Metrics,
    outbox: Outbox,
    track: Callable[[list[str]], Awaitable[None]],
    holds: EmbargoHolds,
) -> Router:
    """Add the subscription agent, views, start-up load and embargo release to ``app``;
    returns the router the publish agent calls for every story (``track`` readies the
    producer for a new topic; ``holds`` keeps embargoed stories back from public ones)."""
    names = TopicNames.for_settings(settings)
    commands = bytes_topic(app, names.subscription_commands, partitions=1, internal=True)
    table = app.GlobalTable("subscriptions", partitions=1, key_type=str)
    outputs: dict[str, faust.TopicT] = {}
    current = _CurrentIndex()

    async def command(name: str, subscription: Subscription | None) -> None:
        if subscription is not None:
            topic = subscription_topic(settings, name)
            await ensure_topics(settings, {topic: subscription_spec(settings)})
        value = orjson.dumps(subscription.stored()) if subscription else b"null"
        await (await commands.send(key=name.encode(), value=value))

    async def apply(events: Sequence[EventT[bytes]]) -> None:
        (event,) = events
        name, filter_ = cast(bytes, event.key).decode(), orjson.loads(event.value)
        # The command's own time, so that a command read again after a restart keeps it.
        at = event.message.timestamp
        if filter_ is not None:
            table[name] = filter_
        elif name in saved_names():
            table[name] = deleted_entry(table[name], at)
        for old in [n for n, v in entries() if DELETED in v and v[DELETED] < at - KEEP_DELETED_S]:
            table.pop(old)
        table[GENERATION] = int(table.get(GENERATION) or 0) + 1

    def entries() -> list[tuple[str, dict[str, Any]]]:
        return [(name, value) for name, value in table.items() if name != GENERATION]

    def saved_names() -> set[str]:
        return {name for name, value in entries() if DELETED not in value}

    @app.agent(commands, name="subscriptions")
    async def apply_commands(stream: faust.StreamT[bytes]) -> None:
        await outbox.consume(stream, apply)

    async def load_configured() -> None:
        if settings.subscriptions_file:
            for subscription in load_subscriptions_file(Path(settings.subscriptions_file)):
                await command(subscription.name, subscription)

    app.task(load_configured)

    def index(at: float | None = None) -> SubscriptionIndex:
        if at is not None:
            return SubscriptionIndex(saved_subscriptions(entries(), at))
        generation = int(table.get(GENERATION) or 0)
        if generation != current.generation:
            current.index = SubscriptionIndex(saved_subscriptions(entries()))
            current.generation = generation
            metrics.subscriptions.labels(metrics.worker).set(len(current.index.subscriptions))
        return current.index

    async def send(name: str, key: bytes, value: bytes) -> None:
        topic = outputs.get(name)
        if topic is None:
            topic_name = subscription_topic(settings, name)
            await track([topic_name])
            topic = outputs[name] = bytes_topic(app, topic_name)
        await outbox.send(topic, key, value, story_headers)

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

    story_headers = headers("story")
    register_embargo_release(app, holds, outbox, send)

    def refused(request: Request) -> bool:
        return not bearer_allows(request.headers, settings.api_token)

    @app.page("/subscriptions")
    class Subscriptions(View):
        async def get(self, request: Request) -> Response:
            if refused(request):
                return self.json(UNAUTHORISED, status=401)
            listed = [
                saved.to_dict() | {"topic": subscription_topic(settings, saved.name)}
                for saved in sorted(saved_subscriptions(entries()), key=lambda s: s.name)
            ]
            return self.json(listed)

        async def post(self, request: Request) -> Response:
            if refused(request):
                return self.json(UNAUTHORISED, status=401)
            try:
                body = await read_body(cast(web.Request, request), settings.max_body_bytes)
                subscription = check_subscription(orjson.loads(body))
            except BadBody as bad:
                return self.json(bad.answer(), status=bad.status)
            except (FilterError, orjson.JSONDecodeError) as error:
                return self.json({"error": str(error)}, status=400)
            try:
                await command(subscription.name, subscription)
            except TopicRefused as refusal:  # not saved: its topic could not be made
                return self.json({"error": str(refusal)}, status=400)
            except (KafkaError, OSError, TimeoutError) as error:
                reason = f"the broker did not answer: {error!r}"
                return self.json({"error": reason}, status=503)
            saved = subscription.to_dict()
            saved["topic"] = subscription_topic(settings, subscription.name)
            return self.json(saved, status=201)

    @app.page("/subscriptions/{name}")
    class OneSubscription(View):
        async def get(self, request: Request, name: str) -> Response:
            if refused(request):
                return self.json(UNAUTHORISED, status=401)
            if name not in saved_names():
                return self.json({"error": f"no subscription {name}"}, status=404)
            saved = Subscription.from_stored(name, table[name])
            return self.json(saved.to_dict() | {"topic": subscription_topic(settings, name)})

        async def delete(self, request: Request, name: str) -> Response:
            if refused(request):
                return self.json(UNAUTHORISED, status=401)
            if name not in saved_names():
                return self.json({"error": f"no subscription {name}"}, status=404)
            await command(name, None)
            return self.json({"name": name, "deleted": True}, status=202)

    return Router(index, route)
