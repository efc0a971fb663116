"""A Kafka cluster with SASL: a second local broker whose client listener speaks
SASL_PLAINTEXT with SCRAM-SHA-512, and the whole pipeline through it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.config import Settings
from tests.conftest import raw_item, run_newswire
from tests.integration.conftest import environment, isolated, own_broker, start_worker

pytestmark = pytest.mark.kafka

PASSWORD = "scram-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def sasl_broker(kafka: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    with own_broker(
        kafka,
        tmp_path_factory.mktemp("sasl"),
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="newswire",
        kafka_sasl_password=PASSWORD,
    ) as settings:
        yield settings


def test_the_pipeline_runs_over_sasl_scram(sasl_broker: Settings, tmp_path: Path) -> None:
    settings = replace(isolated(sasl_broker), home=tmp_path, enrich=False)
    worker = start_worker(settings, tmp_path / "worker.log")
    try:
        item = raw_item("Harbour reopens\n\nThe harbour in Gdansk reopened on Monday.")
        outcome = worker.collect([item])[item.id]
        assert outcome.status == "published"
    finally:
        worker.stop()


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"kafka_sasl_password": "not-the-password"}, "authentication"),
        ({"kafka_security_protocol": "PLAINTEXT"}, "refused the connection"),
    ],
)
def test_a_refused_client_gets_one_line_not_a_hang(
    sasl_broker: Settings, tmp_path: Path, change: dict[str, str], says: str
) -> None:
    (tmp_path / "story.txt").write_text("Harbour reopens\n\nThe harbour reopened on Monday.")
    env = environment(replace(sasl_broker, **change))  # type: ignore[arg-type]
    result = run_newswire("ingest", str(tmp_path / "story.txt"), env=env, timeout=120)
    assert result.returncode == 1
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("newswire: ")
    assert says in lines[0], lines[0]
    assert b"Traceback" not in result.stderr
