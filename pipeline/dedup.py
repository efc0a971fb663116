"""The dedup stage: for every cleaned item, a new story, a new version of a known story, or a
duplicate.

The rules, checked in this order:

1. **Provider guid** seen before (same source): the same content or provider version again is
   a *redelivery*, an older provider version is *stale* (both dropped with a notice); changed
   content or a newer version is a **new version** of that story.
2. **Exact duplicate**: the same normalised headline and body as any story or version (any
   source, any guid): dropped, naming the story.
3. **Same headline or same lead** (update markers aside) from the same source, or a **near
   match** of the same source among the stories the LSH index proposes, is a **new version**
   (a rewrite, update, write-thru, correction or extension) only on the evidence of
   ``Evidence.rule``: the leads name the same subject, and, unless an update or correction
   is marked, the figures of each lead are in the other text, the figures of the two texts
   agree, and the two are hours apart, or the later is a near-verbatim repeat. A templated
   report of another issuer, amount or day is a new story.
4. **Near match** of another source, containment over the threshold and the figures agreeing:
   a **near duplicate**, dropped (policy ``drop``) or published as its own story linked to
   the first (``link``).
5. Otherwise a **new story**.

The stories and their lookup keys are held in two mappings that are Faust tables
(changelog-backed, RocksDB) in the worker and dicts in batch mode; the LSH band index is
derived from the stories' signatures, so it is a dict everywhere, refilled by
``rebuild_bands`` when the stories table was restored. ``Sweeper`` removes the stories whose
last version is older than the retention window, with all their keys.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections import Counter
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import orjson

from pipeline.clock import EventClock
from pipeline.control import NEVER_DUPLICATE, RECALLS, Kind
from pipeline.evidence import lead_figures_missing, names_agree, share_ticker
from pipeline.similarity import (
    TextProfile,
    band_keys,
    containment,
    normalised_words,
    numbers_agree,
    stored_band_keys,
)

URI_PREFIX = "urn:newswire:story:"
LEAD_WORDS = 15
MAX_SINGLE_HIT_CANDIDATES = 8
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
_MARKER_WORDS = (
    r"UPDATE(?:\s*\d+)?|UPDATED|UPDATES|WRITETHRU|WRITE-THRU|WRITETHROUGH|CORRECTED|CORRECTION"
    r"|CORRECTS|REFILE|REFILED|RECASTS?|ADDS|NEW\s+LEAD|TOP\s+WRITETHRU|\d+(?:ST|ND|RD|TH)\s+LD"
    r"(?:-WRITETHRU)?"
)
_UPDATE_MARKER = re.compile(
    rf"^\s*\(?(?:{_MARKER_WORDS})\)?\s*[-:–—]+\s*|^\s*\((?:{_MARKER_WORDS})\)\s*"
    rf"|\((?:{_MARKER_WORDS})\b[^)]*\)|^(?:Correction|Corrected|Updated|Update)\b",
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
    """The dedup state: two mappings that Faust tables or dicts can hold, and an index.

    ``stories``: story id -> ``StoryRecord`` as JSON; ``keys``: hashed lookup keys (content
    fingerprint, provider guid, headline, lead, item id) -> story id or decision. Their values
    are JSON-ready and always reassigned, never changed in place, so a changelog sees every
    change. ``bands``: LSH band key -> story ids, derived from the stories' signatures and
    kept in memory: as a table it cost 32 changelog records per story, half the worker's time.
    """

    stories: MutableMapping[str, dict[str, Any]] = field(default_factory=dict)
    keys: MutableMapping[str, str] = field(default_factory=dict)
    bands: dict[str, list[str]] = field(default_factory=dict)
    headlines: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    """Source -> story id -> headline words, derived like the bands: where a kill that
    quotes its story's headline finds it."""
    clock: EventClock = field(default_factory=EventClock)
    """The stream's own clock (in memory; after a restart set from the newest stories, by
    ``rebuild_bands``)."""
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
            list(value["keys"]),
            tuple(value.get("nm", ())),
            tuple(value.get("lf", ())),
            tuple(value.get("hw", ())),
            bool(value.get("rc", False)),
        )


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


HEADLINE_MATCH = 0.7
"""How well a headline a kill quotes must match a story's (``headline_match``)."""
CORRECTED_HEADLINE = 0.9
"""Character similarity from which a changed headline is a corrected one."""
SUBSTANTIAL_BODY = 40
"""Word 3-grams from which the same body is the same story whatever its headline."""
REFILE_HEADLINE_OVERLAP = 0.7
"""Share of headline words a company's refile keeps ("3RD QTR NET" and "3RD QTR NET SEPT")."""
TABULAR_FIGURES = 0.15
"""Distinct figures per distinct word 3-gram from which a text is a table (prose: under
0.07; results and supply tables: 0.19 and more)."""


def headline_words(headline: str) -> tuple[str, ...]:
    return tuple(normalised_words(_UPDATE_MARKER.sub(" ", headline)))


def _overlap(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    small, large = sorted((set(a), set(b)), key=len)
    return len(small & large) / len(small) if small else 0.0


def _tabular(profile: TextProfile) -> bool:
    return len(profile.numbers) >= TABULAR_FIGURES * max(profile.size, 1)


@dataclass(frozen=True)
class Evidence:
    """What links an item to an earlier story of its source, so a reader sees what decided."""

    similarity: float
    marked: bool
    """An update or correction is marked in the headline or lead."""
    same_subject: bool
    same_ticker: bool
    """Both leads name the same ticker: the one company, beyond doubt."""
    same_headline: bool
    """The two carry the same headline, update markers aside."""
    headline_overlap: float
    """Share of the shorter headline's words in the other."""
    tabular: bool
    """Either text is a table (results, supply and demand, rates): mostly figures."""
    lead_figures_missing: int
    """Figures of one lead the other text lacks."""
    figures: bool
    hours_apart: float

    @classmethod
    def between(
        cls, incoming: Incoming, record: StoryRecord, similarity: float, same_headline: bool
    ) -> Evidence:
        seen = datetime.fromtimestamp(record.seen, UTC)
        marked = marks_update(incoming.headline, incoming.opening)
        return cls(
            similarity=round(similarity, 3),
            marked=marked,
            same_subject=names_agree(incoming.names, record.names, by_tickers=not marked),
            same_ticker=share_ticker(incoming.names, record.names),
            same_headline=same_headline,
            headline_overlap=round(_overlap(headline_words(incoming.headline), record.headline), 2),
            tabular=_tabular(incoming.profile) or _tabular(record.profile),
            lead_figures_missing=lead_figures_missing(
                incoming.lead_figures,
                incoming.profile.numbers,
                record.lead_figures,
                record.profile.numbers,
            ),
            figures=numbers_agree(incoming.profile.numbers, record.profile.numbers),
            hours_apart=round(abs((incoming.received - seen).total_seconds()) / 3600, 1),
        )

    def rule(self, config: DedupConfig) -> VersionRule | None:
        """Which rule makes the item a version of that story, if one does, in this order:

        - the leads must name the same subject;
        - ``refile``: a company's refile (same ticker, its headline kept, hours later),
          whatever its figures;
        - ``marked``: a marked update or correction;
        - a table otherwise only under a headline that keeps every word of the other's:
          tables of one template share their words and many of their figures;
        - ``rewrite`` hours later, or ``repeat`` (near-verbatim, within the version window),
          with the figures agreeing: the texts', and the leads' but for one in a near-verbatim
          text or under the same ticker (an unmarked correction). Another issuer's or day's
          report differs in more figures, or comes a day later.
        """
        if not self.same_subject:
            return None
        soon = self.hours_apart <= config.rewrite_window.total_seconds() / 3600
        kept_headline = self.same_headline or self.headline_overlap >= REFILE_HEADLINE_OVERLAP
        if self.same_ticker and kept_headline and soon:
            return "refile"
        if self.marked:
            return "marked"
        if self.tabular and self.headline_overlap < 1:
            return None
        repeat = self.similarity >= config.repeat_threshold
        lead_agrees = self.lead_figures_missing == 0 or (
            soon and (repeat or self.same_ticker) and self.lead_figures_missing == 1
        )
        if not (lead_agrees and self.figures):
            return None
        return "rewrite" if soon else "repeat" if repeat else None

    def to_json(self) -> dict[str, Any]:
        return {
            "similarity": self.similarity,
            "marked": self.marked,
            "sameSubject": self.same_subject,
            "sameTicker": self.same_ticker,
            "sameHeadline": self.same_headline,
            "headlineOverlap": self.headline_overlap,
            "tabular": self.tabular,
            "leadFiguresMissing": self.lead_figures_missing,
            "figures": self.figures,
            "hoursApart": self.hours_apart,
        }


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


def fingerprint(headline_words: list[str], body_words: list[str]) -> str:
    """The exact-content key: headline and body as normalised words (case, whitespace and
    punctuation variants do not count)."""
    return hashlib.sha256(" ".join(headline_words + body_words).encode()).hexdigest()[:32]


def story_uri(story_id: str) -> str:
    return URI_PREFIX + story_id


def marks_update(headline: str, opening: str) -> bool:
    return bool(_UPDATE_MARKER.search(headline) or _UPDATE_MARKER.search(opening[:200]))


def _hashed(kind: str, *parts: str) -> str:
    """A short lookup key: what it is a key of, and 64 bits of a hash of its parts."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).hexdigest()
    return f"{kind}:{digest}"


def fingerprint_key(article_fingerprint: str) -> str:
    return f"f:{article_fingerprint[:16]}"


def item_key(item_id: str) -> str:
    """The raw item's own id: the record Kafka redelivers after a crash carries it again."""
    return _hashed("i", item_id)


def guid_key(source: str, guid: str) -> str:
    return _hashed("g", source, guid)


def headline_key(source: str, headline: str) -> str:
    return _hashed("h", source, *headline_words(headline))


def body_key(source: str, body_fingerprint: str) -> str:
    return _hashed("b", source, body_fingerprint)


def slug_key(source: str, slug: str) -> str:
    return _hashed("s", source, *normalised_words(slug))


def rewrite_keys(incoming: Incoming) -> list[str]:
    """The same source's story under the same headline, or opening with the same words (an
    update keeps its lead), update markers aside."""
    lead = normalised_words(_UPDATE_MARKER.sub(" ", incoming.opening))[:LEAD_WORDS]
    return [headline_key(incoming.source, incoming.headline), _hashed("l", incoming.source, *lead)]


def version_numbers(version: str | None) -> tuple[int, ...] | None:
    """A provider's version as numbers to compare ("2", "v1.3"), or None where it has none."""
    parts = re.findall(r"\d+", version or "")
    return tuple(int(p) for p in parts) if parts else None


def _add_to_list(mapping: MutableMapping[str, list[str]], key: str, value: str) -> None:
    current = mapping.get(key) or []
    if value not in current:
        mapping[key] = [*current, value]


def _remove_from_list(mapping: MutableMapping[str, list[str]], key: str, value: str) -> None:
    current = mapping.get(key) or []
    if value in current:
        rest = [v for v in current if v != value]
        if rest:
            mapping[key] = rest
        else:
            del mapping[key]


def _record(index: DedupIndex, story_id: str | None) -> StoryRecord | None:
    value = index.stories.get(story_id) if story_id else None
    return StoryRecord.from_json(story_id, value) if story_id and value else None


def _live(index: DedupIndex, story_id: str | None, config: DedupConfig) -> StoryRecord | None:
    """The story, unless its last version is older than the retention window in event time:
    an expired story counts as forgotten whether or not the sweeper has removed it yet, so
    decisions never depend on how far the sweep has come."""
    record = _record(index, story_id)
    cutoff = (index.now() - config.retention).timestamp()
    return record if record is not None and record.seen >= cutoff else None


def new_story_id(fingerprint: str, received: datetime, retention: timedelta) -> str:
    """A new story's id: its first text's fingerprint and the retention period it came in, so
    that a copy arriving after the story was forgotten is a story of its own, under its own
    uri, never a second "version 1" of a uri already published."""
    return _story_id(fingerprint, int(received.timestamp() // retention.total_seconds()))


def _story_id(fingerprint: str, period: int) -> str:
    return hashlib.blake2b(f"{fingerprint}:{period}".encode(), digest_size=8).hexdigest()


def _similarity(incoming: Incoming, record: StoryRecord) -> float:
    return containment(
        incoming.profile.signature,
        incoming.profile.size,
        record.profile.signature,
        record.profile.size,
    )


def _recent(record: StoryRecord, incoming: Incoming, config: DedupConfig) -> bool:
    return incoming.received - datetime.fromtimestamp(record.seen, UTC) <= config.version_window


def _duplicate(
    record: StoryRecord,
    incoming: Incoming,
    reason: Reason,
    similarity: float,
) -> Decision:
    return Decision(
        "duplicate",
        record.uri,
        record.version,
        incoming.fingerprint,
        record.first_created,
        similarity=round(similarity, 3),
        reason=reason,
        duplicate_of=record.uri,
    )


def _next_version(
    record: StoryRecord,
    incoming: Incoming,
    similarity: float,
    rule: VersionRule,
    evidence: Evidence | None = None,
) -> Decision:
    return Decision(
        "version",
        record.uri,
        record.version + 1,
        incoming.fingerprint,
        record.first_created,
        similarity=round(similarity, 3),
        reason=rule,
        version_of=record.uri,
        evidence=evidence.to_json() if evidence else None,
    )


def _by_guid(record: StoryRecord, incoming: Incoming, index: DedupIndex) -> Decision:
    """The same content again is a redelivery. An older or equal provider version is stale,
    but a kill, withhold or correction always goes out: recalling a story must not depend on
    how its provider numbers versions; and a usable version after one releases the story."""
    releases = record.recalled and incoming.kind not in RECALLS
    if index.keys.get(fingerprint_key(incoming.fingerprint)) == record.id and not releases:
        return _duplicate(record, incoming, "redelivery", 1.0)
    new, old = version_numbers(incoming.provider_version), version_numbers(record.provider_version)
    if new is not None and old is not None and new <= old and incoming.kind not in NEVER_DUPLICATE:
        return _duplicate(record, incoming, "redelivery" if new == old else "stale", 1.0)
    return _next_version(record, incoming, 1.0, "released" if releases else "guid")


def _same_source_rewrite(
    incoming: Incoming, index: DedupIndex, config: DedupConfig
) -> Decision | None:
    """A recent story of the same source under the same headline or with the same lead that
    the evidence links to the item."""
    headline_key, lead_key = rewrite_keys(incoming)
    for key in (headline_key, lead_key):
        record = _live(index, index.keys.get(key), config)
        if record is None or not _recent(record, incoming, config):
            continue
        score = _similarity(incoming, record)
        evidence = Evidence.between(incoming, record, score, same_headline=key == headline_key)
        # The same opening words are themselves the overlap a cut or an extension keeps
        # (containment says little between a first take and the full text); the same
        # headline alone is what templated reports share, so the texts must overlap too.
        overlap = evidence.marked or key == lead_key or score >= config.rewrite_threshold
        rule = evidence.rule(config) if overlap else None
        if rule is not None:
            return _next_version(record, incoming, score, rule, evidence)
    return None


def _candidates(
    incoming: Incoming, index: DedupIndex, config: DedupConfig
) -> list[tuple[float, StoryRecord]]:
    """Stories sharing an LSH band, as (containment, record), most similar first.

    Band buckets fill up as the index grows (16-bit keys), so when they propose many stories
    only those sharing two bands or more are verified: a true near copy shares several, a
    chance neighbour one. That keeps the decision cost flat up to millions of stories."""
    hits: Counter[str] = Counter()
    for key in band_keys(incoming.profile.signature):
        hits.update(index.bands.get(key) or [])
    ids = (
        list(hits)
        if len(hits) <= MAX_SINGLE_HIT_CANDIDATES
        else [story_id for story_id, count in hits.items() if count >= 2]
    )
    found = []
    for story_id in ids:
        record = _live(index, story_id, config)
        if record is not None and (score := _similarity(incoming, record)) > 0:
            found.append((score, record))
    return sorted(found, key=lambda entry: entry[0], reverse=True)


def _near_match(incoming: Incoming, index: DedupIndex, config: DedupConfig) -> Decision | None:
    for score, record in _candidates(incoming, index, config):
        if record.source == incoming.source:
            if score >= config.rewrite_threshold and _recent(record, incoming, config):
                evidence = Evidence.between(incoming, record, score, same_headline=False)
                # Below the version threshold only the same company's own copy.
                enough = score >= config.version_threshold or evidence.same_ticker
                rule = evidence.rule(config) if enough else None
                if rule is not None:
                    return _next_version(record, incoming, score, rule, evidence)
        elif (
            incoming.kind not in NEVER_DUPLICATE
            and score >= config.near_threshold
            and numbers_agree(incoming.profile.numbers, record.profile.numbers)
        ):
            if config.policy == "drop":
                return _duplicate(record, incoming, "near", score)
            return Decision(
                "new",
                "",
                1,
                incoming.fingerprint,
                incoming.created,
                similarity=round(score, 3),
                reason="near",
                duplicate_of=record.uri,
            )
    return None


def decide(incoming: Incoming, index: DedupIndex, config: DedupConfig) -> Decision:
    """Decide what ``incoming`` is, at the index's event time; does not change the index
    (``remember`` does)."""
    decided = index.keys.get(item_key(incoming.item_id))
    if decided is not None:
        return Decision.decode(decided)
    if incoming.guid:
        record = _live(index, index.keys.get(guid_key(incoming.source, incoming.guid)), config)
        if record is not None:
            return _by_guid(record, incoming, index)
    if incoming.refers_to and incoming.kind in NEVER_DUPLICATE:
        record = named_story(incoming.source, incoming.refers_to, index, config)
        if record is not None:
            return _next_version(record, incoming, 1.0, "referred")
    # A story's id comes of its first text's fingerprint: found by id too if its key was lost.
    period = int(incoming.received.timestamp() // config.retention.total_seconds())
    record = _live(index, index.keys.get(fingerprint_key(incoming.fingerprint)), config)
    for earlier in (period, period - 1):
        record = record or _live(index, _story_id(incoming.fingerprint, earlier), config)
    if record is not None:
        return _duplicate(record, incoming, "exact", 1.0)
    match = (
        _same_body(incoming, index, config)
        or _same_source_rewrite(incoming, index, config)
        or _near_match(incoming, index, config)
    )
    return match or Decision("new", "", 1, incoming.fingerprint, incoming.created)


def named_story(
    source: str, named: str, index: DedupIndex, config: DedupConfig
) -> StoryRecord | None:
    """The story of ``source`` a kill or correction names by its headline or slug, however
    the two differ in case, punctuation, update markers, a word mistyped or a headline cut
    short: the exact headline or slug first, else the best match among the source's stories
    (``HEADLINE_MATCH`` of the words at least)."""
    for key in (headline_key(source, named), slug_key(source, named)):
        record = _live(index, index.keys.get(key), config)
        if record is not None:
            return record
    words = headline_words(named)
    best: tuple[float, StoryRecord] | None = None
    for story_id, headline in index.headlines.get(source, {}).items():
        score = headline_match(words, headline)
        if score >= HEADLINE_MATCH and (best is None or score > best[0]):
            record = _live(index, story_id, config)
            best = (score, record) if record is not None else best
    return best[1] if best else None


def headline_match(named: tuple[str, ...], headline: tuple[str, ...]) -> float:
    """How well a quoted headline names a story's: the share of words the two have in
    common, of the longer; a mistyped word counts when it is nearly the other's."""
    if not named or not headline:
        return 0.0
    rest = list(headline)
    shared = 0.0
    for word in named:
        if word in rest:
            rest.remove(word)
            shared += 1
        elif close := difflib.get_close_matches(word, rest, n=1, cutoff=0.75):
            rest.remove(close[0])
            shared += 0.75
    return shared / max(len(named), len(headline))


def _same_body(incoming: Incoming, index: DedupIndex, config: DedupConfig) -> Decision | None:
    """The same source's body again under a changed headline, within the version window:
    the headline corrected (a typo mended) or rewritten. A short body (a dividend notice,
    a one-line table) is the same text as another company's, so only a corrected headline
    links it."""
    if not incoming.body_fingerprint:
        return None
    record = _live(
        index, index.keys.get(body_key(incoming.source, incoming.body_fingerprint)), config
    )
    if record is None or not _recent(record, incoming, config):
        return None
    corrected = corrects_headline(headline_words(incoming.headline), record.headline)
    if not corrected and incoming.profile.size < SUBSTANTIAL_BODY:
        return None
    return _next_version(record, incoming, 1.0, "corrected-headline" if corrected else "retitled")


def corrects_headline(new: tuple[str, ...], old: tuple[str, ...]) -> bool:
    """Whether ``new`` mends ``old`` (a typo, a figure, a word) rather than rewrites it."""
    ratio = difflib.SequenceMatcher(None, " ".join(new), " ".join(old)).ratio()
    return CORRECTED_HEADLINE <= ratio < 1.0


def remember(
    incoming: Incoming, decision: Decision, index: DedupIndex, config: DedupConfig
) -> Decision:
    """Record a new story or version in the index; returns the decision with the uri of a
    new story filled in. Every decision is kept under the item's id (with the story, so it is
    forgotten with it), so that a replayed item gets the same decision again.

    A replay writes everything again: the three tables have a changelog topic each, so a crash
    can keep any part of an item's writes (the item's decision without the story's keys, say),
    and rewriting them is harmless when they all made it."""
    if decision.status == "duplicate":
        record = _record(index, decision.uri.removeprefix(URI_PREFIX))
        if record is not None:  # a replay may come after the story was forgotten
            _remember_item(index, record, incoming, decision)
            index.stories[record.id] = record.to_json()
        return decision
    story_id = decision.uri.removeprefix(URI_PREFIX) or new_story_id(
        incoming.fingerprint, incoming.received, config.retention
    )
    decision = replace(decision, uri=story_uri(story_id))
    new_keys = [fingerprint_key(incoming.fingerprint), *rewrite_keys(incoming)]
    if incoming.guid:
        new_keys.append(guid_key(incoming.source, incoming.guid))
    if incoming.body_fingerprint:
        new_keys.append(body_key(incoming.source, incoming.body_fingerprint))
    if incoming.slug:
        new_keys.append(slug_key(incoming.source, incoming.slug))
    record = _record(index, story_id)
    if record is None:
        record = StoryRecord(
            story_id, incoming.source, incoming.created, 1, None, 0.0, incoming.profile, []
        )
    elif record.version > decision.version:
        # A replay after a later version of the story: only this item's keys may be missing.
        _remember_item(index, record, incoming, decision)
        _point_keys(index, record, new_keys)
        index.stories[record.id] = record.to_json()
        return decision
    else:
        for key in band_keys(record.profile.signature):
            _remove_from_list(index.bands, key, record.id)
    _remember_item(index, record, incoming, decision)
    record.version = decision.version
    record.provider_version = incoming.provider_version
    record.seen = incoming.received.timestamp()
    record.profile = incoming.profile
    record.names, record.lead_figures = incoming.names, incoming.lead_figures
    record.headline = headline_words(incoming.headline)
    record.recalled = incoming.kind in RECALLS
    _point_keys(index, record, new_keys)
    index.stories[record.id] = record.to_json()
    index.headlines.setdefault(record.source, {})[record.id] = record.headline
    for key in band_keys(incoming.profile.signature):
        _add_to_list(index.bands, key, record.id)
    return decision


def _point_keys(index: DedupIndex, record: StoryRecord, keys: list[str]) -> None:
    """Lookup keys to the story, listed with it so that they are forgotten with it."""
    for key in keys:
        index.keys[key] = record.id
    record.keys = [*record.keys, *(k for k in keys if k not in record.keys)]


def _remember_item(
    index: DedupIndex, record: StoryRecord, incoming: Incoming, decision: Decision
) -> None:
    key = item_key(incoming.item_id)
    index.keys[key] = decision.encode()
    if key not in record.keys:
        record.keys = [*record.keys, key]


def forget(index: DedupIndex, story_id: str) -> None:
    """Remove a story and every key and band entry that points at it."""
    record = _record(index, story_id)
    if record is None:
        return
    for key in record.keys:
        # Item keys hold their decision; the others the story id, unless since taken over.
        if key.startswith("i:") or index.keys.get(key) == story_id:
            index.keys.pop(key, None)
    for key in band_keys(record.profile.signature):
        _remove_from_list(index.bands, key, story_id)
    index.headlines.get(record.source, {}).pop(story_id, None)
    del index.stories[story_id]


def rebuild_bands(index: DedupIndex) -> int:
    """Refill the band index from the stories' signatures, after the stories table was
    restored from its changelog or changed hands, and set the clock from the newest stories
    if it is behind; returns the number of stories."""
    bands: dict[str, list[str]] = {}
    headlines: dict[str, dict[str, tuple[str, ...]]] = {}
    seen: list[float] = []
    for story_id, value in index.stories.items():
        for key in stored_band_keys(value):
            bands.setdefault(key, []).append(story_id)
        headlines.setdefault(value["src"], {})[story_id] = tuple(value.get("hw", ()))
        seen.append(float(value["seen"]))
    index.bands.clear()
    index.bands.update(bands)
    index.headlines.clear()
    index.headlines.update(headlines)
    index.clock.restart_from(seen)
    return len(seen)


def _expired(index: DedupIndex, story_id: str, cutoff: float) -> bool:
    value = index.stories.get(story_id)
    return bool(value) and value["seen"] < cutoff  # type: ignore[index]


class Sweeper:
    """Expiry a few stories at a time, so that the worker never stops for a full scan: each
    ``step`` looks at the next ``batch`` stories, cycling through the index. An item adds at
    most one story, so four per item keep the sweep ahead of arrivals at a sixteenth of the
    cost of the 64 it once looked at (one in six of the dedup agent's time)."""

    def __init__(self, index: DedupIndex, retention: timedelta, batch: int = 4) -> None:
        self.index, self.retention, self.batch = index, retention, batch
        self._ids: Iterator[str] | None = None

    def step(self, now: datetime) -> int:
        cutoff = (now - self.retention).timestamp()
        stale = []
        for _ in range(self.batch):
            if self._ids is None:
                self._ids = iter(self.index.stories.keys())
            try:
                story_id = next(self._ids)
            except (StopIteration, RuntimeError):  # the end, or a dict changed under us
                self._ids = None
                break
            if _expired(self.index, story_id, cutoff):
                stale.append(story_id)
        for story_id in stale:
            forget(self.index, story_id)
        if stale:
            self._ids = None
        return len(stale)
