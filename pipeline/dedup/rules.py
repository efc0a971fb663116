"""The dedup decision: for every cleaned item, a new story, a new version of a known story, or a
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

The stories are held in one mapping, a Faust table (changelog-backed, RocksDB) in the
worker and a dict in batch mode; their lookup keys, item decisions and LSH bands are derived
from them, so those are dicts everywhere, refilled by ``rebuild_derived`` when the stories
table was restored. ``Sweeper`` removes the stories whose last version is older than the
retention window, with all their keys.
"""

from __future__ import annotations

from collections import Counter

from pipeline.control import NEVER_DUPLICATE, RECALLS
from pipeline.dedup.evidence import (
    HEADLINE_MATCH,
    SUBSTANTIAL_BODY,
    Evidence,
    corrects_headline,
    headline_match,
)
from pipeline.dedup.store import (
    Decision,
    DedupConfig,
    DedupIndex,
    Incoming,
    Reason,
    StoryRecord,
    VersionRule,
    body_key,
    fingerprint_key,
    guid_key,
    headline_key,
    headline_words,
    item_key,
    live_story,
    recent,
    rewrite_keys,
    similarity,
    slug_key,
    story_id_in,
    version_numbers,
)
from pipeline.similarity import (
    band_keys,
    numbers_agree,
)

MAX_SINGLE_HIT_CANDIDATES = 8


def as_duplicate(
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


def next_version(
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
        return as_duplicate(record, incoming, "redelivery", 1.0)
    new, old = version_numbers(incoming.provider_version), version_numbers(record.provider_version)
    if new is not None and old is not None and new <= old and incoming.kind not in NEVER_DUPLICATE:
        return as_duplicate(record, incoming, "redelivery" if new == old else "stale", 1.0)
    return next_version(record, incoming, 1.0, "released" if releases else "guid")


def _same_source_rewrite(
    incoming: Incoming, index: DedupIndex, config: DedupConfig
) -> Decision | None:
    """A recent story of the same source under the same headline or with the same lead that
    the evidence links to the item."""
    headline_key, lead_key = rewrite_keys(incoming)
    for key in (headline_key, lead_key):
        record = live_story(index, index.keys.get(key), config)
        if record is None or not recent(record, incoming, config):
            continue
        score = similarity(incoming, record)
        evidence = Evidence.between(incoming, record, score, same_headline=key == headline_key)
        # The same opening words are themselves the overlap a cut or an extension keeps
        # (containment says little between a first take and the full text); the same
        # headline alone is what templated reports share, so the texts must overlap too.
        overlap = evidence.marked or key == lead_key or score >= config.rewrite_threshold
        rule = evidence.rule(config) if overlap else None
        if rule is not None:
            return next_version(record, incoming, score, rule, evidence)
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
        record = live_story(index, story_id, config)
        if record is not None and (score := similarity(incoming, record)) > 0:
            found.append((score, record))
    return sorted(found, key=lambda entry: entry[0], reverse=True)


def _near_match(incoming: Incoming, index: DedupIndex, config: DedupConfig) -> Decision | None:
    for score, record in _candidates(incoming, index, config):
        if record.source == incoming.source:
            if score >= config.rewrite_threshold and recent(record, incoming, config):
                evidence = Evidence.between(incoming, record, score, same_headline=False)
                # Below the version threshold only the same company's own copy.
                enough = score >= config.version_threshold or evidence.same_ticker
                rule = evidence.rule(config) if enough else None
                if rule is not None:
                    return next_version(record, incoming, score, rule, evidence)
        elif (
            incoming.kind not in NEVER_DUPLICATE
            and score >= config.near_threshold
            and numbers_agree(incoming.profile.numbers, record.profile.numbers)
        ):
            if config.policy == "drop":
                return as_duplicate(record, incoming, "near", score)
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
        record = live_story(index, index.keys.get(guid_key(incoming.source, incoming.guid)), config)
        if record is not None:
            return _by_guid(record, incoming, index)
    if incoming.refers_to and incoming.kind in NEVER_DUPLICATE:
        record = named_story(incoming.source, incoming.refers_to, index, config)
        if record is not None:
            return next_version(record, incoming, 1.0, "referred")
    # A story's id comes of its first text's fingerprint: found by id too if its key was lost.
    period = int(incoming.received.timestamp() // config.retention.total_seconds())
    record = live_story(index, index.keys.get(fingerprint_key(incoming.fingerprint)), config)
    for earlier in (period, period - 1):
        record = record or live_story(index, story_id_in(incoming.fingerprint, earlier), config)
    if record is not None:
        return as_duplicate(record, incoming, "exact", 1.0)
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
        record = live_story(index, index.keys.get(key), config)
        if record is not None:
            return record
    words = headline_words(named)
    best: tuple[float, StoryRecord] | None = None
    for story_id, headline in index.headlines.get(source, {}).items():
        score = headline_match(words, headline)
        if score >= HEADLINE_MATCH and (best is None or score > best[0]):
            record = live_story(index, story_id, config)
            best = (score, record) if record is not None else best
    return best[1] if best else None


def _same_body(incoming: Incoming, index: DedupIndex, config: DedupConfig) -> Decision | None:
    """The same source's body again under a changed headline, within the version window:
    the headline corrected (a typo mended) or rewritten. A short body (a dividend notice,
    a one-line table) is the same text as another company's, so only a corrected headline
    links it."""
    if not incoming.body_fingerprint:
        return None
    record = live_story(
        index, index.keys.get(body_key(incoming.source, incoming.body_fingerprint)), config
    )
    if record is None or not recent(record, incoming, config):
        return None
    corrected = corrects_headline(headline_words(incoming.headline), record.headline)
    if not corrected and incoming.profile.size < SUBSTANTIAL_BODY:
        return None
    return next_version(record, incoming, 1.0, "corrected-headline" if corrected else "retitled")
