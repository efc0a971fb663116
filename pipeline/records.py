"""The records that flow between stages: raw items in, articles in the middle, outcomes out."""

from __future__ import annotations

import base64
import uuid
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any, Literal

import orjson

from pipeline.limits import MAX_ORIGINAL_BYTES, carried_original, impossible_time

FORMATS = (
    "auto",
    "text",
    "html",
    "ninjs",
    "newsml",
    "newsml1",
    "rss",
    "anpa",
    "iptc7901",
    "email",
    "jsonl",
)
"""Values of ``--format`` and of a raw item's ``format`` (``jsonl`` is an input framing only)."""

Stage = Literal["decode", "clean", "dedup", "enrich", "publish"]

ReasonCode = Literal[
    "too-large",
    "not-json",
    "not-raw-item",
    "binary",
    "malformed",
    "unsplit",
    "unsupported",
    "no-text",
    "invalid-story",
    "unexpected",
    "unsendable",
]
"""Why an item was rejected, in a word: a closed set, so that dashboards can group by it."""


class Rejected(Exception):
    """An item cannot go on; it becomes a dead letter with this stage, reason and code."""

    def __init__(self, stage: Stage, reason: str, code: ReasonCode) -> None:
        super().__init__(f"{stage}: {reason}")
        self.stage: Stage = stage
        self.reason = reason
        self.code: ReasonCode = code


def utc_now() -> datetime:
    return datetime.now(UTC)


def rfc3339(moment: datetime) -> str:
    """RFC 3339 in UTC with a Z, as every timestamp Newswire writes."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 timestamp; a timestamp without an offset is taken as UTC."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def normalise_timestamp(text: str | None) -> str | None:
    """A provider's timestamp as RFC 3339 UTC; a bare date means its midnight UTC; None when
    it cannot be read."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return rfc3339(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def check_received(item: RawItem) -> None:
    """Refuse a raw item whose ``receivedAt`` is no time or one that cannot be right."""
    try:
        moment = item.received
    except ValueError:
        reason = f"receivedAt is not an RFC 3339 time: {item.receivedAt!r}"
        raise Rejected("decode", reason, code="not-raw-item") from None
    if (wrong := impossible_time(moment, utc_now())) is not None:
        raise Rejected("decode", f"receivedAt {wrong}", code="not-raw-item")


def new_item_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class RawItem:
    """One delivery of a document from a source (``schemas/raw-item.schema.json``)."""

    id: str
    source: str
    receivedAt: str
    format: str
    content: str
    guid: str | None = None
    version: str | None = None
    url: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The ``wire.raw`` record key: ``source:guid`` (the item id where there is no guid)."""
        return f"{self.source}:{self.guid or self.id}"

    @property
    def received(self) -> datetime:
        return parse_rfc3339(self.receivedAt)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None and v != {}}

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RawItem:
        return cls(
            id=data["id"],
            source=data["source"],
            receivedAt=data["receivedAt"],
            format=data["format"],
            content=data["content"],
            guid=data.get("guid"),
            version=data.get("version"),
            url=data.get("url"),
            meta=data.get("meta") or {},
        )


@dataclass(frozen=True)
class Dateline:
    """The dateline that opens a wire story: "LONDON, March 3 (Reuters) -"."""

    text: str
    place: str | None = None
    date: date | None = None
    agency: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"text": self.text}
        if self.place:
            data["place"] = self.place
        if self.date:
            data["date"] = self.date.isoformat()
        if self.agency:
            data["agency"] = self.agency
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Dateline:
        day = data.get("date")
        return cls(
            text=data["text"],
            place=data.get("place"),
            date=date.fromisoformat(day) if day else None,
            agency=data.get("agency"),
        )


@dataclass(frozen=True)
class Control:
    """What the provider says may be done with the item, as its format carries it: status,
    embargo, note to editors, rights, expiry, signals and profile (``pipeline.control``
    reads plain copy's conventions and decides what the item is)."""

    pub_status: str = "usable"
    """usable, withheld or canceled (other spellings are normalised on reading)."""
    embargoed: bool = False
    embargoed_until: str | None = None
    """RFC 3339 UTC; None with ``embargoed`` set means embargoed, time unknown."""
    ed_note: str | None = None
    copyright_holder: str | None = None
    copyright_notice: str | None = None
    usage_terms: str | None = None
    rights_info: dict[str, Any] | None = None
    expires: str | None = None
    signals: tuple[str, ...] = ()
    """The provider's signals without their scheme: "update", "correction", "newscontent"."""
    profile: str | None = None
    marker: str | None = None
    """What plain copy's agency lines mark the item as: kill, withhold, correction, refile,
    repeat, update or advisory."""
    refers_to: str | None = None
    """The headline of the story a kill or an advisory names."""

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if v not in (None, (), False)}
        if self.signals:
            data["signals"] = list(self.signals)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Control:
        return cls(**{**data, "signals": tuple(data.get("signals", ()))})


@dataclass(frozen=True)
class Image:
    """A picture that belongs to the story: its caption and credit, taken out of the body."""

    caption: str
    credit: str | None = None
    href: str | None = None
    control: Control = field(default_factory=Control)
    """The picture's own status, embargo, note and rights, where its format gives them."""

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if v is not None and k != "control"}
        if control := self.control.to_dict():
            data["control"] = control
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Image:
        return cls(**{**data, "control": Control.from_dict(data.get("control") or {})})


@dataclass(frozen=True)
class Article:
    """What the clean stage makes of a raw document: the story's words and metadata."""

    headline: str
    paragraphs: list[str]
    subheadline: str | None = None
    summary: str | None = None
    """The publisher's own summary of the story (an HTML page's description)."""
    byline: str | None = None
    dateline: Dateline | None = None
    images: list[Image] = field(default_factory=list)
    language: str | None = None
    guid: str | None = None
    version: str | None = None
    urgency: int | None = None
    slugline: str | None = None
    created: str | None = None
    updated: str | None = None
    agency: str | None = None
    located: str | None = None
    subjects: list[dict[str, str]] = field(default_factory=list)
    people: list[dict[str, str]] = field(default_factory=list)
    places: list[dict[str, str]] = field(default_factory=list)
    organisations: list[dict[str, str]] = field(default_factory=list)
    extraction: str | None = None
    """For an HTML page, which reading of the page gave the body: precision or balanced."""
    control: Control = field(default_factory=Control)
    kind: str = "story"
    """What the item is (``pipeline.control.settle``): story, update, correction, refile,
    repeat, kill, withhold or advisory."""

    @property
    def body(self) -> str:
        """The main body: paragraphs separated by one blank line, as the contract says."""
        return "\n\n".join(self.paragraphs)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["dateline"] = self.dateline.to_dict() if self.dateline else None
        data["images"] = [image.to_dict() for image in self.images]
        data["control"] = self.control.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        values = dict(data)
        values["dateline"] = Dateline.from_dict(data["dateline"]) if data.get("dateline") else None
        values["images"] = [Image.from_dict(image) for image in data.get("images", [])]
        values["control"] = Control.from_dict(data.get("control") or {})
        if status := values.pop("pub_status", None):  # records cleaned before the control existed
            values["control"] = replace(values["control"], pub_status=status)
        return cls(**values)


@dataclass(frozen=True)
class Entity:
    name: str
    type: str
    mentions: list[dict[str, Any]]
    salience: float
    links: dict[str, Any] | None = None


@dataclass(frozen=True)
class Enrichment:
    """What the enrich stage adds to an article; ``status`` says whether it ran ("enriched")
    or why not ("skipped": no model for the story's language)."""

    entities: list[Entity] = field(default_factory=list)
    quotes: list[dict[str, Any]] = field(default_factory=list)
    language: str | None = None
    status: str = "enriched"
    model: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "entities": [
                {k: v for k, v in asdict(entity).items() if v is not None}
                for entity in self.entities
            ],
            "quotes": self.quotes,
        }

    def summary(self) -> dict[str, Any]:
        """The ``newswire.enrichment`` object of a story."""
        found = {"status": self.status, "language": self.language, "model": self.model}
        return {k: v for k, v in found.items() if v is not None}


def dead_letter(
    item_id: str, rejected: Rejected, original: bytes, limit: int = MAX_ORIGINAL_BYTES
) -> dict[str, Any]:
    """The ``wire.rejected`` value: enough to see why, and the bytes to replay it (cut to
    ``limit``, with their length and digest, where they would not fit)."""
    carried, cut = carried_original(original, limit)
    return {
        "itemId": item_id,
        "stage": rejected.stage,
        "reason": rejected.reason,
        "code": rejected.code,
        "original": base64.b64encode(carried).decode("ascii"),
        **cut,
        "rejectedAt": rfc3339(utc_now()),
    }
