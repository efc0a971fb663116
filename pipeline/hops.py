"""What the worker's clean stage hands on: a cleaned item's key and JSON, made in the cleaning
process, so the event loop only sends the bytes (``agents.stages.cleaners``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.chain import Cleaned, DeadLetter, clean_step


@dataclass(frozen=True)
class CleanedRecord:
    """A cleaned item as the clean stage hands it on: its key and its JSON, encoded where it
    was cleaned (in a cleaning process, off the event loop)."""

    fingerprint: str
    value: bytes


def clean_many(records: Sequence[bytes | None], max_bytes: int) -> list[CleanedRecord | DeadLetter]:
    """``clean_step`` over a batch of records: one call into a cleaning process."""
    return [_handed_on(clean_step(data, max_bytes)) for data in records]


def _handed_on(result: Cleaned | DeadLetter) -> CleanedRecord | DeadLetter:
    if isinstance(result, DeadLetter):
        return result
    return CleanedRecord(result.fingerprint, result.to_json())
