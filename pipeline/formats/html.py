"""HTML news pages: main-text extraction with trafilatura; wire cleaning follows."""

from __future__ import annotations

import trafilatura
from trafilatura.settings import Document

from pipeline.formats.document import ParsedDocument
from pipeline.records import Rejected


def parse_html(content: str) -> ParsedDocument:
    extracted = trafilatura.bare_extraction(
        content,
        favor_precision=True,
        include_comments=False,
        include_tables=False,
        with_metadata=True,
        deduplicate=False,
    )
    if not isinstance(extracted, Document) or not extracted.text:
        raise Rejected("clean", "no article text found in the HTML page")
    metadata = {
        key: value
        for key, value in (
            ("byline", extracted.author),
            ("created", extracted.date),
            ("language", extracted.language),
        )
        if value
    }
    return ParsedDocument(
        blocks=[line for line in extracted.text.splitlines() if line.strip()],
        headline=extracted.title or None,
        metadata=metadata,
    )
