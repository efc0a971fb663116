"""Saved subscription filters: what matches, and the index agrees with trying every filter."""

from __future__ import annotations

import random
from typing import Any

import pytest

from pipeline.subscriptions import (
    FilterError,
    Subscription,
    SubscriptionIndex,
    check_subscription,
    deleted_entry,
    holds_back,
    naive_match,
    parse_filter,
    recipients,
    saved_subscriptions,
)

STORY: dict[str, Any] = {
    "language": "en-GB",
    "urgency": 2,
    "headlines": [{"role": "main", "value": "Spy chief urges Russians to defect"}],
    "bodies": [{"value": "The head of MI6 spoke in Prague about new sanctions on Moscow."}],
    "infoSources": [{"name": "UPI", "role": "originator"}],
    "places": [{"name": "Prague"}],
    "newswire": {
        "source": "upi-feed",
        "entities": [
            {"name": "Richard Moore", "type": "person", "mentions": [], "salience": 0.9},
            {
                "name": "MI6",
                "type": "organisation",
                "mentions": [],
                "salience": 0.5,
                "links": {"uri": "https://example.org/mi6"},
            },
            {
                "name": "Czech Republic",
                "type": "place",
                "mentions": [],
                "salience": 0.3,
                "links": {"iso3166": "CZ"},
            },
        ],
    },
}


@pytest.mark.parametrize(
    ("filter_", "matches"),
    [
        ({}, True),
        ({"entities": ["richard moore"]}, True),
        ({"entities": ["https://example.org/mi6"]}, True),
        ({"entities": ["Vladimir Putin"]}, False),
        ({"entityTypes": ["organisation"]}, True),
        ({"entityTypes": ["event"]}, False),
        ({"places": ["CZ"]}, True),
        ({"places": ["Prague"]}, True),
        ({"places": ["UA", "FR"]}, False),
        ({"sources": ["UPI"]}, True),
        ({"sources": ["upi-feed"]}, True),
        ({"sources": ["reuters"]}, False),
        ({"languages": ["en"]}, True),
        ({"languages": ["de"]}, False),
        ({"keywords": ["new sanctions"]}, True),
        ({"keywords": ["sanction"]}, False),
        ({"maxUrgency": 3}, True),
        ({"maxUrgency": 1}, False),
        ({"entities": ["MI6"], "places": ["CZ"], "keywords": ["defect"]}, True),
        ({"entities": ["MI6"], "places": ["FR"]}, False),
    ],
)
def test_filters(filter_: dict[str, Any], matches: bool) -> None:
    subscription = check_subscription({"name": "desk", "filter": filter_})
    assert (SubscriptionIndex([subscription]).match(STORY) == ["desk"]) is matches
    assert (naive_match([subscription], STORY) == ["desk"]) is matches


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"name": "Bad Name", "filter": {}}, "lower-case"),
        ({"name": "ok", "filter": {"colour": ["red"]}}, "unknown filter fields: colour"),
        ({"name": "ok", "filter": {"entities": []}}, "non-empty list"),
        ({"name": "ok", "filter": {"maxUrgency": "high"}}, "maxUrgency"),
        (["not", "an", "object"], "a subscription is"),
    ],
)
def test_bad_subscriptions_say_what_is_wrong(value: Any, message: str) -> None:
    with pytest.raises(FilterError, match=message):
        check_subscription(value)


def test_the_cli_filter_syntax() -> None:
    assert parse_filter("entities=Vladimir Putin,MI6; places=RU ;maxUrgency=2") == {
        "entities": ["Vladimir Putin", "MI6"],
        "places": ["RU"],
        "maxUrgency": 2,
    }
    with pytest.raises(FilterError, match="field=value"):
        parse_filter("entities")


def test_the_index_agrees_with_trying_every_filter() -> None:
    rng = random.Random(5)
    values = {
        "entities": ["Richard Moore", "MI6", "Vladimir Putin", "NATO"],
        "entityTypes": ["person", "organisation", "event"],
        "places": ["CZ", "Prague", "UA", "France"],
        "sources": ["UPI", "reuters"],
        "languages": ["en", "de"],
        "keywords": ["sanctions", "new sanctions", "peace"],
    }
    subscriptions = []
    for number in range(300):
        fields = rng.sample(sorted(values), rng.randint(0, 3))
        filter_ = {f: rng.sample(values[f], rng.randint(1, 2)) for f in fields}
        if rng.random() < 0.2:
            filter_["maxUrgency"] = rng.randint(1, 4)
        subscriptions.append(Subscription(f"s{number}", filter_))
    index = SubscriptionIndex(subscriptions)
    assert index.match(STORY) == naive_match(subscriptions, STORY)
    index.remove("s0")
    assert "s0" not in index.match(STORY)


def test_a_kill_goes_to_every_subscription_that_had_the_story_whatever_its_filter() -> None:
    index = SubscriptionIndex(
        [Subscription("belarus", {"places": ["BY"]}), Subscription("sport", {"keywords": ["goal"]})]
    )
    kill = {
        "uri": "u",
        "pubStatus": "canceled",
        "newswire": {"lifecycle": {"kind": "kill"}, "entities": []},
    }
    assert recipients(index, kill, ["sport", "deleted-since"]) == ["sport"]
    update = {**kill, "newswire": {"lifecycle": {"kind": "update"}, "entities": []}}
    assert recipients(index, update, ["sport"]) == []


def embargoed(until: str | None, kind: str = "original") -> dict[str, Any]:
    embargo = {"embargoed": True, **({"until": until} if until else {})}
    return {"newswire": {"lifecycle": {"kind": kind}, "embargo": embargo}}


def test_a_public_subscription_waits_for_the_embargo_and_fails_closed() -> None:
    public, desk = Subscription("web", {}, public=True), Subscription("desk", {})
    at_noon = 1767268800.0  # 2026-01-01T12:00:00Z
    assert holds_back(public, embargoed("2026-01-01T12:00:01Z"), at_noon)
    assert not holds_back(public, embargoed("2026-01-01T12:00:00Z"), at_noon)
    assert holds_back(public, embargoed(None), at_noon)  # time unknown: still embargoed
    assert not holds_back(desk, embargoed("2026-01-01T12:00:01Z"), at_noon)
    assert not holds_back(public, embargoed(None, kind="kill"), at_noon)
    assert not holds_back(public, {"newswire": {"lifecycle": {"kind": "original"}}}, at_noon)


def test_the_public_option_is_kept_and_checked() -> None:
    saved = check_subscription({"name": "web", "filter": {"places": ["BY"]}, "public": True})
    assert Subscription.from_stored("web", saved.stored()) == saved
    assert saved.to_dict() == {"name": "web", "filter": {"places": ["BY"]}, "public": True}
    plain = Subscription.from_stored("old", {"places": ["BY"]})  # saved before options
    assert plain == Subscription("old", {"places": ["BY"]})
    with pytest.raises(FilterError, match="public is true or false"):
        check_subscription({"name": "web", "filter": {}, "public": "yes"})


def test_a_deleted_subscription_counts_as_saved_before_its_deletion_only() -> None:
    public = Subscription("web", {"sources": ["upi-feed"]}, public=True)
    entries = [
        ("desk", {"sources": ["upi-feed"]}),
        ("web", deleted_entry(public.stored(), at=1000.0)),
    ]
    assert [s.name for s in saved_subscriptions(entries)] == ["desk"]
    assert saved_subscriptions(entries, at=999.0) == [Subscription("desk", entries[0][1]), public]
    assert [s.name for s in saved_subscriptions(entries, at=1000.0)] == ["desk"]
