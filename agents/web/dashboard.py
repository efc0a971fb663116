"""The live dashboard at ``GET /``: what flows, how fast, and what the news is about.

The page and its assets are served by the worker (``agents/web/static``, no CDN). ``GET /events``
is a server-sent event stream: the recent history once, then a sample every two seconds.
Flow figures (throughput, latency, rates, lag) are this worker's own; the newsroom panels
(top entities of the last hour, latest stories) come from the ``trends`` agent
(``agents.stages.trends``).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faust
import orjson
from aiohttp import web
from faust.web import Request, Response, View

from agents.feeds.runners import Feeds
from agents.observe.logs import never_fatal
from agents.observe.metrics import ConsumerState, Metrics
from agents.stages.trends import Trends

STATIC = Path(__file__).parent / "static"
ASSETS = {
    "/": ("index.html", "text/html"),
    "/dashboard.js": ("dashboard.js", "text/javascript"),
    "/dashboard.css": ("dashboard.css", "text/css"),
}
SAMPLE_INTERVAL_S = 2.0
HISTORY_S = 15 * 60
LATENCY_SPAN_S = 60.0


def percentiles(values: list[float]) -> dict[str, float | None]:
    """p50, p95 and p99 by nearest rank; None without values."""
    ordered = sorted(values)
    found: dict[str, float | None] = {}
    for name, share in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
        found[name] = ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else None
    return found


@dataclass
class Sampler:
    """Takes a sample every two seconds and keeps the last fifteen minutes of them."""

    metrics: Metrics
    trends: Trends
    feeds: Feeds
    lag: Callable[[], ConsumerState]
    ready: Callable[[], bool]

    def __post_init__(self) -> None:
        self.history: deque[dict[str, Any]] = deque(maxlen=int(HISTORY_S / SAMPLE_INTERVAL_S))
        self.changed = asyncio.Event()
        self.closed = False

    def close(self) -> None:
        """The worker stops: every open event stream ends now. A stream waiting for the
        next sample held the web server's shutdown for its full minute, past the 30 s an
        orchestrator grants before it kills the worker."""
        self.closed = True
        self.changed.set()

    def sample(self) -> dict[str, Any]:
        now = time.time()
        recent = [s for at, s in self.metrics.recent_latencies if at >= now - LATENCY_SPAN_S]
        lag = {f"{topic}/{p}": n for (topic, p), n in self.lag().items() if n is not None}
        found = {
            "at": now,
            "worker": self.metrics.worker,
            "ready": self.ready(),
            "totals": dict(self.metrics.totals),
            "latency": percentiles(recent),
            "lag": lag,
            "top": self.trends.top(now),
            "latest": list(self.trends.latest),
            "feeds": self.feeds.health(),
            "pushes": self.metrics.push_health(),
        }
        self.history.append(found)
        self.changed.set()
        self.changed = asyncio.Event()
        return found


def register_dashboard(app: faust.App, sampler: Sampler) -> None:
    """The page, its assets and the event stream."""
    for path, (filename, media_type) in ASSETS.items():
        _serve_file(app, path, STATIC / filename, media_type)

    async def take_sample() -> None:
        with never_fatal("a dashboard sample"):
            sampler.sample()

    app.timer(SAMPLE_INTERVAL_S)(take_sample)

    @app.on_before_shutdown.connect
    async def end_streams(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        sampler.close()

    @app.page("/events", name="dashboard-events")
    class Events(View):
        async def get(self, request: Request) -> Response:
            stream = web.StreamResponse(
                headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
            )
            await stream.prepare(request)  # type: ignore[arg-type]
            try:
                history = orjson.dumps(list(sampler.history))
                await stream.write(b"event: history\ndata: " + history + b"\n\n")
                while not sampler.closed:
                    changed = sampler.changed
                    await changed.wait()
                    if sampler.closed:
                        break
                    latest = orjson.dumps(sampler.history[-1])
                    await stream.write(b"event: sample\ndata: " + latest + b"\n\n")
            except ConnectionResetError:
                pass  # the page was closed
            return stream  # type: ignore[return-value]


def _serve_file(app: faust.App, path: str, file: Path, media_type: str) -> None:
    body = file.read_bytes()

    class StaticFile(View):
        async def get(self, request: Request) -> Response:
            return self.bytes(body, content_type=media_type)

    app.page(path, name=f"dashboard-{file.name}")(StaticFile)
