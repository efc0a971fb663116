"""The stage chain, as steps both drivers call: the Faust agents one step per topic hop, and
``newswire process`` all steps in a row. Every step returns its result or a dead letter; none
raises for bad input, so no item is ever lost to an exception.
"""

from __future__ import annotations

import hashlib
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

import orjson

from pipeline.clean import clean
from pipeline.dedup import Decision, dedup, fingerprint, undeduplicated
from pipeline.enrich import enrich
from pipeline.publish import build_story, check_story
from pipeline.records import (
    Article,
    RawItem,
    Rejected,
    dead_letter,
    parse_rfc3339,
    rfc3339,
    utc_now,
)
from pipeline.validation import validation_error


@dataclass(frozen=True)
class Cleaned:
    """A raw item after the clean stage, keyed for dedup by its content fingerprint."""

    item: RawItem
    article: Article
    fingerprint: str

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "item": self.item.to_dict(),
                "article": self.article.to_dict(),
                "fingerprint": self.fingerprint,
            }
        )

    @classmethod
    def from_json(cls, data: bytes) -> Cleaned:
        value = orjson.loads(data)
        return cls(
            item=RawItem.from_dict(value["item"]),
            article=Article.from_dict(value["article"]),
            fingerprint=value["fingerprint"],
        )


@dataclass(frozen=True)
class Unique:
    """A cleaned item the dedup stage let through, with the uri and version to publish under."""

    cleaned: Cleaned
    decision: Decision

    def to_json(self) -> bytes:
        decision = self.decision
        return orjson.dumps(
            {
                "cleaned": orjson.loads(self.cleaned.to_json()),
                "decision": {"uri": decision.uri, "version": decision.version},
            }
        )

    @classmethod
    def from_json(cls, data: bytes) -> Unique:
        value = orjson.loads(data)
        cleaned = Cleaned.from_json(orjson.dumps(value["cleaned"]))
        decision = Decision(
            "new", value["decision"]["uri"], value["decision"]["version"], cleaned.fingerprint
        )
        return cls(cleaned=cleaned, decision=decision)


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


Outcome = Published | Duplicate | DeadLetter


def item_id_for(data: bytes) -> str:
    """The id of an undecodable record: its own ``id`` if readable, else a hash of its bytes."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        value = None
    if isinstance(value, dict) and isinstance(value.get("id"), str) and value["id"]:
        return str(value["id"])[:200]
    return "sha256:" + hashlib.sha256(data).hexdigest()[:32]


def decode_raw_item(data: bytes, max_bytes: int) -> RawItem:
    """Read a ``wire.raw`` record into a raw item, or raise ``Rejected`` at stage ``decode``."""
    if len(data) > max_bytes:
        raise Rejected(
            "decode",
            f"item is {len(data)} bytes, over the limit of {max_bytes} (NEWSWIRE_MAX_ITEM_BYTES)",
        )
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise Rejected("decode", f"not a JSON raw item: {error}") from None
    if not isinstance(value, dict):
        raise Rejected("decode", "a raw item must be a JSON object")
    error_text = validation_error("raw-item", value)
    if error_text is not None:
        raise Rejected("decode", f"not a raw item: {error_text}")
    try:
        parse_rfc3339(value["receivedAt"])
    except ValueError:
        raise Rejected(
            "decode", f"receivedAt is not an RFC 3339 time: {value['receivedAt']!r}"
        ) from None
    return RawItem.from_dict(value)


def clean_step(data: bytes, max_bytes: int) -> Cleaned | DeadLetter:
    """Decode and clean one ``wire.raw`` record."""
    try:
        item = decode_raw_item(data, max_bytes)
    except Rejected as rejected:
        item_id = item_id_for(data)
        return DeadLetter(item_id, dead_letter(item_id, rejected.stage, rejected.reason, data))
    try:
        article = clean(item)
    except Rejected as rejected:
        return DeadLetter(item.id, dead_letter(item.id, rejected.stage, rejected.reason, data))
    except Exception as error:  # a parser bug must not lose the item: it becomes a dead letter
        reason = f"unexpected {type(error).__name__}: {error}"[:500]
        return DeadLetter(item.id, dead_letter(item.id, "clean", reason, data))
    return Cleaned(item, article, fingerprint(article))


def dedup_step(cleaned: Cleaned, index: MutableMapping[str, str] | None) -> Unique | Duplicate:
    """Look the article up in the dedup index (None: dedup skipped, every item is new)."""
    if index is None:
        return Unique(cleaned, undeduplicated(cleaned.fingerprint))
    decision = dedup(cleaned.fingerprint, index)
    if decision.status == "new":
        return Unique(cleaned, decision)
    notice: dict[str, Any] = {
        "itemId": cleaned.item.id,
        "duplicateOf": decision.uri,
        "similarity": decision.similarity,
        "reason": "exact",
        "source": cleaned.item.source,
        "detectedAt": rfc3339(utc_now()),
    }
    if cleaned.item.guid:
        notice["guid"] = cleaned.item.guid
    return Duplicate(cleaned.item.id, notice)


def publish_step(unique: Unique, validate: bool) -> Published | DeadLetter:
    """Enrich and build the story; with ``validate``, check it against the story schema."""
    item = unique.cleaned.item
    try:
        enrichment = enrich(unique.cleaned.article)
        story = build_story(item, unique.cleaned.article, unique.decision, enrichment, utc_now())
        if validate:
            check_story(story)
    except Rejected as rejected:
        letter = dead_letter(item.id, rejected.stage, rejected.reason, item.to_json())
        return DeadLetter(item.id, letter)
    return Published(item.id, story)


def run_chain(
    data: bytes, index: MutableMapping[str, str] | None, max_bytes: int, validate: bool
) -> Outcome:
    """Every stage in a row for one raw record: what ``newswire process`` does per item."""
    cleaned = clean_step(data, max_bytes)
    if isinstance(cleaned, DeadLetter):
        return cleaned
    unique = dedup_step(cleaned, index)
    if isinstance(unique, Duplicate):
        return unique
    return publish_step(unique, validate)
