"""Feed runners against a real folder and a real HTTP server on 127.0.0.1 that the test runs.

``send`` is a list here: these tests are about what a feed takes and when, not about Kafka
(tests/integration/test_feeds.py runs the same feeds in a worker on the real broker).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from agents.feeds.runners import FeedRunner
from pipeline.feeds import FeedDefinition
from pipeline.records import RawItem

STORY = "Harbour reopens\n\nThe harbour in Gdansk reopened on Monday, the port authority said.\n"


@dataclass
class Sink:
    """Collects what a feed sends; ``fail`` makes the next sends raise like a broker that is
    down."""

    items: list[RawItem] = field(default_factory=list)
    fail: bool = False

    async def __call__(self, items: list[RawItem]) -> None:
        if self.fail:
            raise RuntimeError("broker down")
        self.items.extend(items)


def folder_feed(path: Path, **extra: object) -> FeedDefinition:
    values: dict[str, object] = {
        "name": "drop",
        "kind": "folder",
        "source": "agency",
        "path": path,
        "pattern": "*.txt",
        "settle_seconds": 0.2,
        "poll_seconds": 0.1,
    }
    return FeedDefinition(**(values | extra))  # type: ignore[arg-type]


async def settle(runner: FeedRunner, polls: int = 3) -> None:
    for _ in range(polls):
        await runner.poll_folder()
        await asyncio.sleep(0.25)


async def test_a_folder_feed_takes_new_files_once_and_moves_them(tmp_path: Path) -> None:
    sink = Sink()
    runner = FeedRunner(folder_feed(tmp_path), tmp_path / "state", sink)
    await settle(runner)
    assert sink.items == []
    (tmp_path / "one.txt").write_text(STORY)
    (tmp_path / "notes.md").write_text("not matched by the pattern")
    await settle(runner)
    assert [item.source for item in sink.items] == ["agency"]
    assert sink.items[0].content == STORY
    assert not (tmp_path / "one.txt").exists()
    assert (tmp_path / ".processed" / "one.txt").read_text() == STORY
    assert (tmp_path / "notes.md").exists()
    await settle(runner)
    assert len(sink.items) == 1
    assert runner.health.items_total == 1


async def test_a_half_written_file_is_not_taken(tmp_path: Path) -> None:
    sink = Sink()
    runner = FeedRunner(folder_feed(tmp_path), tmp_path / "state", sink)
    growing = tmp_path / "growing.txt"
    with growing.open("w") as writer:
        for line in STORY.splitlines(keepends=True):
            writer.write(line)
            writer.flush()
            await runner.poll_folder()
            assert sink.items == []
            await asyncio.sleep(0.1)
        # Written through another name and renamed into place: never seen half-done.
        (tmp_path / "renamed.txt.part").write_text(STORY)
        await settle(runner)
        assert [item.content for item in sink.items] == [STORY]  # growing.txt is settled now
        sink.items.clear()
    (tmp_path / "renamed.txt.part").rename(tmp_path / "renamed.txt")
    await settle(runner)
    assert [item.content for item in sink.items] == [STORY]


async def test_a_restart_neither_repeats_nor_skips(tmp_path: Path) -> None:
    sink = Sink()
    first = FeedRunner(folder_feed(tmp_path), tmp_path / "state", sink)
    (tmp_path / "a.txt").write_text(STORY)
    await settle(first)
    first.save()
    # The broker is down while b.txt arrives: it stays in the folder.
    (tmp_path / "b.txt").write_text(STORY.replace("Monday", "Tuesday"))
    sink.fail = True
    with pytest.raises(RuntimeError):
        await settle(first)
    assert (tmp_path / "b.txt").exists()

    sink.fail = False
    second = FeedRunner(folder_feed(tmp_path), tmp_path / "state", sink)
    await settle(second)
    assert [item.content for item in sink.items] == [STORY, STORY.replace("Monday", "Tuesday")]
    assert second.health.items_total == 2  # remembered across the restart


async def test_the_same_file_gives_the_same_item_ids(tmp_path: Path) -> None:
    """A file sent again after a crash (between the broker's ack and the move) is a
    redelivery of the same raw item, which dedup drops, never a second story."""
    sink = Sink()
    runner = FeedRunner(folder_feed(tmp_path), tmp_path / "state", sink)
    (tmp_path / "a.txt").write_text(STORY)
    await settle(runner)
    (tmp_path / ".processed" / "a.txt").rename(tmp_path / "a.txt")
    await settle(runner)
    assert len(sink.items) == 2
    assert sink.items[0].id == sink.items[1].id


async def test_an_unreadable_file_is_quarantined_with_its_reason(tmp_path: Path) -> None:
    sink = Sink()
    runner = FeedRunner(folder_feed(tmp_path, pattern="*"), tmp_path / "state", sink)
    (tmp_path / "image.txt").write_bytes(bytes(range(256)) * 8)
    await settle(runner)
    assert sink.items == []
    reason = (tmp_path / ".quarantine" / "image.txt.reason").read_text()
    assert "not text" in reason
    assert (tmp_path / ".quarantine" / "image.txt").exists()
    assert runner.health.errors_total == 1


def rss(entries: list[tuple[str, str]]) -> bytes:
    items = "".join(
        f"<item><guid>{guid}</guid><title>{title}</title>"
        f"<description>{title}. The council said so on Monday in Gdansk.</description></item>"
        for guid, title in entries
    )
    channel = f"<channel><title>T</title>{items}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'.encode()


@dataclass
class FeedServer:
    """An RSS feed on 127.0.0.1 with an ETag; ``status`` forces an error answer."""

    entries: list[tuple[str, str]]
    status: int = 200
    retry_after: str | None = None
    requests: list[dict[str, str]] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(dict(request.headers))
        if self.status != 200:
            headers = {"Retry-After": self.retry_after} if self.retry_after else {}
            return web.Response(status=self.status, headers=headers)
        body = rss(self.entries)
        etag = f'"{hash(body) & 0xFFFFFFFF:x}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304)
        return web.Response(body=body, headers={"ETag": etag}, content_type="application/rss+xml")


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    server = FeedServer(entries=[("g1", "First story"), ("g2", "Second story")])
    app = web.Application()
    app.router.add_get("/feed.xml", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server.url = f"http://127.0.0.1:{port}/feed.xml"
    yield server
    await runner.cleanup()


def rss_feed(url: str) -> FeedDefinition:
    return FeedDefinition(name="wire", kind="rss", source="wire", format="rss", url=url)


async def test_an_rss_feed_yields_each_entry_once_and_honours_304(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    sink = Sink()
    runner = FeedRunner(rss_feed(feed_server.url), tmp_path, sink)
    async with aiohttp.ClientSession() as session:
        await runner.poll_rss(session)
        assert sorted(item.guid or "" for item in sink.items) == ["g1", "g2"]
        await runner.poll_rss(session)  # unchanged: 304, nothing sent
        assert "If-None-Match" in feed_server.requests[-1]
        assert len(sink.items) == 2
        feed_server.entries.insert(0, ("g3", "Third story"))
        await runner.poll_rss(session)
        assert [item.guid for item in sink.items[2:]] == ["g3"]
        runner.save()
        # A restart remembers the entries and the validator.
        restarted = FeedRunner(rss_feed(feed_server.url), tmp_path, sink)
        feed_server.entries.append(("g4", "Fourth story"))
        await restarted.poll_rss(session)
    assert [item.guid for item in sink.items[3:]] == ["g4"]
    assert {item.source for item in sink.items} == {"wire"}


async def run_briefly(runner: FeedRunner, seconds: float) -> None:
    """The feed's own loop for ``seconds`` and until it has polled once, well or not (a
    loaded machine may take longer over it), then cancelled as the worker's stop does."""
    async with aiohttp.ClientSession() as session:
        task = asyncio.create_task(runner.run(session))
        await asyncio.sleep(seconds)
        deadline = time.monotonic() + 10
        health = runner.health
        while health.last_poll_at is None and not health.errors_total:
            assert time.monotonic() < deadline, "the feed never polled"
            await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_an_rss_feed_backs_off_when_the_server_errors(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    sink = Sink()
    runner = FeedRunner(replace(rss_feed(feed_server.url), poll_seconds=10), tmp_path, sink)
    feed_server.status = 500
    await run_briefly(runner, 0.5)
    assert len(feed_server.requests) == 1  # one try, then it waits
    assert runner.health.consecutive_errors == 1
    assert runner.health.state(runner.feed, time.time()) == "failing"
    assert runner.next_delay() == pytest.approx(20)
    runner.health.error("again")
    runner.health.error("and again")
    assert runner.next_delay() == pytest.approx(80)
    for _ in range(20):
        runner.health.error("down for long")
    assert runner.next_delay() == pytest.approx(3600)


async def test_retry_after_is_honoured(feed_server: FeedServer, tmp_path: Path) -> None:
    runner = FeedRunner(replace(rss_feed(feed_server.url), poll_seconds=1), tmp_path, Sink())
    feed_server.status, feed_server.retry_after = 503, "120"
    await run_briefly(runner, 0.3)
    assert 100 < runner.next_delay() <= 120


async def test_a_quiet_feed_is_reported(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    feed = folder_feed(tmp_path, quiet_after_seconds=0.3)
    runner = FeedRunner(feed, tmp_path / "state", Sink())
    assert not runner.check_quiet()
    await asyncio.sleep(0.4)
    with caplog.at_level(logging.WARNING, logger="newswire.feeds"):
        assert runner.check_quiet()
        assert runner.check_quiet()
    assert [r.getMessage() for r in caplog.records].count(
        "feed drop has gone quiet: no item for over 0 s"
    ) == 1
    assert runner.health.to_json(feed, time.time())["state"] == "quiet"
    (tmp_path / "late.txt").write_text(STORY)
    os.utime(tmp_path / "late.txt", (time.time() - 5, time.time() - 5))
    await runner.poll_folder()
    await runner.poll_folder()  # the same size twice, written long ago: taken
    assert runner.health.items_total == 1
    assert not runner.check_quiet()
