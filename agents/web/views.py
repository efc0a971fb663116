"""The worker's HTTP views besides the dashboard: metrics, health, readiness, the ingest door
and feed pushes (the subscription API is registered with its agent)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any, cast

import faust
from aiohttp import web
from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST

from agents.feeds.runners import Feeds
from agents.kafka.outbox import DeliveryHealth
from agents.kafka.raw import BrokerAway, Send
from agents.kafka.readiness import readiness
from agents.observe.metrics import Metrics
from agents.web.auth import UNAUTHORISED, bearer_allows
from agents.web.feed_server import feed_push
from agents.web.requests import BadBody, read_body
from pipeline.config import Settings
from pipeline.ingest import raw_items_from_request
from pipeline.records import Rejected


def register_views(
    app: faust.App,
    settings: Settings,
    metrics: Metrics,
    send_raw: Send,
    feeds: Feeds,
    health: DeliveryHealth,
) -> None:
    """The operators' views (metrics, health, readiness) and the doors (ingest, feeds)."""
    register_operations_views(app, metrics, health)
    ingest = ingest_answer(settings, send_raw)

    @app.page("/ingest")
    class Ingest(View):
        async def post(self, request: Request) -> Response:
            status, answer = await ingest(cast(web.Request, request))
            return self.json(answer, status=status)

    @app.page("/feeds")
    class FeedList(View):
        async def get(self, request: Request) -> Response:
            return self.json({"feeds": feeds.health()})

    @app.page("/feeds/{name}")
    class FeedPush(View):
        async def post(self, request: Request, name: str) -> Response:
            status, answer = await feed_push(
                feeds, name, cast(web.Request, request), settings.max_body_bytes
            )
            return self.json(answer, status=status)


def register_operations_views(app: faust.App, metrics: Metrics, health: DeliveryHealth) -> None:
    @app.page("/metrics")
    class MetricsView(View):
        async def get(self, request: Request) -> Response:
            # aiohttp takes the charset apart from the media type.
            media_type = CONTENT_TYPE_LATEST.split(";")[0]
            return self.bytes(metrics.exposition(), content_type=media_type)

    @app.page("/health")
    class Health(View):
        async def get(self, request: Request) -> Response:
            return self.json({"status": "ok"})

    @app.page("/ready")
    class Ready(View):
        async def get(self, request: Request) -> Response:
            ready, reason = readiness(app, health)
            body: dict[str, Any] = {
                "ready": ready,
                "partitionsAssigned": len(app.consumer.assignment()),
                "rebalancing": app.rebalancing,
            }
            if reason is not None:
                body["reason"] = reason
            return self.json(body, status=200 if ready else 503)


Answer = tuple[int, dict[str, Any]]


def ingest_answer(settings: Settings, send_raw: Send) -> Callable[[web.Request], Awaitable[Answer]]:
    """``POST /ingest``: the token, then the body (bounded), its stories split beside the
    event loop (a large feed must not hold up the worker), then the broker's acknowledgement."""

    async def answer(request: web.Request) -> Answer:
        if not bearer_allows(request.headers, settings.api_token):
            return 401, UNAUTHORISED
        try:
            body = await read_body(request, settings.max_body_bytes)
        except BadBody as bad:
            return bad.status, bad.answer()
        query = request.query
        split = functools.partial(
            raw_items_from_request,
            body,
            source=query.get("source", "http"),
            format=query.get("format", "auto"),
            guid=query.get("guid"),
            url=query.get("url"),
        )
        try:
            items = await asyncio.get_running_loop().run_in_executor(None, split)
        except Rejected as rejected:
            return 400, {"error": rejected.reason}
        try:
            await send_raw(items)
        except BrokerAway as away:
            return 503, {"error": str(away)}
        return 202, {"id": items[0].id, "key": items[0].key, "ids": [item.id for item in items]}

    return answer
