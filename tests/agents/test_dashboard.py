"""What the dashboard takes from a story, and its latency percentiles."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from agents.observe.logs import never_fatal
from agents.observe.metrics import Metrics
from agents.stages.trends import entity_identity, story_summary
from agents.web.dashboard import percentiles
from pipeline.config import Settings


def story() -> dict[str, Any]:
    return {
        "uri": "urn:newswire:story:1",
        "version": "2",
        "versionCreated": "2026-11-29T10:00:00Z",
        "headlines": [{"role": "main", "value": "Harbour reopens"}],
        "bodies": [{"role": "main", "contentType": "text/plain", "value": "The whole text."}],
        "newswire": {
            "source": "afp",
            "entities": [
                {"type": "place", "name": "US", "salience": 0.2, "links": {"iso3166": "US"}},
                {"type": "person", "name": "Lech Walesa", "salience": 0.9},
            ],
        },
    }


NOW = 1_800_000_000.0


def test_a_summary_has_the_headline_and_entities_but_never_the_text() -> None:
    summary = story_summary(story(), NOW)
    assert summary["headline"] == "Harbour reopens"
    assert summary["source"] == "afp"
    assert summary["version"] == "2"
    assert summary["entities"] == [
        ["person", "Lech Walesa", "name:Lech Walesa"],
        ["place", "US", "iso3166:US"],
    ]
    assert "The whole text." not in str(summary)


@pytest.mark.parametrize(
    ("embargo", "shown"),
    [
        ({"embargoed": True, "until": "2027-01-16T08:00:00Z"}, "until 2027-01-16T08:00:00Z"),
        ({"embargoed": True}, "until a time not yet given"),
    ],
)
def test_an_embargoed_story_shows_only_that_it_exists(embargo: dict[str, Any], shown: str) -> None:
    embargoed = story()
    embargoed["newswire"]["embargo"] = embargo
    summary = story_summary(embargoed, NOW)  # now: 2027-01-15 08:00
    assert summary["headline"] == f"Embargoed story, afp, {shown}"
    assert summary["entities"] == []
    assert "Harbour" not in str(summary) and "Walesa" not in str(summary)


def test_a_story_past_its_embargo_shows_as_any_other() -> None:
    released = story()
    released["newswire"]["embargo"] = {"embargoed": True, "until": "2020-01-01T00:00:00Z"}
    assert story_summary(released, NOW)["headline"] == "Harbour reopens"


def test_names_of_one_thing_share_an_identity() -> None:
    us = {"name": "US", "links": {"iso3166": "US"}}
    united_states = {"name": "United States", "links": {"iso3166": "US", "geonamesId": 6252001}}
    assert entity_identity(us) == "iso3166:US"
    assert entity_identity(united_states) == "geonamesId:6252001"
    known = {"name": "MI6", "links": {"uri": "https://www.wikidata.org/wiki/Q154200"}}
    assert entity_identity(known) == "uri:https://www.wikidata.org/wiki/Q154200"


def test_percentiles_by_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentiles(values) == {"p50": 51.0, "p95": 96.0, "p99": 100.0}
    assert percentiles([]) == {"p50": None, "p95": None, "p99": None}
    assert percentiles([0.3]) == {"p50": 0.3, "p95": 0.3, "p99": 0.3}


def test_a_failing_observation_is_logged_and_never_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="newswire"), never_fatal("a dashboard sample"):
        raise IndexError("list index out of range")
    (record,) = caplog.records
    assert record.getMessage() == "a dashboard sample failed"
    assert record.exc_info is not None


def test_the_push_panel_reads_each_subscription_from_the_metrics() -> None:
    metrics = Metrics(Settings.load())
    assert metrics.push_health() == []
    for outcome in ("delivered", "delivered", "retried"):
        metrics.pushed("cms", outcome)
    metrics.pushed("partner", "failed")
    metrics.push_waiting("cms", 3.14159)
    assert metrics.push_health() == [
        {"name": "cms", "delivered": 2, "retried": 1, "failed": 0, "oldestSeconds": 3.1},
        {"name": "partner", "delivered": 0, "retried": 0, "failed": 1, "oldestSeconds": 0.0},
    ]
