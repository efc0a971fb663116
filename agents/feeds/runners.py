"""Feed runners: drop folders, RSS/Atom polling and agency pushes, each with its health.

Every item goes through the same door as ``newswire ingest``: ``raw_items_from_document``
makes the raw items (source = the feed's source, the provider's guid where the format has
one) and ``send`` returns only once the broker acknowledged them. A feed's memory (entries
sent, HTTP validators, health) is a JSON file under ``$NEWSWIRE_HOME/feeds/``, written after
every poll, so a restart neither repeats nor skips and ``newswire feeds list`` can read it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import shutil
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from agents.kafka.raw import Send
from pipeline.config import Settings
from pipeline.feeds import (
    FeedDefinition,
    FeedHealth,
    SeenEntries,
    entry_key,
    folder_item_id,
    load_feeds,
)
from pipeline.ingest import raw_items_from_document, raw_items_from_request
from pipeline.records import RawItem, Rejected

MAX_BACKOFF_S = 3600.0
FETCH_TIMEOUT_S = 30.0
IN_PROGRESS = re.compile(r"(^\.|\.(tmp|part|partial|filepart|crdownload)$|~$)")
"""Names a writer uses before renaming the finished file into place."""
log = logging.getLogger("newswire.feeds")


class FetchError(RuntimeError):
    """A feed could not be fetched; ``retry_after`` is the server's wish in seconds."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class FeedRunner:
    """One feed: its definition, memory and health, and the loop that polls it."""

    def __init__(self, feed: FeedDefinition, state_dir: Path, send: Send) -> None:
        self.feed, self.send = feed, send
        self.state_file = state_dir / f"{feed.name}.json"
        self.health = FeedHealth()
        self.seen = SeenEntries(feed.remember)
        self.validators: dict[str, str] = {}
        self.not_before = 0.0
        self.warned_quiet = False
        self._sizes: dict[str, tuple[int, int]] = {}
        self._load()

    def _load(self) -> None:
        try:
            saved = orjson.loads(self.state_file.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return
        self.seen = SeenEntries(self.feed.remember, saved.get("seen", []))
        self.validators = saved.get("validators", {})
        health = saved.get("health", {})
        self.health.last_item_at = health.get("lastItemAt")
        self.health.items_total = health.get("itemsTotal", 0)
        self.health.errors_total = health.get("errorsTotal", 0)
        self.health.consecutive_errors = health.get("consecutiveErrors", 0)
        self.health.per_minute = {int(m): int(n) for m, n in health.get("perMinute", [])}
        self.health.last_error = health.get("lastError")
        # Quiet is counted from the first start when the feed never had an item.
        self.health.started_at = health.get("startedAt", self.health.started_at)

    def save(self) -> None:
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "seen": self.seen.to_json(),
            "validators": self.validators,
            "health": self.health.to_json(self.feed, time.time()),
        }
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_bytes(orjson.dumps(state))
        temporary.replace(self.state_file)

    async def run(self, session: aiohttp.ClientSession) -> None:
        """Poll until cancelled; an error is counted and backed off, never raised."""
        while True:
            try:
                await self.poll(session)
            except Exception as error:  # counted and backed off; unsent items stay for next time
                self._failed(_reason(error))
                if isinstance(error, FetchError) and error.retry_after:
                    self.not_before = time.time() + error.retry_after
            self.check_quiet()
            self.save()
            await asyncio.sleep(self.next_delay())

    def _failed(self, reason: str) -> None:
        self.health.error(reason)
        log.warning("feed %s failed: %s", self.feed.name, reason, extra={"feed": self.feed.name})

    def next_delay(self) -> float:
        """The poll interval, doubled per consecutive error up to an hour, and never before
        the server said (Retry-After, Cache-Control max-age)."""
        backoff = 2.0 ** min(self.health.consecutive_errors, 12)
        delay = min(self.feed.poll_seconds * backoff, max(MAX_BACKOFF_S, self.feed.poll_seconds))
        return max(delay, self.not_before - time.time())

    def check_quiet(self) -> bool:
        quiet = self.health.quiet(self.feed, time.time())
        if quiet and not self.warned_quiet:
            log.warning(
                "feed %s has gone quiet: no item for over %.0f s",
                self.feed.name,
                self.feed.quiet_after_seconds,
                extra={"feed": self.feed.name},
            )
        self.warned_quiet = quiet
        return quiet

    async def poll(self, session: aiohttp.ClientSession) -> None:
        if self.feed.kind == "folder":
            await self.poll_folder()
        elif self.feed.kind == "rss":
            await self.poll_rss(session)

    async def poll_folder(self) -> None:
        """Take each settled file: send its items, then move it to ``.processed``; a file
        that cannot be read goes to ``.quarantine`` beside a ``.reason`` file."""
        feed = self.feed
        assert feed.path is not None
        if not feed.path.is_dir():
            raise FetchError(f"folder {feed.path} does not exist")
        now = time.time()
        present = set()
        for path in sorted(feed.path.glob(feed.pattern)):
            if IN_PROGRESS.search(path.name) or not path.is_file():
                continue
            present.add(path.name)
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            size = (stat.st_size, stat.st_mtime_ns)
            settled = self._sizes.get(path.name) == size
            self._sizes[path.name] = size
            if not settled or now - stat.st_mtime < feed.settle_seconds:
                continue
            await self._take_file(path)
            self._sizes.pop(path.name, None)
        for gone in self._sizes.keys() - present:
            del self._sizes[gone]
        self.health.polled(now)

    async def _take_file(self, path: Path) -> None:
        try:
            data = path.read_bytes()
            items = raw_items_from_document(
                data,
                source=self.feed.source,
                format=self.feed.format,
                id_base=folder_item_id(self.feed.name, path.name, data),
            )
        except (OSError, Rejected) as error:
            reason = _reason(error)
            destination = _move(path, self.feed.quarantine_dir)
            destination.with_name(destination.name + ".reason").write_text(reason + "\n")
            self.health.error(f"{path.name}: {reason}")
            log.warning("feed %s quarantined %s: %s", self.feed.name, path.name, reason)
            return
        await self.send(items)
        _move(path, self.feed.processed_dir)
        self.health.items(len(items), time.time())

    async def poll_rss(self, session: aiohttp.ClientSession) -> None:
        """A conditional GET; the entries not sent before are sent, then remembered. The
        validators are kept only once everything is sent, so a failure means a full fetch."""
        feed = self.feed
        assert feed.url is not None
        if time.time() < self.not_before:
            return
        headers = {
            "User-Agent": f"Newswire/{version('newswire')} (feed {feed.name})",
            "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.1",
        }
        if "etag" in self.validators:
            headers["If-None-Match"] = self.validators["etag"]
        if "lastModified" in self.validators:
            headers["If-Modified-Since"] = self.validators["lastModified"]
        timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT_S)
        async with session.get(feed.url, headers=headers, timeout=timeout) as response:
            self.not_before = time.time() + _max_age(response.headers.get("Cache-Control", ""))
            if response.status == 304:
                self.health.polled(time.time())
                return
            if response.status >= 400:
                retry = _retry_after(response.headers.get("Retry-After"))
                raise FetchError(f"HTTP {response.status} from {feed.url}", retry)
            body = await response.read()
            validators = {
                name: response.headers[header]
                for name, header in (("etag", "ETag"), ("lastModified", "Last-Modified"))
                if header in response.headers
            }
        items = raw_items_from_document(body, source=feed.source, format=feed.format)
        fresh: dict[str, RawItem] = {}
        for item in items:
            key = entry_key(item)
            if key not in self.seen and key not in fresh:
                fresh[key] = item
        if fresh:
            await self.send(list(fresh.values()))
            for key in fresh:
                self.seen.add(key)
            self.health.items(len(fresh), time.time())
        self.validators = validators
        self.health.polled(time.time())

    async def push(self, body: bytes, query: Mapping[str, str]) -> list[RawItem]:
        """An agency's push: a raw item or a document, sent before the answer. The document
        is split beside the event loop: a large feed must not hold up the worker."""
        items = await asyncio.get_running_loop().run_in_executor(
            None,
            functools.partial(
                raw_items_from_request,
                body,
                source=self.feed.source,
                format=query.get("format", self.feed.format),
                guid=query.get("guid"),
                url=query.get("url"),
            ),
        )
        await self.send(items)
        self.health.items(len(items), time.time())
        self.save()
        return items


class Feeds:
    """Every feed of the feed file, run together."""

    def __init__(self, settings: Settings, send: Send) -> None:
        definitions = load_feeds(Path(settings.feeds_file)) if settings.feeds_file else []
        state_dir = settings.home / "feeds" / settings.faust_id
        self.runners = {feed.name: FeedRunner(feed, state_dir, send) for feed in definitions}

    def health(self) -> list[dict[str, Any]]:
        now = time.time()
        return [runner.health.to_json(runner.feed, now) for runner in self.runners.values()]

    async def run(self) -> None:
        """Run the polling feeds until cancelled; pushes arrive through ``push``."""
        async with aiohttp.ClientSession() as session:
            polled = [r for r in self.runners.values() if r.feed.kind != "http-push"]
            await asyncio.gather(*(runner.run(session) for runner in polled))

    async def watch_pushes(self) -> None:
        """Push feeds have no loop of their own: check them for quiet once a minute."""
        pushed = [r for r in self.runners.values() if r.feed.kind == "http-push"]
        while pushed:
            for runner in pushed:
                runner.check_quiet()
            await asyncio.sleep(60)

    def runner(self, name: str) -> FeedRunner | None:
        """The push feed of that name, if there is one."""
        runner = self.runners.get(name)
        return runner if runner is not None and runner.feed.kind == "http-push" else None


def _move(path: Path, folder: Path) -> Path:
    """Move ``path`` into ``folder`` under a name not taken yet."""
    folder.mkdir(exist_ok=True)
    destination = folder / path.name
    if destination.exists():
        destination = folder / f"{path.stem}.{time.time_ns()}{path.suffix}"
    shutil.move(path, destination)
    return destination


def _max_age(cache_control: str) -> float:
    found = re.search(r"max-age=(\d+)", cache_control)
    return float(found.group(1)) if found else 0.0


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    with contextlib.suppress(TypeError, ValueError):
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    return None


def _reason(error: BaseException) -> str:
    if isinstance(error, Rejected):
        return error.reason
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}: {error.filename}" if error.filename else error.strerror
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def feeds_state(settings: Settings) -> list[dict[str, Any]]:
    """Each feed of the feed file with the health its runner saved last (for ``feeds list``)."""
    definitions = load_feeds(Path(settings.feeds_file), tokens=False)
    state_dir = settings.home / "feeds" / settings.faust_id
    now = time.time()
    return [FeedRunner(feed, state_dir, _no_send).health.to_json(feed, now) for feed in definitions]


async def _no_send(items: list[RawItem]) -> None:
    raise RuntimeError("feeds list sends nothing")
