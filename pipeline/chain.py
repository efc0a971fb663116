"""The stage chain, as steps both drivers call: the Faust agents one step per topic hop, and
``newswire process`` all steps in a row. Every step returns its result or a dead letter; none
raises for bad input, so no item is ever lost to an exception.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, cast

import orjson

from pipeline.clean import clean
from pipeline.control import NEVER_DUPLICATE, Kind
from pipeline.dedup import (
    Decision,
    DedupConfig,
    DedupIndex,
    Incoming,
    decide,
    fingerprint,
    headline_key,
    remember,
    story_uri,
)
from pipeline.enrich import EnrichMany, no_enrichment
from pipeline.evidence import lead_figures, lead_names, opening
from pipeline.limits import MAX_ORIGINAL_BYTES
from pipeline.publish import build_story, check_story
from pipeline.records import (
    Article,
    Enrichment,
    RawItem,
    ReasonCode,
    Rejected,
    Stage,
    check_received,
    dead_letter,
    normalise_timestamp,
    rfc3339,
    utc_now,
)
from pipeline.similarity import TextProfile, normalised_words
from pipeline.validation import validation_error


@dataclass(frozen=True)
class Cleaned:
    """A raw item after the clean stage, with what dedup compares (fingerprint, signature,
    lead names and figures) computed once, here, where the work runs in parallel: dedup
    runs on one partition."""

    item: RawItem
    article: Article
    fingerprint: str
    profile: TextProfile
    names: tuple[str, ...]
    lead_figures: tuple[str, ...]
    """Who the lead names and which figures it gives (``pipeline.evidence``)."""
    body_fingerprint: str = ""
    """The body's own exact-content key: the same text under another headline."""
    encoded: bytes | None = field(default=None, compare=False, repr=False)
    """The JSON this was read from: handed on as it is, not encoded again, on the next hop."""

    @classmethod
    def of(cls, item: RawItem, article: Article) -> Cleaned:
        body = normalised_words(article.body)  # once, for all three keys
        headline = normalised_words(article.headline)
        if article.kind in NEVER_DUPLICATE:  # a kill repeating its story's text is no copy
            headline.append(f"\x00{article.kind}")
        key = fingerprint(headline, body)
        lead = article.headline, opening(article.paragraphs)
        names, figures = lead_names(*lead), lead_figures(*lead)
        body_key = fingerprint([], body) if body else ""
        return cls(item, article, key, TextProfile.of(body), names, figures, body_key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "item": self.item.to_dict(),
            "article": self.article.to_dict(),
            "fingerprint": self.fingerprint,
            "profile": self.profile.to_json(),
            "names": list(self.names),
            "leadFigures": list(self.lead_figures),
            "bodyFingerprint": self.body_fingerprint,
        }

    def to_json(self) -> bytes:
        return self.encoded if self.encoded is not None else orjson.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, value: dict[str, Any], encoded: bytes | None = None) -> Cleaned:
        article = Article.from_dict(value["article"])
        lead = article.headline, opening(article.paragraphs)
        return cls(
            item=RawItem.from_dict(value["item"]),
            article=article,
            fingerprint=value["fingerprint"],
            profile=TextProfile.from_json(value["profile"]),
            # Records cleaned before these were kept carry none: read them off the article.
            names=tuple(value["names"]) if "names" in value else lead_names(*lead),
            lead_figures=(
                tuple(value["leadFigures"]) if "leadFigures" in value else lead_figures(*lead)
            ),
            body_fingerprint=value.get("bodyFingerprint", ""),
            encoded=encoded,
        )

    @classmethod
    def from_json(cls, data: bytes) -> Cleaned:
        return cls.from_dict(orjson.loads(data), data)

    def incoming(self) -> Incoming:
        """The item as dedup sees it."""
        item, article = self.item, self.article
        received = rfc3339(item.received)
        return Incoming(
            item_id=item.id,
            source=item.source,
            guid=article.guid or item.guid,
            provider_version=article.version or item.version,
            fingerprint=self.fingerprint,
            profile=self.profile,
            headline=article.headline,
            opening=article.paragraphs[0],
            created=normalise_timestamp(article.created)
            or normalise_timestamp(article.updated)
            or received,
            received=item.received,
            names=self.names,
            lead_figures=self.lead_figures,
            kind=cast(Kind, article.kind),
            refers_to=article.control.refers_to,
            body_fingerprint=self.body_fingerprint,
            slug=article.slugline,
        )


@dataclass(frozen=True)
class Unique:
    """A cleaned item the dedup stage let through, with the uri and version to publish under."""

    cleaned: Cleaned
    decision: Decision

    def to_json(self) -> bytes:
        cleaned = orjson.Fragment(self.cleaned.to_json())
        return orjson.dumps({"cleaned": cleaned, "decision": asdict(self.decision)})

    @classmethod
    def from_json(cls, data: bytes) -> Unique:
        value = orjson.loads(data)
        return cls(Cleaned.from_dict(value["cleaned"]), Decision(**value["decision"]))


@dataclass(frozen=True)
class Published:
    item_id: str
    story: dict[str, Any]


@dataclass(frozen=True)
class Duplicate:
    item_id: str
    notice: dict[str, Any]


@dataclass(frozen=True)
class DeadLetter:
    item_id: str
    letter: dict[str, Any]


@dataclass(frozen=True)
class Advisory:
    """A note to editors, schedule or daybook: never a story, its own record on
    ``wire.advisories``."""

    item_id: str
    notice: dict[str, Any]


Outcome = Published | Duplicate | Advisory | DeadLetter


def item_id_for(data: bytes | None) -> str:
    """The id of an undecodable record: its own ``id`` if readable (also inside the hand-over
    records of later stages), else a hash of its bytes."""
    data = data or b""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        value = None
    for found in _items_in(value):
        for name in ("id", "itemId"):  # a raw item's, or a dead letter's
            if isinstance(found.get(name), str) and found[name]:
                return str(found[name])[:200]
    return "sha256:" + hashlib.sha256(data).hexdigest()[:32]


def _items_in(value: Any) -> list[dict[str, Any]]:
    """Where a record may hold its raw item: itself (``wire.raw``), ``item`` (a cleaned
    item) or ``cleaned.item`` (a unique one)."""
    found: list[dict[str, Any]] = []
    while isinstance(value, dict):
        found.append(value)
        value = value.get("item", value.get("cleaned"))
    return found[::-1]


def stage_failure(stage: Stage, data: bytes | None, error: BaseException) -> DeadLetter:
    """The dead letter of a record whose stage failed in a way no rule foresaw: a bug must
    cost one item its publication, never stop the wire for every item behind it."""
    reason = f"unexpected {type(error).__name__}: {error}"
    return record_letter(stage, data, reason, "unexpected", MAX_ORIGINAL_BYTES)


def unsendable(stage: Stage, data: bytes | None, error: BaseException, limit: int) -> DeadLetter:
    """The dead letter of an item whose record the broker refused for good (too large, say),
    carrying at most ``limit`` bytes of its raw item."""
    reason = f"the broker refused the record: {type(error).__name__}: {error}"
    return record_letter(stage, data, reason, "unsendable", limit)


def record_letter(
    stage: Stage, data: bytes | None, reason: str, code: ReasonCode, limit: int
) -> DeadLetter:
    """The dead letter of a stage's record, named by the item it holds and carrying the raw
    item where the record holds one (a later stage's hand-over), else the bytes."""
    item_id = item_id_for(data)
    rejected = Rejected(stage, reason[:500], code)
    return DeadLetter(item_id, dead_letter(item_id, rejected, raw_bytes_in(data), limit))


def raw_bytes_in(data: bytes | None) -> bytes:
    """The raw item a stage's record carries, as JSON; the record itself where it is one."""
    try:
        items = _items_in(orjson.loads(data or b""))
    except orjson.JSONDecodeError:
        items = []
    return orjson.dumps(items[0]) if len(items) > 1 else data or b""


def decode_raw_item(data: bytes | None, max_bytes: int) -> RawItem:
    """Read a ``wire.raw`` record into a raw item, or raise ``Rejected`` at stage ``decode``."""
    if not data:
        raise Rejected("decode", "the record has no value", code="not-raw-item")
    if len(data) > max_bytes:
        raise Rejected(
            "decode",
            f"item is {len(data)} bytes, over the limit of {max_bytes} (NEWSWIRE_MAX_ITEM_BYTES)",
            code="too-large",
        )
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise Rejected("decode", f"not a JSON raw item: {error}", code="not-json") from None
    if not isinstance(value, dict):
        raise Rejected("decode", "a raw item must be a JSON object", code="not-raw-item")
    error_text = validation_error("raw-item", value)
    if error_text is not None:
        raise Rejected("decode", f"not a raw item: {error_text}", code="not-raw-item")
    item = RawItem.from_dict(value)
    check_received(item)
    return item


def clean_step(data: bytes | None, max_bytes: int) -> Cleaned | DeadLetter:
    """Decode and clean one ``wire.raw`` record; whatever its bytes, the result is a cleaned
    item or its dead letter."""
    try:
        item = decode_raw_item(data, max_bytes)
    except Rejected as rejected:
        item_id = item_id_for(data)
        return DeadLetter(item_id, dead_letter(item_id, rejected, data or b""))
    except Exception as error:
        return stage_failure("decode", data, error)
    try:
        return Cleaned.of(item, clean(item))
    except Rejected as rejected:
        return DeadLetter(item.id, dead_letter(item.id, rejected, data or b""))
    except Exception as error:  # a parser bug must not lose the item: it becomes a dead letter
        return stage_failure("clean", data, error)


def dedup_step(
    cleaned: Cleaned, index: DedupIndex | None, config: DedupConfig
) -> Unique | Duplicate | Advisory:
    """Decide new story, new version or duplicate (None: dedup skipped, every item is new),
    at event time: the index's clock moves to the item's ``receivedAt`` first. An advisory
    is none of these: it is announced, with the story it names where the index knows it."""
    if cleaned.article.kind == "advisory":
        return advisory(cleaned, index)
    incoming = cleaned.incoming()
    if index is None:
        decision = Decision(
            "new", story_uri(incoming.fingerprint), 1, incoming.fingerprint, incoming.created
        )
        return Unique(cleaned, decision)
    index.advance(incoming.received)
    decision = remember(incoming, decide(incoming, index, config), index, config)
    if decision.status != "duplicate":
        return Unique(cleaned, decision)
    return duplicate_notice(cleaned, decision.duplicate_of, decision.similarity, decision.reason)


def advisory(cleaned: Cleaned, index: DedupIndex | None) -> Advisory:
    item, article = cleaned.item, cleaned.article
    notice: dict[str, Any] = {
        "itemId": item.id,
        "source": item.source,
        "receivedAt": rfc3339(item.received),
        "headline": article.headline,
        "text": article.body,
        "detectedAt": rfc3339(utc_now()),
    }
    if article.control.ed_note:
        notice["edNote"] = article.control.ed_note
    if guid := article.guid or item.guid:
        notice["guid"] = guid
    if named := article.control.refers_to:
        story_id = index.keys.get(headline_key(item.source, named)) if index is not None else None
        notice["refersTo"] = {
            "headline": named,
            **({"uri": story_uri(story_id)} if story_id else {}),
        }
    return Advisory(item.id, notice)


def duplicate_notice(
    cleaned: Cleaned, duplicate_of: str | None, similarity: float | None, reason: str | None
) -> Duplicate:
    """The notice that ``cleaned`` is not published, because ``duplicate_of`` already is."""
    notice: dict[str, Any] = {
        "itemId": cleaned.item.id,
        "duplicateOf": duplicate_of,
        "similarity": similarity,
        "reason": reason,
        "source": cleaned.item.source,
        "detectedAt": rfc3339(utc_now()),
    }
    guid = cleaned.article.guid or cleaned.item.guid
    if guid:
        notice["guid"] = guid
    return Duplicate(cleaned.item.id, notice)


def already_out(unique: Unique, reason: Literal["redelivery", "stale"]) -> Duplicate:
    """The notice for a decided version that is not published: it is out for another item
    already (``redelivery``), or a newer version is (``stale``)."""
    return duplicate_notice(unique.cleaned, unique.decision.uri, 1.0, reason)


def publish_step(unique: Unique, enrichment: Enrichment, validate: bool) -> Published | DeadLetter:
    """Build the story from the article, its decision and its enrichment; with ``validate``,
    check it against the story schema."""
    item = unique.cleaned.item
    try:
        story = build_story(item, unique.cleaned.article, unique.decision, enrichment, utc_now())
        if validate:
            check_story(story)
    except Rejected as rejected:
        letter = dead_letter(item.id, rejected, item.to_json())
        return DeadLetter(item.id, letter)
    except Exception as error:  # a story the builder cannot make is this item's dead letter
        return stage_failure("publish", item.to_json(), error)
    return Published(item.id, story)


def run_chain(
    data: bytes,
    index: DedupIndex | None,
    max_bytes: int,
    validate: bool,
    config: DedupConfig,
    enrich: EnrichMany = no_enrichment,
) -> Outcome:
    """Every stage in a row for one raw record: what ``newswire process`` does per item."""
    cleaned = clean_step(data, max_bytes)
    if isinstance(cleaned, DeadLetter):
        return cleaned
    try:
        unique = dedup_step(cleaned, index, config)
    except Exception as error:  # as the worker does: the item's dead letter, never a stop
        return stage_failure("dedup", data, error)
    if isinstance(unique, Duplicate | Advisory):
        return unique
    return publish_step(unique, enrich([cleaned.article])[0], validate)
