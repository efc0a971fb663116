"""The clean stage: from a raw document in any format to an ``Article`` an editor would accept.

Format parsers (``pipeline.formats``) read the document into text blocks; the rules here are
the wire-specific cleaning every format shares. Every removal rule matches a *whole block* (or
a credit at the very end of one), so a real sentence that merely contains the same words stays.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

import ftfy

from pipeline.control import RECALLS, embargo_from_note, read_agency_lines, settle
from pipeline.dateline import parse_date_only_line, parse_dateline, parse_dateline_text
from pipeline.formats import ParsedDocument, parse_document
from pipeline.formats.framing import framed_format, unframed
from pipeline.records import Article, Control, Dateline, Image, RawItem, Rejected

_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
_TAG = re.compile(r"</?(?P<name>[a-zA-Z][a-zA-Z0-9]*)(?:\s[^<>]{0,300})?/?>")
_BREAKING_TAGS = {"br", "p", "div", "li", "hr", "td", "th", "tr", "h1", "h2", "h3", "h4"}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""Control characters (Unicode category Cc) but tab and newline."""
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")

_BOILERPLATE = re.compile(
    r"(?:advertisements?|ad|sponsored(?: content)?|skip advertisement"
    r"|story continues below(?: this)? advertisement|continue reading(?: below)?"
    r"|scroll to continue(?: with content)?|latest headlines|top stories|trending(?: now)?"
    r"|read more(?::\s.{0,80})?|related(?: articles| stories| coverage| content| links)?"
    r"|more stories|share this(?: article| story)?|share(?: on \w+)?|tweet|email|print"
    r"|follow us on .{1,60}"
    r"|(?:we use cookies|this (?:web)?site uses cookies).{0,200}|accept(?: all)? cookies"
    r"|all rights reserved)",
    re.IGNORECASE,
)
# "© 2023 UPI", "Copyright 2019 Reuters", "copyright Inexhibit 2019 - ISSN ...": the holder is a
# name, so "Copyright lawyers said in 2024 ..." (a sentence) does not match.
_COPYRIGHT = re.compile(
    r"(?:©|\([Cc]\)|[Cc]opyright|COPYRIGHT)\s*©?\s*"
    r"(?:(?:19|20)\d{2}|[A-Z][\w.&'-]*(?:\s+[A-Z][\w.&'-]*){0,4}\s+(?:19|20)\d{2})\b.{0,150}"
)
# A prompt: a sentence that starts with the imperative and names a newsletter or inbox.
_NEWSLETTER_PROMPT = re.compile(
    r"(?:^|[.!?]\s+)(?:Sign up|Subscribe|Get|Join)\b[^.!?]{0,120}\b(?:newsletters?|inbox)\b",
)
# Contact trailers: "X may be reached at a@b.com. Follow her on Twitter @x."
_CONTACT = re.compile(
    r"(?:\b(?:reached|contact(?:ed)?|email(?:ed)?|write to)\b.{0,60}[\w.+-]+@[\w-]+\.[\w.]+"
    r"|\bFollow (?:him|her|them|us|me) on (?:Twitter|X|Facebook|Instagram)\b)"
)
# "Read also" labels in the languages of the pages Newswire reads, alone or leading a link to
# another story ("Lesen Sie auch: …", "VEA TAMBIÉN: …", "À lire aussi » …").
_READ_ALSO = re.compile(
    r"(?:see also|also read|read also|you (?:may|might) also like|more on this(?: story| topic)?"
    r"|recommended(?: for you| stories| reading)?"
    r"|(?:lesen sie|lies) (?:auch|hier|mehr)|auch (?:interessant|lesen)"
    r"|das könnte (?:dich|sie) (?:auch )?interessieren|mehr zum thema"
    r"|weitere (?:artikel|beiträge|themen|nachrichten)(?: zum thema)?|zum weiterlesen"
    r"|schon gelesen|(?:à )?lire aussi|à voir aussi|voir aussi|(?:vea|ver|lea|lee) también"
    r"|(?:le|te) puede interesar|(?:notas|noticias) relacionadas|leia também|veja também"
    r"|leggi anche|potrebbe interessarti)",
    re.IGNORECASE,
)
_READ_ALSO_LEAD = (":", "»", "›", ">")
_MAX_TEASER_WORDS = 25
# A picture credit on a line of its own: "© Oli Scarff/Getty Images", "Foto: Sophia Mahnert",
# "(Credit: Clayton Aldern / Grist)", "Crédits photos : Bestimage".
_CREDIT_LINE = re.compile(
    r"(?:©|\([Cc]\))\s*\S.{0,80}"
    r"|\(?(?:photo|foto|image|picture|bild|titelbild|beitragsbild|credits?|crédits?|copyright|fotos?)"
    r"(?:\s+(?:photos?|credits?|fotos?))?\s*:\s*[^.!?]{2,80}\)?\.?",
    re.IGNORECASE,
)
_MAX_CREDIT_WORDS = 12
_MAX_PROMPT_WORDS = 30
_MIN_REPEATED_WORDS = 6
_BINARY_SAMPLE_CHARS = 65536
_BINARY_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd]")
"""Control characters but tab, newline and carriage return, and the replacement character."""
_MAX_BINARY_SHARE = 0.01
_TRAILING_PUNCTUATION = " .:!|»›>-–—"
_CREDIT = re.compile(
    r"(?:^|(?<=[.!?\"'”’]\s))(?P<credit>(?:File |AP |Reuters |UPI |EPA )?"
    r"(?:[Pp]hoto|[Ii]mage|[Pp]icture)(?:graph)?s?\s+(?:by|courtesy of)\s+"
    r"[A-Z][\w.'\-]*(?:[ /][A-Z][\w.'\-]*){0,6})\.?$"
)
_BYLINE = re.compile(r"^By\s+(?P<name>[A-Z][^.!?]{1,100})$")
# A note to editors opening the text in brackets: "(Adds comments, detail)", "(In Jan. 3
# story, corrects last paragraph ...)". It goes to the edNote, never the body.
_EDITORIAL_NOTE = re.compile(
    r"\((?:In\s[^()]{1,80}?,\s*)?(?:adds?|updates?|corrects?|recasts?|refiles?|changes?"
    r"|removes?|fixes?|repeats?|moves?|inserts?|deletes?|rewrites?|overhauls?|edits?"
    r"|writes?\s+through)\b[^()]{0,300}\)",
    re.IGNORECASE,
)
# An editor's placeholder in brackets and capitals: "[ GRAFIKK/VIDEO MANGLER ]".
_PLACEHOLDER = re.compile(r"\[[^\]a-z]{3,80}\]")
_SENTENCE_END = tuple(".!?\"'”’)]…。！？」』")
_MAX_HEADLINE_CHARS = 200
_MAX_HEADLINE_WORDS = 30
_MAX_LABEL_WORDS = 3
_MAX_LABEL_CHARS = 40


def _tag_replacement(match: re.Match[str]) -> str:
    """A tag that breaks the line leaves a space, an inline one nothing."""
    return " " if match["name"].lower() in _BREAKING_TAGS else ""


def normalise_text(text: str) -> str:
    """Drop HTML remnants, fix mojibake and entities, drop invisible characters, collapse
    spaces within a line."""
    text = ftfy.fix_text(
        _TAG.sub(_tag_replacement, text),
        uncurl_quotes=False,
        fix_character_width=False,
        fix_latin_ligatures=False,
        normalization="NFC",
    ).translate(_INVISIBLE)
    text = _CONTROL.sub("", text)
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines()).strip()


def is_read_also(block: str) -> bool:
    """A "read also" label, alone or leading the headline of another story."""
    bare = block.strip(_TRAILING_PUNCTUATION + "?")
    label = _READ_ALSO.match(bare)
    if label is None:
        return False
    rest = bare[label.end() :].lstrip()
    return not rest or (
        rest.startswith(_READ_ALSO_LEAD) and len(block.split()) <= _MAX_TEASER_WORDS
    )


def is_boilerplate(block: str) -> bool:
    """A block that is only an ad marker, a widget or navigation label, a "read also" teaser, a
    copyright or picture credit line, or a short newsletter prompt."""
    bare = block.strip(_TRAILING_PUNCTUATION)
    if _BOILERPLATE.fullmatch(bare) or _COPYRIGHT.fullmatch(bare) or is_read_also(block):
        return True
    words = len(block.split())
    if words <= _MAX_CREDIT_WORDS and _CREDIT_LINE.fullmatch(block.strip()):
        return True
    return words <= _MAX_PROMPT_WORDS and _NEWSLETTER_PROMPT.search(block) is not None


def _editorial_notes(blocks: list[str], control: Control) -> tuple[list[str], Control]:
    """Notes to editors in brackets opening the text, moved to the edNote (the rest of a
    paragraph a note opens stays)."""
    notes: list[str] = []
    while blocks and len(notes) < 2 and (note := _EDITORIAL_NOTE.match(blocks[0])):
        notes.append(note.group().strip("() "))
        rest = blocks[0][note.end() :].strip()
        blocks = [rest, *blocks[1:]] if rest else blocks[1:]
    if not notes:
        return blocks, control
    ed_note = " / ".join(filter(None, (control.ed_note, *notes)))
    return blocks, replace(control, ed_note=ed_note)


def _drop_trailers(blocks: list[str]) -> list[str]:
    """Cut what follows the story: contact lines and navigation labels."""
    end = len(blocks)
    while end > 1 and (
        is_navigation_label(blocks[end - 1])
        or (len(blocks[end - 1].split()) <= _MAX_PROMPT_WORDS and _CONTACT.search(blocks[end - 1]))
    ):
        end -= 1
    return blocks[:end]


def split_caption(block: str) -> Image | None:
    """A block ending with a photo credit is a caption: returns it as an image, else None."""
    match = _CREDIT.search(block)
    if match is None:
        return None
    return Image(caption=block[: match.start()].strip(), credit=match["credit"].rstrip("."))


def looks_like_headline(block: str) -> bool:
    words = len(block.split())
    return (
        len(block) <= _MAX_HEADLINE_CHARS
        and 0 < words <= _MAX_HEADLINE_WORDS
        and not block.endswith(".")
    )


def _first_sentence(paragraph: str) -> str:
    match = re.match(r"(.+?[.!?])(?:\s|$)", paragraph)
    sentence = match.group(1) if match else paragraph
    words = sentence.split()
    return " ".join(words[:_MAX_HEADLINE_WORDS]) + ("…" if len(words) > _MAX_HEADLINE_WORDS else "")


def is_navigation_label(block: str) -> bool:
    """A label of one to three words with no digits and no sentence end: "World", "More news".
    A "key: value" line ("Earcuff: Zoeca") is a fact, not a label."""
    return (
        len(block) <= _MAX_LABEL_CHARS
        and len(block.split()) <= _MAX_LABEL_WORDS
        and not any(ch.isdigit() for ch in block)
        and not block.endswith(_SENTENCE_END)
        and ":" not in block.rstrip(": ")
    )


def binary_share(text: str) -> float:
    """The share of control and replacement characters in (the start of) a text; the
    framing of a teleprinter message (ANPA-1312, IPTC 7901) is its envelope, not binary."""
    sample = text[:_BINARY_SAMPLE_CHARS]
    if framed_format(sample):
        sample = unframed(sample)
    return len(_BINARY_CHARACTER.findall(sample)) / max(1, len(sample))


def clean(item: RawItem) -> Article:
    """Turn a raw item into an article, or raise ``Rejected`` saying why it cannot be one."""
    if not item.content.strip():
        raise Rejected("clean", "the document is empty", code="no-text")
    if (share := binary_share(item.content)) > _MAX_BINARY_SHARE:
        raise Rejected(
            "clean",
            f"binary or undecodable content ({share:.0%} control characters)",
            code="binary",
        )
    document = parse_document(item.content, item.format)
    headline = normalise_text(document.headline) if document.headline else None
    blocks, images = _story_blocks(document, headline)
    metadata = dict(document.metadata)
    control: Control = metadata.pop("control", None) or Control()
    blocks, control = _editorial_notes(blocks, control)
    if document.agency_copy:
        blocks, control, flagged = read_agency_lines(blocks, control, item.received)
        metadata["urgency"] = metadata.get("urgency") or flagged
    control = embargo_from_note(control, item.received)
    if not blocks and control.marker in (*RECALLS, "advisory") and control.ed_note:
        blocks = [control.ed_note]  # a kill or an advisory may be nothing but agency lines
        headline = headline or control.refers_to or control.ed_note.split(" / ")[0]
    if headline is None and blocks and looks_like_headline(blocks[0]) and len(blocks) > 1:
        headline = blocks.pop(0)
    if blocks and (byline := _BYLINE.match(blocks[0])):  # a by-line is never body text
        metadata.setdefault("byline", byline["name"].strip())
        blocks.pop(0)
    dateline = _dateline(blocks, document.dateline_text, item.received)
    if not blocks:
        raise Rejected("clean", "no story text found", code="no-text")
    metadata.setdefault("agency", dateline.agency if dateline else None)
    if dateline and dateline.place:
        metadata.setdefault("located", dateline.place)
    headline = headline or _first_sentence(blocks[0])
    kind, control = settle(control, headline)
    return Article(
        headline=headline,
        paragraphs=blocks,
        dateline=dateline,
        images=[image for image in images if image.caption],
        control=control,
        kind=kind,
        **metadata,
    )


def _story_blocks(document: ParsedDocument, headline: str | None) -> tuple[list[str], list[Image]]:
    """The document's blocks without boilerplate, repeats, placeholders and trailers, and its
    pictures with the captions found among the blocks."""
    images = list(document.images)
    blocks: list[str] = []
    seen: set[str] = set()
    for raw_block in document.blocks:
        block = normalise_text(raw_block).replace("\n", " ")
        if not block or is_boilerplate(block) or block in seen or block == headline:
            continue
        if _PLACEHOLDER.fullmatch(block):
            continue
        if len(block.split()) >= _MIN_REPEATED_WORDS:  # a short line may recur in a list
            seen.add(block)
        caption = split_caption(block)
        if caption is not None:
            if caption.caption and caption.caption not in {i.caption for i in images}:
                images.append(caption)
            continue
        blocks.append(block)
    return _drop_trailers(blocks), images


def _dateline(blocks: list[str], given: str | None, received: datetime) -> Dateline | None:
    """The dateline opening the first block (taken off it, or the block itself where it is
    only a date), else the one the format carries apart."""
    if blocks and (day := parse_date_only_line(blocks[0])) is not None:
        return Dateline(text=blocks.pop(0), date=day)
    if blocks and (found := parse_dateline(blocks[0], received)) is not None:
        dateline, blocks[0] = found
        return dateline
    return parse_dateline_text(given, received) if given else None
