"""The doors confirm only what the broker acknowledged: with the broker gone, ``POST
/ingest`` answers 503 within its bound and ``newswire ingest`` fails with one line."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest

from agents.kafka import broker
from pipeline.config import Settings
from tests.conftest import run_newswire
from tests.integration.conftest import environment, isolated, own_broker, start_worker

pytestmark = pytest.mark.kafka


def test_no_success_is_reported_for_what_the_broker_did_not_take(
    kafka: Settings, tmp_path: Path
) -> None:
    with own_broker(kafka, tmp_path / "broker") as own:
        settings = replace(isolated(own), home=tmp_path / "worker", enrich=False)
        worker = start_worker(settings, tmp_path / "worker.log")
        try:
            story = b"Harbour reopens\n\nThe harbour in Gdansk reopened on Monday."
            assert worker.call("POST", "/ingest", story, timeout=60) == 202
            broker.stop(own)
            started = time.monotonic()
            assert worker.call("POST", "/ingest", story, timeout=90) == 503
            assert time.monotonic() - started < 60
            (tmp_path / "story.txt").write_bytes(story)
            result = run_newswire("ingest", str(tmp_path / "story.txt"), env=environment(settings))
            assert result.returncode == 1
            assert result.stderr.decode().strip().startswith("newswire: no Kafka broker answers")
            assert b"Traceback" not in result.stderr
        finally:
            worker.stop()
