"""A story as an IPTC NewsML-G2 ``newsItem``, for editorial systems that take G2: guid and
version, status, embargo, note to editors, rights, urgency, located, headline, by-line,
dateline, subjects for its people, organisations and places (with their links), and the
body as inline XHTML. Newswire's own NewsML-G2 reader reads it back into the same story."""

from __future__ import annotations

from typing import Any

from lxml import etree
from lxml.builder import ElementMaker

NAR = "http://iptc.org/std/nar/2006-10-01/"
XHTML = "http://www.w3.org/1999/xhtml"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
G2 = ElementMaker(namespace=NAR, nsmap={None: NAR})
HTML = ElementMaker(namespace=XHTML, nsmap={None: XHTML})
_SUBJECT_TYPES = {
    "person": "cpnat:person",
    "organisation": "cpnat:organisation",
    "place": "cpnat:geoArea",
}
_STATUS = {"usable": "stat:usable", "withheld": "stat:withheld", "canceled": "stat:canceled"}
CONTENT_TYPE = "application/vnd.iptc.g2.newsitem+xml"


def newsml_g2(story: dict[str, Any]) -> bytes:
    """The story as a NewsML-G2 ``newsItem`` document (UTF-8)."""
    item = G2.newsItem(
        guid=story["uri"],
        version=str(story["version"]),
        standard="NewsML-G2",
        standardversion="2.33",
        conformance="power",
    )
    if story.get("language"):
        item.set(XML_LANG, story["language"])
    item.append(
        G2.catalogRef(href="http://www.iptc.org/std/catalog/catalog.IPTC-G2-Standards_38.xml")
    )
    if (rights := _rights(story)) is not None:
        item.append(rights)
    item.append(_item_meta(story))
    item.append(_content_meta(story))
    item.append(G2.contentSet(G2.inlineXML(_xhtml(story), contenttype="application/xhtml+xml")))
    return bytes(etree.tostring(item, xml_declaration=True, encoding="UTF-8"))


def _rights(story: dict[str, Any]) -> Any | None:
    parts = []
    if holder := story.get("copyrightHolder"):
        parts.append(G2.copyrightHolder(G2.name(holder)))
    if notice := story.get("copyrightNotice"):
        parts.append(G2.copyrightNotice(notice))
    if terms := story.get("usageTerms"):
        parts.append(G2.usageTerms(terms))
    return G2.rightsInfo(*parts) if parts else None


def _item_meta(story: dict[str, Any]) -> Any:
    meta = G2.itemMeta(
        G2.itemClass(qcode="ninat:text"),
        G2.provider(literal="newswire"),
        G2.versionCreated(story["versionCreated"]),
        G2.firstCreated(story["firstCreated"]),
    )
    embargo = story.get("newswire", {}).get("embargo")
    if embargo:  # an empty element: embargoed, its time not given
        meta.append(G2.embargoed(embargo.get("until", "")))
    meta.append(G2.pubStatus(qcode=_STATUS.get(story.get("pubStatus", "usable"), "stat:usable")))
    if note := story.get("edNote"):
        meta.append(G2.edNote(note))
    return meta


def _content_meta(story: dict[str, Any]) -> Any:
    meta = G2.contentMeta()
    if story.get("urgency") is not None:
        meta.append(G2.urgency(str(story["urgency"])))
    if located := story.get("located"):
        meta.append(G2.located(G2.name(located)))
    for source in story.get("infoSources", []):
        meta.append(
            G2.infoSource(G2.name(source["name"]), role=f"nrol:{source.get('role', 'source')}")
        )
    if by := story.get("by"):
        meta.append(G2.creator(G2.name(by)))
    if language := story.get("language"):
        meta.append(G2.language({"tag": language}))
    for entity in story.get("newswire", {}).get("entities", []):
        if kind := _SUBJECT_TYPES.get(entity.get("type", "")):
            meta.append(_subject(entity, kind))
    if slug := story.get("slugline"):
        meta.append(G2.slugline(slug))
    for headline in story.get("headlines", []):
        role = {"role": "hdrole:subhead"} if headline.get("role") == "sub" else {}
        meta.append(G2.headline(headline["value"], **role))
    if dateline := story.get("newswire", {}).get("dateline", {}).get("text"):
        meta.append(G2.dateline(dateline))
    return meta


def _subject(entity: dict[str, Any], kind: str) -> Any:
    subject = G2.subject(G2.name(entity["name"]), type=kind)
    links = entity.get("links") or {}
    if uri := links.get("uri"):
        subject.set("uri", uri)
    return subject


def _xhtml(story: dict[str, Any]) -> Any:
    body = story["bodies"][0]["value"] if story.get("bodies") else ""
    paragraphs = [HTML.p(paragraph) for paragraph in body.split("\n\n") if paragraph.strip()]
    return HTML.html(HTML.head(HTML.title()), HTML.body(*paragraphs))
