"""Shared fixtures: the workplace's ``../shared`` material (skipped where absent) and helpers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.records import RawItem, new_item_id, rfc3339, utc_now

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEED = SHARED / "seeds" / "000_281d7284fbb2fff2.txt"
SEED_HEADLINE = "Britain's spy chief calls on Russians working for Putin regime to defect"
SAMPLES = ROOT / "agents" / "cli" / "samples"


def shared_path(relative: str) -> Path:
    """A file of ``../shared``, or a skip saying it is absent (a user's clone has no shared/)."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"../shared/{relative} is absent: it exists only in the Newswire workplace")
    return path


@pytest.fixture()
def seed_text() -> str:
    return shared_path("seeds/000_281d7284fbb2fff2.txt").read_text()


def raw_item(content: str, **fields: object) -> RawItem:
    """A raw item as ``newswire ingest`` makes it, received now unless told otherwise."""
    values: dict[str, object] = {
        "id": new_item_id(),
        "source": "test",
        "receivedAt": rfc3339(utc_now()),
        "format": "auto",
        "content": content,
    }
    values.update(fields)
    return RawItem.from_dict(values)


def run_newswire(
    *args: str, env: dict[str, str] | None = None, stdin: bytes = b"", timeout: float = 180
) -> subprocess.CompletedProcess[bytes]:
    """``newswire ARGS`` in a child process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "agents.cli", *args],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        env=env,
        timeout=timeout,
        check=False,
    )
