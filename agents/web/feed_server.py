"""Agency pushes over HTTP (``POST /feeds/{name}``), on the worker and on ``newswire feeds
run``'s own server: the feed and its token are checked before the body is read."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from agents.feeds.runners import Feeds
from agents.kafka.clients import produce_raw_items, started_producer
from agents.kafka.raw import BrokerAway
from agents.kafka.topics import TopicNames
from agents.observe.metrics import Metrics
from agents.web.auth import UNAUTHORISED, bearer_allows
from agents.web.requests import BadBody, read_body
from pipeline.config import Settings
from pipeline.records import RawItem, Rejected

log = logging.getLogger("newswire.feeds")


async def feed_push(
    feeds: Feeds, name: str, request: web.Request, limit: int
) -> tuple[int, dict[str, Any]]:
    """The answer to ``POST /feeds/{name}``: status and JSON body."""
    runner = feeds.runner(name)
    if runner is None:
        return 404, {"error": f"no http-push feed named {name!r}"}
    if not runner.feed.token or not bearer_allows(request.headers, runner.feed.token):
        return 401, UNAUTHORISED
    try:
        body = await read_body(request, limit)
        items = await runner.push(body, request.query)
    except BadBody as bad:
        return bad.status, bad.answer()
    except Rejected as rejected:
        return 400, {"error": rejected.reason}
    except BrokerAway as away:
        return 503, {"error": str(away)}
    return 202, {"ids": [item.id for item in items]}


async def run_standalone(settings: Settings) -> None:
    """``newswire feeds run``: the feeds with a producer of their own, and a web server on
    the web port for pushes (``POST /feeds/{name}``), ``GET /feeds``, ``/health``, ``/metrics``."""
    producer = await started_producer(settings)
    topic = TopicNames.for_settings(settings).raw

    async def send(items: list[RawItem]) -> None:
        report = await produce_raw_items(producer, topic, items)
        if report.failures:
            item_id, reason = report.failures[0]
            raise BrokerAway(f"{len(report.failures)} items not sent ({item_id}: {reason})")

    feeds = Feeds(settings, send)
    metrics = Metrics(settings)
    metrics.watch_feeds(feeds.health)

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def listing(request: web.Request) -> web.Response:
        return web.json_response({"feeds": feeds.health()})

    async def exposition(request: web.Request) -> web.Response:
        return web.Response(body=metrics.exposition(), content_type="text/plain")

    async def push(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        status, answer = await feed_push(feeds, name, request, settings.max_body_bytes)
        return web.json_response(answer, status=status)

    server = web.Application(client_max_size=settings.max_body_bytes)
    server.router.add_get("/health", health)
    server.router.add_get("/feeds", listing)
    server.router.add_get("/metrics", exposition)
    server.router.add_post("/feeds/{name}", push)
    runner = web.AppRunner(server)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.web_host, settings.web_port).start()
        log.info("feeds: %s; web server on %s", ", ".join(feeds.runners), settings.web_url)
        await asyncio.gather(feeds.run(), feeds.watch_pushes())
    finally:
        await runner.cleanup()
        await producer.stop()
