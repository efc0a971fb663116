"""IPTC NewsML-G2 text items: a ``newsItem`` (or a ``newsMessage`` carrying one), with the story
as inline NITF, inline XHTML or inline plain text. Namespaces are matched by local name, so
items from providers that vary them still read.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from pipeline.control import read_pub_status, read_signals
from pipeline.formats.document import ParsedDocument
from pipeline.formats.markup import text_lines
from pipeline.formats.text import split_blocks
from pipeline.formats.xml import local_name, parse_xml, text_of
from pipeline.records import Control, Rejected, normalise_timestamp

_BLOCK_TAGS = {"p", "hl2", "li", "blockquote", "pre", "h2", "h3", "h4"}
# contentMeta/subject types that name a person, a place or an organisation.
_ENTRY_KIND = {
    "cpnat:person": "people",
    "cpnat:geoArea": "places",
    "cpnat:poi": "places",
    "cpnat:organisation": "organisations",
}


def _first(root: Any, path: str) -> Any | None:
    return root.find(path)


def _subjects(content_meta: Any | None) -> dict[str, list[dict[str, str]]]:
    entries: dict[str, list[dict[str, str]]] = {
        "subjects": [],
        "people": [],
        "places": [],
        "organisations": [],
    }
    if content_meta is None:
        return entries
    for subject in content_meta.findall("{*}subject"):
        entry = {"name": text_of(subject.find("{*}name")), "literal": subject.get("qcode")}
        kept = {k: v for k, v in entry.items() if v}
        if kept:
            entries[_ENTRY_KIND.get(subject.get("type", ""), "subjects")].append(kept)
    return entries


def _blocks(container: Any) -> list[str]:
    """The paragraphs of an NITF ``body.content`` or an XHTML ``body``, in order."""
    blocks = []
    for element in container.iter():
        name = local_name(element)
        if name == "pre":  # plain copy set in lines (a team sheet, a table): read as plain text
            blocks += split_blocks("".join(element.itertext()))
        elif name in _BLOCK_TAGS and (text := text_of(element)):
            blocks.append(text)
    return blocks


def _story_content(root: Any) -> tuple[list[str], dict[str, str | None]]:
    """Body blocks plus what the NITF head says (headline, sub-headline, by-line, dateline)."""
    nitf = root if local_name(root) == "nitf" else _first(root, ".//{*}nitf")
    if nitf is not None:
        content = _first(nitf, ".//{*}body.content")
        byline = text_of(_first(nitf, ".//{*}body.head/{*}byline"))
        head = {
            "headline": text_of(_first(nitf, ".//{*}hedline/{*}hl1"))
            or text_of(_first(nitf, "{*}head/{*}title")),
            "subheadline": text_of(_first(nitf, ".//{*}hedline/{*}hl2")),
            "byline": byline.removeprefix("By ").strip() if byline else None,
            "dateline": text_of(_first(nitf, ".//{*}body.head/{*}dateline")),
        }
        return (_blocks(content) if content is not None else []), head
    xhtml = _first(root, ".//{*}inlineXML//{*}body")
    if xhtml is not None:  # text set straight in the body (a results table) is read by lines
        return _blocks(xhtml) or text_lines("".join(xhtml.itertext())), {}
    for data in root.iter("{*}inlineData"):
        if "text/plain" in data.get("contenttype", "text/plain") and data.text:
            return [line.strip() for line in data.text.splitlines() if line.strip()], {}
    return [], {}


def nitf_blocks_of(container: Any) -> list[str]:
    """The paragraphs of NITF or XHTML markup inside ``container`` (NewsML 1's DataContent)."""
    content = _first(container, ".//{*}body.content")
    return _blocks(content if content is not None else container)


def nitf_blocks(markup: str) -> list[str]:
    """The body paragraphs of a standalone NITF document (as ninjs bodies may carry)."""
    return _story_content(parse_xml(markup))[0]


def split_news_message(content: str) -> list[tuple[str, str | None]]:
    """Each newsItem of a newsMessage as a document of its own, with its guid; any other
    NewsML-G2 document stays whole."""
    root = parse_xml(content)
    if local_name(root) != "newsMessage":
        return [(content, root.get("guid"))]
    return [
        (etree.tostring(item, encoding="unicode"), item.get("guid"))
        for item in root.findall(".//{*}itemSet/{*}newsItem")
    ]


def _news_item(root: Any) -> Any:
    """The one newsItem to read: the root itself, or the only one a newsMessage carries."""
    if local_name(root) != "newsMessage":
        return root
    items = root.findall(".//{*}itemSet/{*}newsItem")
    if len(items) != 1:
        raise Rejected(
            "clean",
            f"a newsMessage with {len(items)} news items: ingest it to split it",
            code="unsplit",
        )
    return items[0]


def _text_in(parent: Any | None, path: str) -> str | None:
    return text_of(_first(parent, path)) if parent is not None else None


def read_control(root: Any) -> Control:
    """pubStatus, embargoed (an empty element too: embargoed, time unknown), edNotes,
    signals, rights, expiry, profile and an advisory genre of a newsItem."""
    meta = _first(root, "{*}itemMeta")
    if meta is None:
        return Control()
    status_element = _first(meta, "{*}pubStatus")
    status, embargoed = read_pub_status(
        status_element.get("qcode") if status_element is not None else None
    )
    embargo = _first(meta, "{*}embargoed")
    notes = [text for note in meta.findall("{*}edNote") if (text := text_of(note))]
    rights = _first(root, "{*}rightsInfo")
    holder = _first(rights, "{*}copyrightHolder") if rights is not None else None
    genres = [g.get("qcode", "") for g in root.findall("{*}contentMeta/{*}genre")]
    return Control(
        pub_status=status,
        embargoed=embargoed or embargo is not None,
        embargoed_until=normalise_timestamp(text_of(embargo)),
        ed_note=" / ".join(notes) or None,
        copyright_holder=_text_in(holder, "{*}name") or text_of(holder),
        copyright_notice=_text_in(rights, "{*}copyrightNotice"),
        usage_terms=_text_in(rights, "{*}usageTerms"),
        expires=normalise_timestamp(text_of(_first(meta, "{*}expires"))),
        signals=read_signals([s.get("qcode", "") for s in meta.findall("{*}signal")]),
        profile=text_of(_first(meta, "{*}profile")),
        marker="advisory" if any("advisory" in g.lower() for g in genres) else None,
    )


def _docdata(root: Any, name: str, attribute: str) -> str | None:
    """An attribute of bare NITF's ``docdata`` (``doc-id@id-string``, ``date.issue@norm``)."""
    element = _first(root, f".//{{*}}docdata/{{*}}{name}")
    return (element.get(attribute) or None) if element is not None else None


def parse_newsml(content: str) -> ParsedDocument:
    root = _news_item(parse_xml(content))
    item_class = _first(root, "{*}itemMeta/{*}itemClass")
    if item_class is not None and not item_class.get("qcode", "").endswith(":text"):
        raise Rejected(
            "clean",
            f"NewsML-G2 item of class {item_class.get('qcode')} has no text",
            code="no-text",
        )
    meta = _first(root, "{*}contentMeta")
    blocks, head = _story_content(root)
    language = _first(meta, "{*}language") if meta is not None else None
    urgency = text_of(_first(meta, "{*}urgency")) if meta is not None else None
    metadata: dict[str, Any] = {
        "guid": root.get("guid") or _docdata(root, "doc-id", "id-string"),
        "version": root.get("version"),
        "subheadline": head.get("subheadline"),
        "byline": head.get("byline") or text_of(_first(root, ".//{*}creator/{*}name")),
        "language": language.get("tag")
        if language is not None
        else root.get("{http://www.w3.org/XML/1998/namespace}lang"),
        "urgency": int(urgency) if urgency and urgency.isdigit() else None,
        "slugline": text_of(_first(root, ".//{*}contentMeta/{*}slugline")),
        "control": read_control(root),
        "created": text_of(_first(root, "{*}itemMeta/{*}firstCreated"))
        or text_of(_first(root, ".//{*}contentMeta/{*}contentCreated"))
        or normalise_timestamp(_docdata(root, "date.issue", "norm")),
        "updated": text_of(_first(root, "{*}itemMeta/{*}versionCreated")),
        "located": text_of(_first(root, ".//{*}contentMeta/{*}located/{*}name")),
        "agency": text_of(_first(root, ".//{*}contentMeta/{*}infoSource/{*}name")),
        **_subjects(meta),
    }
    return ParsedDocument(
        blocks=blocks,
        headline=text_of(_first(root, ".//{*}contentMeta/{*}headline")) or head.get("headline"),
        metadata={k: v for k, v in metadata.items() if v not in (None, [])},
        dateline_text=text_of(_first(root, ".//{*}contentMeta/{*}dateline"))
        or head.get("dateline"),
    )
