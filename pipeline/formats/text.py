"""Plain wire copy: text blocks separated by blank lines."""

from __future__ import annotations

import re

from pipeline.formats.document import ParsedDocument
from pipeline.results import is_results_row

_BLANK_LINES = re.compile(r"\n\s*\n")
_ROOM_TO_SPARE = 0.8
"""Wrapped copy fills its lines unevenly, a little short of the width."""


def split_blocks(text: str) -> list[str]:
    """Blocks separated by blank lines; hard-wrapped lines inside a block are joined, and
    the lines that were broken on purpose (see ``broken_on_purpose``) start blocks of their
    own: a headline, a dateline, the rows of a results table, the paragraphs of copy that
    marks paragraphs by indenting them.

    A block whose lines are all the same line (a caption pasted twice) collapses to one.
    """
    blocks = []
    for chunk in _BLANK_LINES.split(text):
        raw_lines = [line for line in chunk.splitlines() if line.strip()]
        lines = [line.strip() for line in raw_lines]
        if not lines:
            continue
        if len(set(lines)) == 1:
            blocks.append(lines[0])
            continue
        width = max(len(line) for line in lines)
        rows = _Rows(lines)
        block = [lines[0]]
        for index in range(1, len(lines)):
            indented = raw_lines[index][:1].isspace() and not raw_lines[index - 1][:1].isspace()
            if indented or broken_on_purpose(lines, index, width, rows):
                blocks.append(" ".join(block))
                block = []
            block.append(lines[index])
        blocks.append(" ".join(block))
    return blocks


class _Rows:
    """Which lines are rows of results, each line read once and only if asked."""

    def __init__(self, lines: list[str]) -> None:
        self._lines = lines
        self._known: dict[int, bool] = {}

    def __getitem__(self, index: int) -> bool:
        if index not in self._known:
            self._known[index] = is_results_row(self._lines[index])
        return self._known[index]


def broken_on_purpose(lines: list[str], index: int, width: int, rows: _Rows) -> bool:
    """Whether the line before ``index`` ends where its writer ended it, not where the text
    was wrapped: the next line's first word would have fitted on it with room to spare (the
    longest line of the block shows the wrap width), or a row of results ("Arsenal 2 Derby
    2") ends it or starts after a sentence or a colon."""
    line, following = lines[index - 1], lines[index]
    if len(line) + 1 + len(following.split()[0]) <= _ROOM_TO_SPARE * width:
        return True
    if line.endswith((":", ".", "!", "?")) and rows[index]:
        return True  # "... matches on Saturday:" above the table
    return rows[index - 1] and (following[0].isupper() or rows[index])


def parse_text(content: str) -> ParsedDocument:
    return ParsedDocument(blocks=split_blocks(content), agency_copy=True)
