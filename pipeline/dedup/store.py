"""What dedup keeps and compares: its configuration, the index (stories, lookup keys, bands,
clock), the story record as stored, the incoming item, the decision, and the lookup keys."""

from __future__ import annotations

import hashlib
import re
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import orjson

from pipeline.clock import EventClock
from pipeline.control import Kind
from pipeline.similarity import (
    TextProfile,
    containment,
    normalised_words,
)

URI_PREFIX = "urn:newswire:story:"


LEAD_WORDS = 15


Status = Literal["new", "version", "duplicate"]


Reason = Literal["redelivery", "stale", "exact", "near"]


VersionRule = Literal[
    "guid",
    "released",
    "referred",
    "corrected-headline",
    "retitled",
    "refile",
    "marked",
    "rewrite",
    "repeat",
]
"""What made a decided version one (``guid``; ``released``: by guid, a usable version of a
killed or withheld story; ``referred``: a kill or correction naming the story's headline;
``corrected-headline`` and ``retitled``: the same body under a corrected or a rewritten
headline; or the ``Evidence.rule`` that linked it)."""


# Wire update markers as agencies set them: a slug opening the headline ("UPDATE 2-",
# "CORRECTED - ", "(REFILE)"), a note in parentheses ("(Adds quotes)", "(CORRECTS figure)"),
# or an opening that says so. A marker word inside an all-capitals headline ("FED ADDS
# RESERVES") is a headline word, not a marker.
MARKER_WORDS = (
    r"UPDATE(?:\s*\d+)?|UPDATED|UPDATES|WRITETHRU|WRITE-THRU|WRITETHROUGH|CORRECTED|CORRECTION"
    r"|CORRECTS|REFILE|REFILED|RECASTS?|ADDS|NEW\s+LEAD|TOP\s+WRITETHRU|\d+(?:ST|ND|RD|TH)\s+LD"
    r"(?:-WRITETHRU)?"
)


UPDATE_MARKER = re.compile(
    rf"^\s*\(?(?:{MARKER_WORDS})\)?\s*[-:–—]+\s*|^\s*\((?:{MARKER_WORDS})\)\s*"
    rf"|\((?:{MARKER_WORDS})\b[^)]*\)|^(?:Correction|Corrected|Updated|Update)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DedupConfig:
    near_threshold: float = 0.85
    """Containment from which another source's story is a near duplicate."""
    version_threshold: float = 0.5
    """Containment from which the same source's story is an earlier version."""
    rewrite_threshold: float = 0.3
    """Containment an unmarked rewrite under the same headline or lead must still keep."""
    repeat_threshold: float = 0.85
    """Containment from which an unmarked text is a repeat of the story, however many hours
    after it (within the version window)."""
    rewrite_window: timedelta = timedelta(hours=16)
    """How long after a story an unmarked rewrite that is not a repeat may follow it."""
    policy: Literal["drop", "link"] = "drop"
    version_window: timedelta = timedelta(hours=72)
    retention: timedelta = timedelta(days=7)


@dataclass
class DedupIndex:
    """The dedup state: one mapping that a Faust table or a dict can hold, and the indexes
    derived from it.

    ``stories``: story id -> ``StoryRecord`` as JSON, the only state kept: its values are
    JSON-ready and always reassigned, never changed in place, so a changelog sees every
    change, and an item's whole effect is one record. ``keys``: hashed lookup keys (content
    fingerprint, provider guid, headline, lead, body, slug, item id) -> story id or decision;
    ``bands``: LSH band key -> story ids. Both are derived from the stories and kept in memory
    (``rebuild_derived``): as tables they cost five and 32 changelog records per story.
    """

    stories: MutableMapping[str, dict[str, Any]] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    bands: dict[str, list[str]] = field(default_factory=dict)
    headlines: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    """Source -> story id -> headline words, derived like the bands: where a kill that
    quotes its story's headline finds it."""
    expiry: list[tuple[float, str]] = field(default_factory=list)
    """A heap of (last seen, story id), one entry per version, derived like the bands: the
    sweeper takes the oldest off it."""
    clock: EventClock = field(default_factory=EventClock)
    """The stream's own clock (in memory; after a restart set from the newest stories, by
    ``rebuild_derived``)."""
    deciding_at: float = 0.0
    """The time the item in hand is decided at: the clock, or the item's own time where it
    is later (a story older than the retention then counts as forgotten for it)."""

    def now(self) -> datetime:
        """Event time for the decision in hand (``pipeline.clock``). Retention and windows
        run on it, so an archive replayed months later decides as it did then, in the worker
        and in ``newswire process`` alike; never ahead of the wall clock."""
        return min(datetime.fromtimestamp(self.deciding_at, UTC), datetime.now(UTC))

    def advance(self, received: datetime) -> None:
        """The next item arrives: the clock follows the bulk of the stream, and the item is
        decided at its own time where that is later, so that an item stamped years late
        costs only its own decision."""
        self.clock.advance(received)
        self.deciding_at = max(self.clock.time, received.timestamp())


@dataclass
class StoryRecord:
    """What dedup keeps of a story: enough to compare, version and forget it."""

    id: str
    source: str
    first_created: str
    version: int
    provider_version: str | None
    seen: float
    profile: TextProfile
    keys: list[str]
    names: tuple[str, ...] = ()
    lead_figures: tuple[str, ...] = ()
    """Who the last version's lead names and which figures it gives (``pipeline.evidence``)."""
    headline: tuple[str, ...] = ()
    """The last version's headline words, update markers aside."""
    recalled: bool = False
    """The last version is a kill or withhold: a usable version releases the story, even with
    the text it had before."""
    decisions: dict[str, str] = field(default_factory=dict)
    """Item key -> encoded decision of the latest items decided for the story (at most
    ``KEPT_DECISIONS``), so that an item replayed after a crash is decided as it was."""

    @property
    def uri(self) -> str:
        return story_uri(self.id)

    def to_json(self) -> dict[str, Any]:
        return {
            "src": self.source,
            "first": self.first_created,
            "v": self.version,
            "pv": self.provider_version,
            "seen": round(self.seen, 1),
            **self.profile.to_json(),
            "keys": self.keys,
            "nm": list(self.names),
            "lf": list(self.lead_figures),
            "hw": list(self.headline),
            **({"rc": True} if self.recalled else {}),
            "dec": self.decisions,
        }

    @classmethod
    def from_json(cls, story_id: str, value: dict[str, Any]) -> StoryRecord:
        return cls(
            story_id,
            value["src"],
            value["first"],
            value["v"],
            value["pv"],
            value["seen"],
            TextProfile.from_json(value),
            lookup_keys(value),
            tuple(value.get("nm", ())),
            tuple(value.get("lf", ())),
            tuple(value.get("hw", ())),
            bool(value.get("rc", False)),
            dict(value.get("dec", {})),
        )


KEPT_DECISIONS = 256
"""Item decisions a story keeps. A replay comes within seconds of its first decision; the
bound keeps the record of a story resent all week small enough to rewrite per item."""


def lookup_keys(value: dict[str, Any]) -> list[str]:
    """A stored story's lookup keys. Records written while decisions had a table of their
    own list their items' keys too; without their decisions those are dropped."""
    return [key for key in value["keys"] if not key.startswith("i:")]


@dataclass(frozen=True)
class Incoming:
    """What dedup needs of a cleaned item."""

    item_id: str
    source: str
    guid: str | None
    provider_version: str | None
    fingerprint: str
    profile: TextProfile
    headline: str
    opening: str
    created: str
    received: datetime
    names: tuple[str, ...] = ()
    lead_figures: tuple[str, ...] = ()
    kind: Kind = "story"
    refers_to: str | None = None
    """The headline (or slug) of the story a kill or correction names (plain copy)."""
    body_fingerprint: str = ""
    """The exact-content key of the body alone: the same text under another headline."""
    slug: str | None = None


@dataclass(frozen=True)
class Decision:
    status: Status
    uri: str
    version: int
    fingerprint: str
    first_created: str
    similarity: float = 1.0
    reason: Reason | VersionRule | None = None
    """Why a duplicate is one, or what made a version one."""
    version_of: str | None = None
    duplicate_of: str | None = None
    evidence: dict[str, Any] | None = None
    """For a version found by its content: ``Evidence.to_json``."""
    replay: bool = False
    """The item was decided before (a redelivery after a crash): the same decision again."""

    def encode(self) -> str:
        return orjson.dumps(
            [self.status, self.uri, self.version, self.fingerprint, self.first_created,
             self.similarity, self.reason, self.version_of, self.duplicate_of, self.evidence]
        ).decode()  # fmt: skip

    @classmethod
    def decode(cls, text: str) -> Decision:
        status, uri, version, fingerprint, first_created, *rest = orjson.loads(text)
        similarity, reason, version_of, duplicate_of, *evidence = rest
        return cls(
            status, uri, version, fingerprint, first_created, similarity, reason,
            version_of, duplicate_of, evidence[0] if evidence else None, replay=True,
        )  # fmt: skip


def headline_words(headline: str) -> tuple[str, ...]:
    return tuple(normalised_words(UPDATE_MARKER.sub(" ", headline)))


def fingerprint(headline_words: list[str], body_words: list[str]) -> str:
    """The exact-content key: headline and body as normalised words (case, whitespace and
    punctuation variants do not count)."""
    return hashlib.sha256(" ".join(headline_words + body_words).encode()).hexdigest()[:32]


def story_uri(story_id: str) -> str:
    return URI_PREFIX + story_id


def marks_update(headline: str, opening: str) -> bool:
    return bool(UPDATE_MARKER.search(headline) or UPDATE_MARKER.search(opening[:200]))


def hashed_key(kind: str, *parts: str) -> str:
    """A short lookup key: what it is a key of, and 64 bits of a hash of its parts."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).hexdigest()
    return f"{kind}:{digest}"


def fingerprint_key(article_fingerprint: str) -> str:
    return f"f:{article_fingerprint[:16]}"


def item_key(item_id: str) -> str:
    """The raw item's own id: the record Kafka redelivers after a crash carries it again."""
    return hashed_key("i", item_id)


def guid_key(source: str, guid: str) -> str:
    return hashed_key("g", source, guid)


def headline_key(source: str, headline: str) -> str:
    return hashed_key("h", source, *headline_words(headline))


def body_key(source: str, body_fingerprint: str) -> str:
    return hashed_key("b", source, body_fingerprint)


def slug_key(source: str, slug: str) -> str:
    return hashed_key("s", source, *normalised_words(slug))


def rewrite_keys(incoming: Incoming) -> list[str]:
    """The same source's story under the same headline, or opening with the same words (an
    update keeps its lead), update markers aside."""
    lead = normalised_words(UPDATE_MARKER.sub(" ", incoming.opening))[:LEAD_WORDS]
    return [
        headline_key(incoming.source, incoming.headline),
        hashed_key("l", incoming.source, *lead),
    ]


def version_numbers(version: str | None) -> tuple[int, ...] | None:
    """A provider's version as numbers to compare ("2", "v1.3"), or None where it has none."""
    parts = re.findall(r"\d+", version or "")
    return tuple(int(p) for p in parts) if parts else None


def record_of(index: DedupIndex, story_id: str | None) -> StoryRecord | None:
    value = index.stories.get(story_id) if story_id else None
    return StoryRecord.from_json(story_id, value) if story_id and value else None


def live_story(index: DedupIndex, story_id: str | None, config: DedupConfig) -> StoryRecord | None:
    """The story, unless its last version is older than the retention window in event time:
    an expired story counts as forgotten whether or not the sweeper has removed it yet, so
    decisions never depend on how far the sweep has come."""
    record = record_of(index, story_id)
    cutoff = (index.now() - config.retention).timestamp()
    return record if record is not None and record.seen >= cutoff else None


def new_story_id(fingerprint: str, received: datetime, retention: timedelta) -> str:
    """A new story's id: its first text's fingerprint and the retention period it came in, so
    that a copy arriving after the story was forgotten is a story of its own, under its own
    uri, never a second "version 1" of a uri already published."""
    return story_id_in(fingerprint, int(received.timestamp() // retention.total_seconds()))


def story_id_in(fingerprint: str, period: int) -> str:
    return hashlib.blake2b(f"{fingerprint}:{period}".encode(), digest_size=8).hexdigest()


def similarity(incoming: Incoming, record: StoryRecord) -> float:
    return containment(
        incoming.profile.signature,
        incoming.profile.size,
        record.profile.signature,
        record.profile.size,
    )


def recent(record: StoryRecord, incoming: Incoming, config: DedupConfig) -> bool:
    return incoming.received - datetime.fromtimestamp(record.seen, UTC) <= config.version_window
