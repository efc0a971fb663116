"""Keeping the index: a decided story and its keys remembered, forgotten after the
retention, the in-memory indexes derived from the stories rebuilt after an assignment, and the
sweeper that expires stories a few at a time."""

from __future__ import annotations

import heapq
from collections.abc import MutableMapping
from dataclasses import replace
from datetime import datetime, timedelta

from pipeline.control import RECALLS
from pipeline.dedup.store import (
    KEPT_DECISIONS,
    URI_PREFIX,
    Decision,
    DedupConfig,
    DedupIndex,
    Incoming,
    StoryRecord,
    body_key,
    fingerprint_key,
    guid_key,
    headline_words,
    item_key,
    lookup_keys,
    new_story_id,
    record_of,
    rewrite_keys,
    slug_key,
    story_uri,
)
from pipeline.similarity import (
    band_keys,
    stored_band_keys,
)


def remember(
    incoming: Incoming, decision: Decision, index: DedupIndex, config: DedupConfig
) -> Decision:
    """Record a new story or version in the index; returns the decision with the uri of a
    new story filled in. Every decision is kept with the story under the item's id (so it is
    forgotten with it), so that a replayed item gets the same decision again.

    An item's whole effect is one story record (two where it takes a lookup key over from
    another story), so a crash keeps all of it or none; a replay writes it again, which is
    harmless when it made it."""
    if decision.status == "duplicate":
        record = record_of(index, decision.uri.removeprefix(URI_PREFIX))
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
    record = record_of(index, story_id)
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
            remove_from_list(index.bands, key, record.id)
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
    heapq.heappush(index.expiry, (record.seen, record.id))
    index.headlines.setdefault(record.source, {})[record.id] = record.headline
    for key in band_keys(incoming.profile.signature):
        add_to_list(index.bands, key, record.id)
    return decision


def _point_keys(index: DedupIndex, record: StoryRecord, keys: list[str]) -> None:
    """Lookup keys to the story, listed with it so that they are forgotten with it. A key
    another story held leaves that story's list, so that each key is listed by the one story
    it points at and the keys rebuilt from the stories are the ones kept as they came."""
    for key in keys:
        holder = index.keys.get(key)
        if holder is not None and holder != record.id:
            _release(index, holder, key)
        index.keys[key] = record.id
    record.keys = [*record.keys, *(k for k in keys if k not in record.keys)]


def _release(index: DedupIndex, story_id: str, key: str) -> None:
    record = record_of(index, story_id)
    if record is not None and key in record.keys:
        record.keys = [k for k in record.keys if k != key]
        index.stories[story_id] = record.to_json()


def _remember_item(
    index: DedupIndex, record: StoryRecord, incoming: Incoming, decision: Decision
) -> None:
    """The item's decision, with the story; its oldest item decisions beyond
    ``KEPT_DECISIONS`` are forgotten."""
    key = item_key(incoming.item_id)
    decisions = {k: v for k, v in record.decisions.items() if k != key}
    decisions[key] = index.keys[key] = decision.encode()
    for old in list(decisions)[: max(0, len(decisions) - KEPT_DECISIONS)]:
        del decisions[old]
        index.keys.pop(old, None)
    record.decisions = decisions


def add_to_list(mapping: MutableMapping[str, list[str]], key: str, value: str) -> None:
    current = mapping.get(key) or []
    if value not in current:
        mapping[key] = [*current, value]


def remove_from_list(mapping: MutableMapping[str, list[str]], key: str, value: str) -> None:
    current = mapping.get(key) or []
    if value in current:
        rest = [v for v in current if v != value]
        if rest:
            mapping[key] = rest
        else:
            del mapping[key]


def forget(index: DedupIndex, story_id: str) -> None:
    """Remove a story and every key and band entry that points at it."""
    record = record_of(index, story_id)
    if record is None:
        return
    for key in record.decisions:
        index.keys.pop(key, None)
    for key in record.keys:
        if index.keys.get(key) == story_id:
            index.keys.pop(key, None)
    for key in band_keys(record.profile.signature):
        remove_from_list(index.bands, key, story_id)
    index.headlines.get(record.source, {}).pop(story_id, None)
    del index.stories[story_id]


def rebuild_derived(index: DedupIndex) -> int:
    """Refill the lookup keys, the band, headline and expiry indexes from the stories,
    after the stories table was restored from its changelog or changed hands, and set the
    clock from the newest stories if it is behind; returns the number of stories."""
    keys: dict[str, str] = {}
    bands: dict[str, list[str]] = {}
    headlines: dict[str, dict[str, tuple[str, ...]]] = {}
    seen: dict[str, float] = {}
    for story_id, value in index.stories.items():
        seen[story_id] = float(value["seen"])
        for key in lookup_keys(value):
            # Each key is listed by one story; should two list it, the later one holds it.
            holder = keys.get(key)
            if holder is None or seen[holder] <= seen[story_id]:
                keys[key] = story_id
        keys.update(value.get("dec", {}))
        for key in stored_band_keys(value):
            bands.setdefault(key, []).append(story_id)
        headlines.setdefault(value["src"], {})[story_id] = tuple(value.get("hw", ()))
    expiry = [(when, story_id) for story_id, when in seen.items()]
    heapq.heapify(expiry)
    index.keys, index.bands, index.headlines, index.expiry = keys, bands, headlines, expiry
    index.clock.restart_from(list(seen.values()))
    return len(seen)


def _expired(index: DedupIndex, story_id: str, cutoff: float) -> bool:
    value = index.stories.get(story_id)
    return bool(value) and value["seen"] < cutoff  # type: ignore[index]


class Sweeper:
    """Expiry a few stories at a time, so that the worker never stops for a full scan: each
    ``step`` takes at most ``batch`` entries off the expiry heap, oldest first, and reads a
    story only when its entry is past the retention (a story with a later version has a later
    entry too, and stays). Stepping through the table instead read four stories per item, a
    twentieth of the event loop."""

    def __init__(self, index: DedupIndex, retention: timedelta, batch: int = 4) -> None:
        self.index, self.retention, self.batch = index, retention, batch

    def step(self, now: datetime) -> int:
        cutoff = (now - self.retention).timestamp()
        expiry, forgotten = self.index.expiry, 0
        for _ in range(self.batch):
            if not expiry or expiry[0][0] >= cutoff:
                break
            _, story_id = heapq.heappop(expiry)
            if _expired(self.index, story_id, cutoff):
                forget(self.index, story_id)
                forgotten += 1
        return forgotten
