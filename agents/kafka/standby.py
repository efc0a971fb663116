"""The worker before the broker answers: alive, not ready, and saying so over HTTP.

An orchestrator starts the worker and the broker together; the worker waits for the broker
instead of crash-looping, and its ``/health`` and ``/ready`` answer from the first second.
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web

from agents.kafka.broker import answers_metadata
from pipeline.config import Settings

POLL_INTERVAL_S = 2.0
LOG_EVERY = 15  # polls: one warning every 30 s
log = logging.getLogger("newswire.worker")


async def wait_for_broker(settings: Settings) -> bool:
    """Serve ``/health`` (200) and ``/ready`` (503) on the worker's port until the broker
    answers (True) or ``broker_wait_seconds`` pass (False)."""
    waiting = {"ready": False, "reason": f"waiting for the Kafka broker at {settings.bootstrap}"}

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def ready(request: web.Request) -> web.Response:
        return web.json_response(waiting, status=503)

    server = web.Application()
    server.router.add_get("/health", health)
    server.router.add_get("/ready", ready)
    runner = web.AppRunner(server)
    await runner.setup()
    await web.TCPSite(runner, settings.web_host, settings.web_port).start()
    deadline = time.monotonic() + settings.broker_wait_seconds
    attempts = 0
    try:
        while not await answers_metadata(settings):
            if time.monotonic() >= deadline:
                return False
            if attempts % LOG_EVERY == 0:
                log.warning("waiting for the Kafka broker at %s", settings.bootstrap)
            attempts += 1
            await asyncio.sleep(POLL_INTERVAL_S)
        return True
    finally:
        await runner.cleanup()
