"""Turning what users hand in (files, stdin, HTTP bodies) into raw items.

The CLI and ``POST /ingest`` both go through here, so an item means the same whichever door
it came in by.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from charset_normalizer import from_bytes

from pipeline.formats import split_document
from pipeline.limits import too_deep
from pipeline.records import RawItem, Rejected, check_received, new_item_id, rfc3339, utc_now
from pipeline.validation import validation_error

RAW_ITEM_SUFFIXES = (".jsonl", ".ndjson")
DOCUMENT_SUFFIXES = (".txt", ".html", ".htm", ".json", ".xml", ".rss", ".atom")


class InputError(ValueError):
    """A user's input cannot be read; the message is the one line the CLI prints."""


@dataclass(frozen=True)
class InputFailure:
    """One input that could not become a raw item (counted as failed, reported, skipped)."""

    where: str
    reason: str


def decode_text(data: bytes) -> str:
    """Document bytes as text: UTF-8 first, else the most likely legacy encoding."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        best = from_bytes(data).best()
        if best is None or best.encoding is None:
            raise Rejected(
                "decode", "the document is not text in any known encoding", code="binary"
            ) from None
        return str(best)


def raw_items_from_document(
    data: bytes,
    *,
    source: str,
    format: str = "auto",
    guid: str | None = None,
    url: str | None = None,
    id_base: str | None = None,
) -> list[RawItem]:
    """Raw items for one document, received now: one per entry of a feed or newsItem of a
    newsMessage, else one. With ``id_base`` the ids are ``id_base``, ``id_base.2``, ...: the
    same document gives the same ids."""
    if format == "jsonl":
        raise Rejected(
            "decode", "jsonl frames raw items, it is not a document format", code="unsupported"
        )
    chosen, parts = split_document(decode_text(data), format)
    received = rfc3339(utc_now())
    return [
        RawItem(
            id=new_item_id() if id_base is None else id_base + (f".{n}" if n > 1 else ""),
            source=source,
            receivedAt=received,
            format=chosen,
            content=content,
            guid=part_guid or guid or None,
            url=url,
        )
        for n, (content, part_guid) in enumerate(parts, start=1)
    ]


def raw_item_from_json(value: Any, *, source: str) -> RawItem:
    """A raw item from a JSON object; ``id``, ``receivedAt``, ``source`` and ``format`` may be
    left out by the sender and are filled in here."""
    if not isinstance(value, dict):
        raise Rejected("decode", "a raw item must be a JSON object", code="not-raw-item")
    filled = {
        "id": new_item_id(),
        "receivedAt": rfc3339(utc_now()),
        "source": source,
        "format": "auto",
        **value,
    }
    error = validation_error("raw-item", filled)
    if error is not None:
        raise Rejected("decode", f"not a raw item: {error}", code="not-raw-item")
    item = RawItem.from_dict(filled)
    check_received(item)
    return item


def raw_items_from_request(
    body: bytes, *, source: str, format: str, guid: str | None, url: str | None
) -> list[RawItem]:
    """A POST body is a raw item (JSON with ``content``) or a raw document of any format (a
    feed or newsMessage gives one raw item per story)."""
    if not body.strip():
        raise Rejected("decode", "the request body is empty", code="no-text")
    if format == "jsonl":
        return [_jsonl_line(line, source) for line in body.splitlines() if line.strip()]
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return raw_items_from_document(body, source=source, format=format, guid=guid, url=url)
    if not isinstance(value, dict):  # null, 42 or [1, 2, 3]: no item and no document
        kind = "null" if value is None else type(value).__name__
        reason = f"a JSON body must be an object (a raw item or a document), not {kind}"
        raise Rejected("decode", reason, code="not-raw-item")
    if (deep := too_deep(value)) is not None:
        raise Rejected("decode", f"the JSON body is {deep}", code="malformed")
    if is_raw_item_json(value):
        return [raw_item_from_json(value, source=source)]
    return raw_items_from_document(body, source=source, format=format, guid=guid, url=url)


def _jsonl_line(line: bytes, source: str) -> RawItem:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        raise Rejected("decode", f"not JSON: {error}", code="not-json") from None
    return raw_item_from_json(value, source=source)


def is_raw_item_json(value: Any) -> bool:
    """A JSON body that is a raw item (it has ``content``), not a ninjs document."""
    return isinstance(value, dict) and "content" in value


def _jsonl_items(data: bytes, where: str, source: str) -> Iterator[RawItem | InputFailure]:
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield _jsonl_line(line, source)
        except Rejected as rejected:
            yield InputFailure(f"{where}:{number}", rejected.reason)


def _document_items(
    data: bytes, where: str, source: str, format: str
) -> Iterator[RawItem | InputFailure]:
    try:
        yield from raw_items_from_document(data, source=source, format=format)
    except Rejected as rejected:
        yield InputFailure(where, rejected.reason)


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        suffixes = RAW_ITEM_SUFFIXES + DOCUMENT_SUFFIXES
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
    if path.is_file():
        return [path]
    raise InputError(f"{path}: no such file or folder")


def read_inputs(paths: list[str], *, format: str, source: str) -> Iterator[RawItem | InputFailure]:
    """Raw items from files, folders (recursively) and ``-`` (stdin), in the order given.

    ``format`` ``jsonl`` (or ``auto`` with a .jsonl/.ndjson file) reads raw items one per line;
    any other reads each file as one document of that format.
    """
    for given in paths or ["-"]:
        if given == "-":
            yield from _items_of("<stdin>", sys.stdin.buffer.read(), False, format, source)
            continue
        for path in _files(Path(given)):
            try:
                data = path.read_bytes()
            except OSError as error:
                yield InputFailure(str(path), error.strerror or str(error))
                continue
            jsonl = path.suffix.lower() in RAW_ITEM_SUFFIXES
            yield from _items_of(str(path), data, jsonl, format, source)


def _items_of(
    where: str, data: bytes, looks_like_jsonl: bool, format: str, source: str
) -> Iterator[RawItem | InputFailure]:
    if format == "jsonl" or (format == "auto" and looks_like_jsonl):
        yield from _jsonl_items(data, where, source)
    else:
        yield from _document_items(data, where, source, format)
