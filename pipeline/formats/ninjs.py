"""IPTC ninjs 1.x, 2.x (lower-case keys) and 3.x (camelCase keys) text items."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson

from pipeline.control import read_pub_status, read_signals
from pipeline.formats.document import ParsedDocument
from pipeline.formats.markup import html_blocks, text_lines
from pipeline.formats.newsml import nitf_blocks
from pipeline.records import Control, Image, Rejected, normalise_timestamp

# The keys a ninjs 3 people/places/organisations/subjects entry may carry.
_ENTRY_KEYS = ("name", "rel", "uri", "literal")


def _lower_keys(value: Any) -> Any:
    """ninjs 2.x spells keys in lower case and 3.x in camelCase: compare them lower-cased."""
    if isinstance(value, dict):
        return {str(k).lower(): _lower_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lower_keys(v) for v in value]
    return value


def urgency_of(item: dict[str, Any]) -> int | None:
    """The provider's urgency of a ninjs item with lower-cased keys: a whole number only
    (ninjs 3 makes it an integer; a string is not read)."""
    urgency = item.get("urgency")
    return urgency if isinstance(urgency, int) and not isinstance(urgency, bool) else None


def _objects(item: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The objects of a list field carrying a string ``value`` (bodies, headlines,
    descriptions); a field of another type is as good as absent."""
    entries = item.get(key)
    if not isinstance(entries, list):
        return []
    return [e for e in entries if isinstance(e, dict) and isinstance(e.get("value"), str)]


def _pick(entries: list[dict[str, Any]], roles: tuple[str, ...]) -> dict[str, Any] | None:
    for role in roles:
        for entry in entries:
            if entry.get("role", "") == role and isinstance(entry.get("value"), str):
                return entry
    return None


def _body_blocks(item: dict[str, Any]) -> list[str]:
    bodies = _objects(item, "bodies")
    nitf = [b for b in bodies if "nitf" in str(b.get("contenttype", "")).lower()]
    html = [b for b in bodies if "html" in str(b.get("contenttype", ""))]
    text = [b for b in bodies if "text/plain" in str(b.get("contenttype", "text/plain"))]
    markup = _pick(html, ("main", "xhtml", "html", "html5", "text", "")) or (
        html[0] if html else None
    )
    if markup is not None:
        return html_blocks(markup["value"])
    plain = _pick(text, ("main", "text", "plain", ""))
    if plain is not None:
        return text_lines(plain["value"])
    if nitf:
        return nitf_blocks(nitf[0]["value"])
    if isinstance(item.get("body_html"), str):
        return html_blocks(item["body_html"])
    if isinstance(item.get("body_text"), str):
        return text_lines(item["body_text"])
    # A brief: a text item whose only words are its description (lead).
    lead = _pick(_objects(item, "descriptions"), ("text", "summary", ""))
    return text_lines(lead["value"]) if lead else []


def _entries(item: dict[str, Any], key: str) -> list[dict[str, str]]:
    found = []
    for entry in item.get(key, []) or []:
        if isinstance(entry, dict):
            kept = {k: entry[k] for k in _ENTRY_KEYS if isinstance(entry.get(k), str)}
            if kept.get("name") or kept.get("literal"):
                found.append(kept)
    return found


_RIGHTS_INFO_KEYS = {
    "langid": "langId",
    "linkedrights": "linkedRights",
    "encodedrights": "encodedRights",
}


def _text(value: Any) -> str | None:
    """A string field, or AP's list of strings (``usageterms``) joined."""
    if isinstance(value, list):
        value = " ".join(v for v in value if isinstance(v, str))
    if not isinstance(value, str):
        return None
    return " ".join(value.split()) or None


def _rights_info(value: Any) -> dict[str, Any] | None:
    """ninjs ``rightsInfo`` in 3.x spelling: a language id and one of linked or encoded
    rights (a link wins where a provider sends both)."""
    if not isinstance(value, dict):
        return None
    found = {
        name: value[key]
        for key, name in _RIGHTS_INFO_KEYS.items()
        if isinstance(value.get(key), str)
    }
    if "linkedRights" in found:
        found.pop("encodedRights", None)
    return found if {"linkedRights", "encodedRights"} & found.keys() else None


def read_control(item: dict[str, Any]) -> Control:
    """The control fields of a ninjs object (lower-cased keys, any version)."""
    status, embargoed = read_pub_status(_string(item, "pubstatus"))
    until_text = _string(item, "embargoeduntil") or _string(item, "embargoed")
    until = normalise_timestamp(until_text)
    rights = item.get("rightsinfo")
    signals = item.get("signals")
    return Control(
        pub_status=status,
        embargoed=embargoed or "embargoeduntil" in item or "embargoed" in item,
        embargoed_until=until,
        ed_note=_text(item.get("ednote")),
        copyright_holder=_text(item.get("copyrightholder")),
        copyright_notice=_text(item.get("copyrightnotice")),
        usage_terms=_text(item.get("usageterms")),
        rights_info=_rights_info(rights),
        expires=normalise_timestamp(_string(item, "expires")),
        signals=read_signals([str(v) for v in signals]) if isinstance(signals, list) else (),
        profile=_string(item, "profile"),
    )


def _images(item: dict[str, Any]) -> list[Image]:
    images = []
    associations = item.get("associations", [])
    if isinstance(associations, dict):  # ninjs 1.x/2.x: a map of name -> object
        associations = list(associations.values())
    for assoc in associations if isinstance(associations, list) else []:
        if not isinstance(assoc, dict) or assoc.get("type") not in ("picture", "graphic"):
            continue
        caption = _pick(_objects(assoc, "descriptions"), ("caption", "text", "")) or {}
        text = caption.get("value") or assoc.get("description_text") or assoc.get("headline")
        if isinstance(text, str) and text.strip():
            credit = assoc.get("by") or assoc.get("copyrightholder")
            images.append(
                Image(
                    caption=" ".join(text.split()),
                    credit=credit if credit else None,
                    href=assoc.get("uri") if isinstance(assoc.get("uri"), str) else None,
                    control=read_control(assoc),
                )
            )
    return images


def _string(item: dict[str, Any], key: str) -> str | None:
    value = item.get(key)
    if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
        return str(value).strip()
    return None


def split_ninjs(content: str) -> list[tuple[str, str | None]]:
    """A feed of ninjs items as one document per item, with its uri. A single item gives
    none (it travels whole)."""
    try:
        items = _listed_items(orjson.loads(content))
    except orjson.JSONDecodeError:
        return []
    return [(orjson.dumps(item).decode(), _string(_lower_keys(item), "uri")) for item in items]


def _listed_items(document: Any) -> list[dict[str, Any]]:
    """The items of a feed of ninjs: BBC's (``{"item": [...]}``) and AP's Media API feed
    (``{"data": {"items": [{"item": ...}]}}``); none for anything else."""
    if not isinstance(document, dict):
        return []
    items = document.get("item")
    data = document.get("data")
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        items = [entry.get("item") for entry in data["items"] if isinstance(entry, dict)]
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _unwrapped(document: dict[str, Any]) -> Any:
    """The item of AP's Media API answer (``{"api_version": …, "data": {"item": …}}``): ninjs
    inside an envelope."""
    data = document.get("data")
    if "api_version" in document and isinstance(data, dict) and isinstance(data.get("item"), dict):
        return data["item"]
    return document


def parse_ninjs(content: str) -> ParsedDocument:
    try:
        document = orjson.loads(content)
    except orjson.JSONDecodeError as error:
        raise Rejected("clean", f"not valid ninjs JSON: {error}", code="malformed") from None
    if not isinstance(document, dict):
        raise Rejected("clean", "a ninjs document must be a JSON object", code="malformed")
    if listed := _listed_items(document):
        raise Rejected(
            "clean", f"a feed of {len(listed)} ninjs items: ingest it to split it", "unsplit"
        )
    item = _lower_keys(_unwrapped(document))
    kind = item.get("type") or ("event" if "eventdetails" in item else "text")
    if kind not in ("text", "composite", "advisory"):
        raise Rejected("clean", f"ninjs item of type {kind!r} has no story text", code="no-text")
    headlines = _objects(item, "headlines")
    main = _pick(headlines, ("main", "")) or (headlines[0] if headlines else None)
    sub = _pick(headlines, ("sub", "subheadline", "subhead"))
    headline = main["value"] if main else _string(item, "headline") or _string(item, "title")
    control = read_control(item)
    if kind == "advisory":  # BBC's local news service sends its advisories as items
        control = replace(control, marker="advisory")
    metadata: dict[str, Any] = {
        "guid": _string(item, "uri"),
        "version": _string(item, "version"),
        "subheadline": sub["value"] if sub and sub is not main else None,
        "byline": _string(item, "by"),
        "language": _string(item, "language"),
        "urgency": urgency_of(item),
        "slugline": _string(item, "slugline"),
        "control": control,
        "created": _string(item, "firstcreated"),
        "updated": _string(item, "versioncreated"),
        "located": _string(item, "located"),
        "subjects": _entries(item, "subjects"),
        "people": _entries(item, "people"),
        "places": _entries(item, "places"),
        "organisations": _entries(item, "organisations"),
    }
    blocks = _body_blocks(item)
    if not blocks and isinstance(item.get("renditions"), dict):
        formats = ", ".join(sorted(str(name) for name in item["renditions"]))
        raise Rejected(
            "clean", f"an item whose text is a rendition to download ({formats})", "no-text"
        )
    return ParsedDocument(
        blocks=blocks,
        headline=headline,
        images=_images(item),
        metadata={k: v for k, v in metadata.items() if v not in (None, [])},
    )
