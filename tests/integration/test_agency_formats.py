"""Each agency format through the worker on a real broker: ANPA-1312, IPTC 7901, NewsML 1.2
and e-mail are published as stories with their headline, and nothing their agency marks as
not for publication reaches the story."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.config import Settings
from tests.conftest import raw_item
from tests.integration.conftest import WorkerProcess, isolated, start_worker
from tests.unit.test_agency_formats import ANPA, EMAIL, IPTC7901, NEWSML1

pytestmark = pytest.mark.kafka

SECRETS = ("not for publication", "Carl Desk", "AP Photo HAM101", "BC-Harbour", "Delivered-To")


@pytest.fixture()
def linking(kafka: Settings, tmp_path: Path) -> Iterator[WorkerProcess]:
    """A worker that publishes a near duplicate of another source linked to the first: the
    four formats carry one story, and which of them the dedup stage sees first varies."""
    settings = replace(isolated(kafka), home=tmp_path, enrich=False, dedup_policy="link")
    worker = start_worker(settings, tmp_path / "worker.log")
    yield worker
    worker.stop()


def test_every_agency_format_passes_through_the_worker(linking: WorkerProcess) -> None:
    items = {name: raw_item(content, source=f"agency-{name}") for name, content in (
        ("anpa", ANPA), ("iptc7901", IPTC7901), ("newsml1", NEWSML1), ("email", EMAIL)
    )}  # fmt: skip
    outcomes = linking.collect(list(items.values()))
    for name, item in items.items():
        outcome = outcomes[item.id]
        assert outcome.status == "published", (name, outcome.value)
        story = outcome.value
        assert story["headlines"][0]["value"] == "Dockers strike shuts Hamburg harbour", name
        published = story["headlines"][0]["value"] + story["bodies"][0]["value"]
        assert not [secret for secret in SECRETS if secret in published], name
    kill = outcomes[items["newsml1"].id].value
    assert kill["pubStatus"] == "canceled"  # NewsML 1's Status, as the others' would be
