"""What the benchmarks share: the workplace's Wikinews file and reading it as wire items."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import orjson

from pipeline.clean import clean
from pipeline.records import Article, RawItem

SHARED = Path(__file__).resolve().parents[2] / "shared"
WIKINEWS = SHARED / "data" / "wikinews" / "wikinews_2019_2020.jsonl"


def wikinews_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "data",
        nargs="?",
        type=Path,
        default=WIKINEWS,
        help=f"Wikinews JSON Lines (default: {WIKINEWS})",
    )
    return parser


def wikinews_rows(path: Path) -> list[dict[str, Any]]:
    """The articles ``{id, title, date, body, ...}``; exits with a message when absent."""
    if not path.exists():
        raise SystemExit(f"no Wikinews data at {path}")
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def wikinews_article(row: dict[str, Any]) -> Article:
    """An article as the clean stage makes it of the title and body as plain wire copy."""
    return clean(
        RawItem(
            id=row["id"],
            source="wikinews",
            receivedAt="2020-01-01T00:00:00Z",
            format="text",
            content=row["title"] + "\n\n" + row["body"],
        )
    )
