"""Plain wire copy: text blocks separated by blank lines."""

from __future__ import annotations

import re

from pipeline.formats.document import ParsedDocument

_BLANK_LINES = re.compile(r"\n\s*\n")


def split_blocks(text: str) -> list[str]:
    """Blocks separated by blank lines; hard-wrapped lines inside a block are joined.

    A block whose lines are all the same line (a caption pasted twice) collapses to one.
    """
    blocks = []
    for chunk in _BLANK_LINES.split(text):
        lines = [line.strip() for line in chunk.splitlines() if line.strip()]
        if not lines:
            continue
        if len(set(lines)) == 1:
            blocks.append(lines[0])
        else:
            blocks.append(" ".join(lines))
    return blocks


def parse_text(content: str) -> ParsedDocument:
    return ParsedDocument(blocks=split_blocks(content), agency_copy=True)
