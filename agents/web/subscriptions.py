"""The subscription API: ``GET``/``POST /subscriptions``, ``GET``/``DELETE
/subscriptions/{name}``, and the pull API ``GET /subscriptions/{name}/stories``, all
bearer-token protected. A change is a command on the subscriptions'
command topic (``agents.stages.subscriptions``); a subscription whose topic the broker
refuses is not saved."""

from __future__ import annotations

from typing import cast

import faust
import orjson
from aiohttp import web
from aiokafka.errors import KafkaError
from faust.web import Request, Response, View

from agents.kafka.pull import read_after
from agents.kafka.topics import TopicRefused, subscription_topic
from agents.stages.subscriptions import SavedSubscriptions
from agents.web.auth import UNAUTHORISED, bearer_allows
from agents.web.requests import BadBody, read_body
from pipeline.config import Settings
from pipeline.delivery.pull import BadCursor, decode_cursor, encode_cursor, page_size
from pipeline.subscriptions import FilterError, Subscription, check_subscription


def register_subscription_views(
    app: faust.App, settings: Settings, saved: SavedSubscriptions
) -> None:
    def refused(request: Request) -> bool:
        return not bearer_allows(request.headers, settings.api_token)

    def shown(subscription: Subscription) -> dict[str, object]:
        return subscription.to_dict() | {"topic": subscription_topic(settings, subscription.name)}

    @app.page("/subscriptions")
    class Subscriptions(View):
        async def get(self, request: Request) -> Response:
            if refused(request):
                return self.json(UNAUTHORISED, status=401)
            return self.json([shown(subscription) for subscription in saved.saved()])

        async def post(self, request: Request) -> Response:
            if refused(request):
                return self.json(UNAUTHORISED, status=401)
            try:
                body = await read_body(cast(web.Request, request), settings.max_body_bytes)
                subscription = check_subscription(orjson.loads(body), settings.push_hosts)
            except BadBody as bad:
                return self.json(bad.answer(), status=bad.status)
            except (FilterError, orjson.JSONDecodeError) as error:
                return self.json({"error": str(error)}, status=400)
            try:
                await saved.command(subscription.name, subscription)
            except TopicRefused as refusal:  # not saved: its topic could not be made
                return self.json({"error": str(refusal)}, status=400)
            except (KafkaError, OSError, TimeoutError) as error:
                reason = f"the broker did not answer: {error!r}"
                return self.json({"error": reason}, status=503)
            return self.json(shown(subscription), status=201)

    @app.page("/subscriptions/{name}")
    class OneSubscription(View):
        async def get(self, request: Request, name: str) -> Response:
            if refused(request):
                return self.json(UNAUTHORISED, status=401)
            subscription = saved.one(name)
            if subscription is None:
                return self.json({"error": f"no subscription {name}"}, status=404)
            return self.json(shown(subscription))

        async def delete(self, request: Request, name: str) -> Response:
            if refused(request):
                return self.json(UNAUTHORISED, status=401)
            if saved.one(name) is None:
                return self.json({"error": f"no subscription {name}"}, status=404)
            await saved.command(name, None)
            return self.json({"name": name, "deleted": True}, status=202)


def register_pull_view(app: faust.App, settings: Settings, saved: SavedSubscriptions) -> None:
    """``GET /subscriptions/{name}/stories``, for consumers that cannot take a push."""

    def refused(request: Request) -> bool:
        return not bearer_allows(request.headers, settings.api_token)

    @app.page("/subscriptions/{name}/stories")
    class Stories(View):
        async def get(self, request: Request, name: str) -> Response:
            """The pull API: the next records after ``after`` (a cursor this API gave;
            none: from the beginning), at most ``limit``, waiting up to ``wait`` seconds
            for the first."""
            if refused(request):
                return self.json(UNAUTHORISED, status=401)
            if saved.one(name) is None:
                return self.json({"error": f"no subscription {name}"}, status=404)
            query = request.query
            try:
                positions = decode_cursor(query.get("after"))
                limit, wait = page_size(query.get("limit"), query.get("wait"))
            except BadCursor as bad:
                return self.json({"error": str(bad)}, status=400)
            topic = subscription_topic(settings, name)
            values, after = await read_after(settings, topic, positions, limit, wait)
            stories = [orjson.loads(value) for value in values]
            return self.json({"stories": stories, "cursor": encode_cursor(after)})
