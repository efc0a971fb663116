"""Feed definitions and what a feed remembers: the entries it sent and its health.

A feed file (``NEWSWIRE_FEEDS_FILE``, YAML or JSON) lists the feeds a newsroom ingests from
without anyone running ``newswire ingest``: drop folders, RSS/Atom URLs and agency pushes. The
runners live in ``agents/feeds/runners.py``; everything here is pure and testable without a
network.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from pipeline.records import FORMATS, RawItem

FeedKind = Literal["folder", "rss", "http-push"]
KINDS: tuple[FeedKind, ...] = ("folder", "rss", "http-push")
NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
HOUR_S = 3600.0


class FeedError(ValueError):
    """A feed file that cannot be used; the message names the file, the feed and the field."""


@dataclass(frozen=True)
class FeedDefinition:
    """One feed as the feed file declares it."""

    name: str
    kind: FeedKind
    source: str
    format: str = "auto"
    poll_seconds: float = 60.0
    quiet_after_seconds: float = 3600.0
    """No item for this long and the feed is reported as gone quiet."""
    path: Path | None = None
    pattern: str = "*"
    settle_seconds: float = 2.0
    """A folder file is taken once its size and time stayed the same this long."""
    url: str | None = None
    remember: int = 5000
    """Entry ids an RSS feed keeps, so that an entry is sent once."""
    token: str | None = None
    """The bearer token an agency must send to push (read from ``token_env``)."""

    @property
    def processed_dir(self) -> Path:
        assert self.path is not None
        return self.path / ".processed"

    @property
    def quarantine_dir(self) -> Path:
        assert self.path is not None
        return self.path / ".quarantine"


def load_feeds(
    path: Path, environ: dict[str, str] | None = None, *, tokens: bool = True
) -> list[FeedDefinition]:
    """The feeds of a feed file, checked; ``FeedError`` says what is wrong and where.
    ``tokens=False`` reads it without the push tokens (to list feeds, not to run them)."""
    env = dict(os.environ) if environ is None else environ
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as error:
        raise FeedError(f"{path}: {error.strerror or error}") from None
    except yaml.YAMLError as error:
        raise FeedError(f"{path}: not YAML or JSON: {error}") from None
    entries = data.get("feeds") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise FeedError(f"{path}: expected an object with a 'feeds' list")
    feeds = [
        _feed(entry, str(path), number, env, tokens) for number, entry in enumerate(entries, 1)
    ]
    names = [feed.name for feed in feeds]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise FeedError(f"{path}: feed names must be unique: {', '.join(repeated)}")
    return feeds


_COMMON = {"name", "kind", "source", "format", "poll_seconds", "quiet_after_seconds"}
_BY_KIND = {
    "folder": _COMMON | {"path", "pattern", "settle_seconds"},
    "rss": _COMMON | {"url", "remember"},
    "http-push": _COMMON | {"token_env"},
}


def _feed(entry: Any, path: str, number: int, env: dict[str, str], tokens: bool) -> FeedDefinition:
    if not isinstance(entry, dict):
        raise FeedError(f"{path}: feed {number}: expected an object")
    name = entry.get("name")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise FeedError(
            f"{path}: feed {number}: 'name' must be lower-case letters, digits, '.', '_' or '-'"
        )
    where = f"{path}: feed {name}"
    kind = entry.get("kind")
    if kind not in KINDS:
        raise FeedError(f"{where}: 'kind' must be one of {', '.join(KINDS)}")
    unknown = sorted(set(entry) - _BY_KIND[kind])
    if unknown:
        raise FeedError(f"{where}: unknown fields for a {kind} feed: {', '.join(unknown)}")
    if entry.get("format", "auto") not in FORMATS:
        raise FeedError(f"{where}: 'format' must be one of {', '.join(FORMATS)}")
    values: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "source": str(entry.get("source", name)),
        "format": entry.get("format", "rss" if kind == "rss" else "auto"),
    }
    for setting in ("poll_seconds", "quiet_after_seconds", "settle_seconds", "remember"):
        if setting in entry:
            value = entry[setting]
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise FeedError(f"{where}: '{setting}' must be a positive number")
            values[setting] = value
    if kind == "folder":
        if not isinstance(entry.get("path"), str):
            raise FeedError(f"{where}: a folder feed needs 'path'")
        values["path"] = Path(entry["path"]).expanduser()
        values["pattern"] = str(entry.get("pattern", "*"))
    elif kind == "rss":
        url = entry.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise FeedError(f"{where}: an rss feed needs an http(s) 'url'")
        values["url"] = url
        values["remember"] = int(values.get("remember", 5000))
    else:
        variable = entry.get("token_env")
        if not isinstance(variable, str) or (tokens and not env.get(variable)):
            raise FeedError(
                f"{where}: an http-push feed needs 'token_env', a variable holding its token"
            )
        values["token"] = env.get(variable)
    return FeedDefinition(**values)


def folder_item_id(feed: str, filename: str, content: bytes) -> str:
    """The same file gives the same ids, so a file sent again after a crash is a redelivery."""
    digest = hashlib.sha256(content).hexdigest()[:16]
    return f"{feed}:{filename}:{digest}"


def entry_key(item: RawItem) -> str:
    """What identifies a feed entry: its guid (or link), else a hash of its content."""
    if item.guid:
        return item.guid
    return "sha256:" + hashlib.sha256(item.content.encode()).hexdigest()[:32]


class SeenEntries:
    """The newest ``limit`` entry keys a feed sent, oldest forgotten first."""

    def __init__(self, limit: int, keys: list[str] | None = None) -> None:
        self.limit = limit
        self._keys: OrderedDict[str, None] = OrderedDict((key, None) for key in keys or [])
        self._trim()

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: str) -> None:
        self._keys[key] = None
        self._keys.move_to_end(key)
        self._trim()

    def to_json(self) -> list[str]:
        return list(self._keys)

    def _trim(self) -> None:
        while len(self._keys) > self.limit:
            self._keys.popitem(last=False)


@dataclass
class FeedHealth:
    """What ``feeds list``, the metrics and the dashboard say about a feed."""

    started_at: float = field(default_factory=time.time)
    last_item_at: float | None = None
    last_poll_at: float | None = None
    items_total: int = 0
    errors_total: int = 0
    consecutive_errors: int = 0
    last_error: str | None = None
    per_minute: dict[int, int] = field(default_factory=dict)
    """Items per minute (Unix time // 60) over the last hour."""

    def items(self, count: int, now: float) -> None:
        self.items_total += count
        self.last_item_at = now
        minute = int(now // 60)
        self.per_minute[minute] = self.per_minute.get(minute, 0) + count
        self.consecutive_errors = 0

    def polled(self, now: float) -> None:
        self.last_poll_at = now
        self.consecutive_errors = 0

    def error(self, reason: str) -> None:
        self.errors_total += 1
        self.consecutive_errors += 1
        self.last_error = reason[:300]

    def items_last_hour(self, now: float) -> int:
        oldest = int((now - HOUR_S) // 60) + 1
        for minute in [m for m in self.per_minute if m < oldest]:
            del self.per_minute[minute]
        return sum(self.per_minute.values())

    def quiet(self, feed: FeedDefinition, now: float) -> bool:
        """No item for longer than the feed's expectation (counted from start without any)."""
        since = self.last_item_at if self.last_item_at is not None else self.started_at
        return now - since > feed.quiet_after_seconds

    def state(self, feed: FeedDefinition, now: float) -> str:
        if self.consecutive_errors:
            return "failing"
        return "quiet" if self.quiet(feed, now) else "ok"

    def to_json(self, feed: FeedDefinition, now: float) -> dict[str, Any]:
        return {
            "name": feed.name,
            "kind": feed.kind,
            "state": self.state(feed, now),
            "startedAt": self.started_at,
            "lastItemAt": self.last_item_at,
            "lastPollAt": self.last_poll_at,
            "itemsLastHour": self.items_last_hour(now),
            "itemsTotal": self.items_total,
            "errorsTotal": self.errors_total,
            "consecutiveErrors": self.consecutive_errors,
            "lastError": self.last_error,
            "perMinute": sorted(self.per_minute.items()),
        }
