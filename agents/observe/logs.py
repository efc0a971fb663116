"""Structured logs: one JSON object per line, with the item id and stage on every line that
is about an item. Story text never goes into a log line; headlines neither."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import orjson

from pipeline.records import rfc3339

ITEM_FIELDS = ("itemId", "stage", "reason", "uri", "version", "duplicateOf", "feed")
log = logging.getLogger("newswire")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "time": rfc3339(datetime.fromtimestamp(record.created, UTC)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in ITEM_FIELDS:
            if hasattr(record, field):
                event[field] = getattr(record, field)
        if record.exc_info:
            event["error"] = self.formatException(record.exc_info)
        return orjson.dumps(event, default=str).decode()


def logging_config(level: str) -> dict[str, Any]:
    """The worker's logging (``logging.config.dictConfig``): JSON lines on stderr."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json"}},
        "root": {"level": level.upper(), "handlers": ["stderr"]},
    }


def item_event(message: str, **fields: Any) -> None:
    """An INFO line about one item: ``item_event("published", itemId=..., stage=...)``."""
    log.info(message, extra=fields)


@contextmanager
def never_fatal(what: str) -> Iterator[None]:
    """Observation (metrics, the dashboard) must never stop the worker: log it and go on."""
    try:
        yield
    except Exception:
        log.exception("%s failed", what)
