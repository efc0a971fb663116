"""A real HTTP receiver for push deliveries (a CMS's webhook), started by a test or a bench
on 127.0.0.1: it answers each POST as ``answer`` says, after ``delay`` seconds, keeping
every request with the time it was answered."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web


@dataclass(frozen=True)
class Request:
    status: int
    headers: dict[str, str]
    body: bytes
    at: float
    """When it was answered (``time.time()``)."""

    def story(self) -> dict[str, Any]:
        parsed: dict[str, Any] = orjson.loads(self.body)
        return parsed

    def signed_with(self, secret: str) -> bool:
        """The signature is the HMAC-SHA256 of ``<timestamp>.<body>`` with ``secret``."""
        stamp = self.headers.get("X-Newswire-Timestamp", "").encode()
        wanted = hmac.new(secret.encode(), stamp + b"." + self.body, hashlib.sha256).hexdigest()
        return self.headers.get("X-Newswire-Signature") == "sha256=" + wanted


@dataclass
class Receiver:
    port: int
    answer: Callable[[bytes], int]
    delay: Callable[[], float] = lambda: 0.0
    requests: list[Request] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def delivered(self) -> list[Request]:
        """The requests answered with a 2xx, in the order they were answered."""
        return [r for r in list(self.requests) if 200 <= r.status < 300]


@contextmanager
def receiving(
    port: int, answer: Callable[[bytes], int], delay: Callable[[], float] = lambda: 0.0
) -> Iterator[Receiver]:
    """A receiver serving on ``port`` while in use (aiohttp, on its own loop and thread, so
    that a slow answer holds no thread and the receiver is not what a benchmark measures)."""
    receiver = Receiver(port, answer, delay)

    async def take(request: web.Request) -> web.Response:
        body = await request.read()
        pause = receiver.delay()
        if pause:
            await asyncio.sleep(pause)
        status = receiver.answer(body)
        receiver.requests.append(Request(status, dict(request.headers), body, time.time()))
        return web.Response(status=status, body=b"{}", content_type="application/json")

    loop = asyncio.new_event_loop()
    application = web.Application(client_max_size=64 * 1024 * 1024)
    application.router.add_post("/{path:.*}", take)
    runner = web.AppRunner(application, access_log=None)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()
