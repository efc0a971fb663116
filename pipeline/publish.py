"""The publish stage: an article, its dedup decision and its enrichment become a ninjs 3 story."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pipeline.control import normalised_urgency, recall_notice, version_kind
from pipeline.dedup import Decision
from pipeline.records import (
    Article,
    Control,
    Enrichment,
    RawItem,
    Rejected,
    normalise_timestamp,
    rfc3339,
)
from pipeline.validation import validation_error


def _body(article: Article) -> dict[str, Any]:
    value = recall_notice(article.kind) or article.body
    return {
        "role": "main",
        "contentType": "text/plain",
        "value": value,
        "charCount": len(value),
        "wordCount": len(value.split()),
    }


def _associations(article: Article, uri: str) -> list[dict[str, Any]]:
    associations = []
    for number, image in enumerate(article.images, start=1):
        association: dict[str, Any] = {
            "name": f"image{number}",
            "uri": image.href or f"{uri}:image{number}",
            "type": "picture",
            "descriptions": [
                {"role": "caption", "contentType": "text/plain", "value": image.caption}
            ],
        }
        if image.credit:
            association["by"] = image.credit
        association.update(control_fields(image.control))
        associations.append(association)
    return associations


_NINJS_LIST = {"person": "people", "organisation": "organisations", "place": "places"}


def _lifecycle(article: Article, decision: Decision) -> dict[str, str]:
    kind = version_kind(article.kind, decision.status, decision.reason)
    urgency = normalised_urgency(article.urgency)
    return {"kind": kind, **({"urgency": urgency} if urgency else {})}


def control_fields(control: Control) -> dict[str, Any]:
    """The provider's status, embargo, note and rights as ninjs 3.1 names them, unchanged."""
    fields = {
        "pubStatus": control.pub_status,
        "embargoedUntil": control.embargoed_until,
        "edNote": control.ed_note,
        "copyrightHolder": control.copyright_holder,
        "copyrightNotice": control.copyright_notice,
        "usageTerms": control.usage_terms,
        "rightsInfo": control.rights_info,
        "expires": control.expires,
    }
    return {key: value for key, value in fields.items() if value}


def _ninjs_entries(article: Article, enrichment: Enrichment) -> dict[str, list[dict[str, str]]]:
    """ninjs people, organisations and places: the provider's, then those found in the text
    (a place with its GeoNames uri), then the dateline's place."""
    lists: dict[str, list[dict[str, str]]] = {
        "people": list(article.people),
        "organisations": list(article.organisations),
        "places": list(article.places),
    }
    for entity in enrichment.entities:
        key = _NINJS_LIST.get(entity.type)
        if key is None or any(e.get("name") == entity.name for e in lists[key]):
            continue
        entry = {"name": entity.name}
        if uri := (entity.links or {}).get("uri"):
            entry["uri"] = uri
        lists[key].append(entry)
    place = article.dateline.place if article.dateline else None
    if place and not any(e.get("name") == place for e in lists["places"]):
        lists["places"].append({"name": place, "rel": "dateline"})
    return lists


def build_story(
    item: RawItem,
    article: Article,
    decision: Decision,
    enrichment: Enrichment,
    processed_at: datetime,
) -> dict[str, Any]:
    """The published story: ninjs 3 fields plus the ``newswire`` extension object."""
    received = rfc3339(item.received)
    updated = normalise_timestamp(article.updated) or received
    headlines = [{"role": "main", "value": article.headline}]
    if article.subheadline:
        headlines.append({"role": "sub", "value": article.subheadline})
    story: dict[str, Any] = {
        "uri": decision.uri,
        "type": "text",
        "version": str(decision.version),
        "firstCreated": decision.first_created,
        "versionCreated": updated,
        "headlines": headlines,
        "bodies": [_body(article)],
        **control_fields(article.control),
    }
    optional: dict[str, Any] = {
        "language": article.language or enrichment.language,
        "urgency": article.urgency,
        "slugline": article.slugline,
        "descriptions": [{"role": "summary", "contentType": "text/plain", "value": article.summary}]
        if article.summary
        else None,
        "by": article.byline,
        "located": article.located,
        "infoSources": [
            {"name": name, "role": role}
            for name, role in ((article.agency, "originator"), (item.source, "distributor"))
            if name
        ],
        **_ninjs_entries(article, enrichment),
        "subjects": article.subjects,
        "associations": _associations(article, decision.uri),
        "altIds": [{"role": "guid", "value": article.guid or item.guid}]
        if article.guid or item.guid
        else None,
    }
    story.update({key: value for key, value in optional.items() if value not in (None, [])})
    story["newswire"] = _newswire(item, article, decision, enrichment, processed_at)
    return story


def _dedup(decision: Decision) -> dict[str, Any]:
    """``newswire.dedup``: what dedup decided of the item, and why."""
    dedup: dict[str, Any] = {"fingerprint": decision.fingerprint}
    if decision.version_of:
        dedup["versionOf"] = decision.version_of
    if decision.reason:
        dedup["reason"] = decision.reason
    if decision.evidence:
        dedup["evidence"] = decision.evidence
    if decision.duplicate_of:
        dedup.update(duplicateOf=decision.duplicate_of, similarity=decision.similarity)
    return dedup


def _newswire(
    item: RawItem,
    article: Article,
    decision: Decision,
    enrichment: Enrichment,
    processed_at: datetime,
) -> dict[str, Any]:
    """The ``newswire`` extension object of a story."""
    newswire: dict[str, Any] = {
        "itemId": item.id,
        "source": item.source,
        "lifecycle": _lifecycle(article, decision),
        "receivedAt": rfc3339(item.received),
        "processedAt": rfc3339(processed_at),
        **enrichment.to_dict(),
        "enrichment": enrichment.summary(),
        "dedup": _dedup(decision),
    }
    if article.dateline:
        newswire["dateline"] = article.dateline.to_dict()
    if article.extraction:
        newswire["extraction"] = article.extraction
    if article.control.embargoed:
        newswire["embargo"] = {"embargoed": True} | (
            {"until": article.control.embargoed_until} if article.control.embargoed_until else {}
        )
    return newswire


def check_story(story: dict[str, Any]) -> None:
    """Refuse a story that breaks the contract, so it becomes a dead letter, not a bad message."""
    error = validation_error("story", story)
    if error is not None:
        raise Rejected(
            "publish", f"story fails schemas/story.schema.json {error}", code="invalid-story"
        )
