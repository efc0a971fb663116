"""Saved subscriptions: named filters over published stories, matched through an index.

A filter is a JSON object; every field given must match (AND), any value of a field will do
(OR)::

    {"entities": ["Vladimir Putin", "http://www.wikidata.org/entity/Q7747"],
     "entityTypes": ["person"], "places": ["RU", "Ukraine"], "sources": ["upi"],
     "languages": ["en"], "keywords": ["sanctions", "peace talks"], "maxUrgency": 3}

``newswire tail --filter`` takes the same filter as ``field=value,value;field=value``.

A subscription marked ``public`` is a public output: it receives an embargoed story only once
the embargo has passed (``holds_back``); the worker holds and releases such stories itself.

Matching does not loop over subscriptions: each story's terms (entity names and uris, types,
places and country codes, sources, language, words) are looked up in an inverted index of the
filters, and a subscription matches when every one of its fields was hit.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipeline.control import RECALLS
from pipeline.delivery.push import PushRefused, PushTarget, check_push

LIST_FIELDS = ("entities", "entityTypes", "places", "sources", "languages", "keywords")
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
"""A subscription's name, matched whole: it becomes a topic name and a metric label."""
SUBSCRIPTION_FIELDS = frozenset({"name", "filter", "public", "push"})


def is_subscription_name(name: str) -> bool:
    return NAME.fullmatch(name) is not None


_WORD = re.compile(r"[^\W_]+")


class FilterError(ValueError):
    """A subscription or filter that cannot be used; the message says what is wrong."""


@dataclass(frozen=True)
class Subscription:
    name: str
    filter: dict[str, Any]
    public: bool = False
    push: PushTarget | None = None
    """Where its records are POSTed besides its topic (``agents.push``)."""

    def to_dict(self) -> dict[str, Any]:
        """What the API shows: the push target without its secret."""
        return {
            "name": self.name,
            "filter": self.filter,
            **({"public": True} if self.public else {}),
            **({"push": self.push.shown()} if self.push else {}),
        }

    def stored(self) -> dict[str, Any]:
        """What the subscriptions table keeps: the filter, with the options if any are set
        (a plain filter is what subscriptions saved before options existed look like)."""
        if not (self.public or self.push):
            return self.filter
        options: dict[str, Any] = {"public": True} if self.public else {}
        if self.push:
            options["push"] = self.push.stored()
        return {"filter": self.filter, **options}

    @classmethod
    def from_stored(cls, name: str, value: dict[str, Any]) -> Subscription:
        if isinstance(value.get("filter"), dict):
            push = value.get("push")
            target = PushTarget(**push) if isinstance(push, dict) else None
            return cls(name, value["filter"], bool(value.get("public")), target)
        return cls(name, value)


DELETED = "deleted"
"""The key of a deleted subscription's table entry: ``{"deleted": <epoch s>, "was": stored}``.
It is kept a while so that a story already on the main feed when the subscription was
deleted, and routed again after a crash, still reaches it."""
KEEP_DELETED_S = 86_400.0


def deleted_entry(stored: dict[str, Any], at: float) -> dict[str, Any]:
    return {DELETED: at, "was": stored}


def saved_subscriptions(
    entries: Iterable[tuple[str, dict[str, Any]]], at: float | None = None
) -> list[Subscription]:
    """The subscriptions of these table entries saved now, or (``at``) saved at that moment:
    those saved now and those deleted since."""
    saved = []
    for name, value in entries:
        if not is_subscription_name(name):  # saved by an older version that let it through
            continue
        if DELETED not in value:
            saved.append(Subscription.from_stored(name, value))
        elif at is not None and value[DELETED] > at:
            saved.append(Subscription.from_stored(name, value["was"]))
    return saved


def check_filter(value: Any) -> dict[str, Any]:
    """A filter as stored: known fields only, lists of non-empty strings, a whole urgency."""
    if not isinstance(value, dict):
        raise FilterError("a filter is a JSON object")
    unknown = set(value) - {*LIST_FIELDS, "maxUrgency"}
    if unknown:
        raise FilterError(f"unknown filter fields: {', '.join(sorted(unknown))}")
    checked: dict[str, Any] = {}
    for field in LIST_FIELDS:
        if field in value:
            values = value[field]
            if (
                not isinstance(values, list)
                or not values
                or not all(isinstance(v, str) and v.strip() for v in values)
            ):
                raise FilterError(f"{field} must be a non-empty list of strings")
            checked[field] = [v.strip() for v in values]
    if "maxUrgency" in value:
        urgency = value["maxUrgency"]
        if not isinstance(urgency, int) or isinstance(urgency, bool) or not 1 <= urgency <= 9:
            raise FilterError("maxUrgency must be a whole number from 1 to 9")
        checked["maxUrgency"] = urgency
    return checked


def check_subscription(value: Any, push_hosts: frozenset[str] = frozenset()) -> Subscription:
    """A subscription as given to the API or in the file, checked (``push_hosts``: the hosts
    a push may go to over plain http or on an internal address)."""
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        raise FilterError('a subscription is {"name": ..., "filter": {...}}')
    if unknown := set(value) - SUBSCRIPTION_FIELDS:
        raise FilterError(f"unknown subscription fields: {', '.join(sorted(unknown))}")
    if not is_subscription_name(value["name"]):
        raise FilterError("a subscription name is 1-63 lower-case letters, digits, - or _")
    public = value.get("public", False)
    if not isinstance(public, bool):
        raise FilterError("public is true or false")
    try:
        push = check_push(value["push"], push_hosts) if "push" in value else None
    except PushRefused as refused:
        raise FilterError(str(refused)) from None
    return Subscription(value["name"], check_filter(value.get("filter", {})), public, push)


def parse_filter(text: str) -> dict[str, Any]:
    """``entities=Vladimir Putin,MI6;places=RU`` -> a filter."""
    value: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        field, sep, values = part.partition("=")
        if not sep:
            raise FilterError(f"expected field=value in {part!r}")
        field = field.strip()
        items = [v.strip() for v in values.split(",") if v.strip()]
        value[field] = int(items[0]) if field == "maxUrgency" and items else items
    return check_filter(value)


def _fold(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold()))


def story_terms(story: Mapping[str, Any]) -> dict[str, set[str]]:
    """What a story offers each filter field, folded for comparison."""
    newswire = story.get("newswire", {})
    entities = newswire.get("entities", [])
    terms: dict[str, set[str]] = {field: set() for field in LIST_FIELDS}
    for entity in entities:
        terms["entities"].add(_fold(entity["name"]))
        terms["entityTypes"].add(entity["type"])
        links = entity.get("links") or {}
        if links.get("uri"):
            terms["entities"].add(links["uri"])
        if entity["type"] == "place":
            terms["places"].add(_fold(entity["name"]))
            if links.get("iso3166"):
                terms["places"].add(_fold(links["iso3166"]))
    for listed in ("people", "organisations", "places"):
        for entry in story.get(listed, []):
            if entry.get("name"):
                terms["entities"].add(_fold(entry["name"]))
                if listed == "places":
                    terms["places"].add(_fold(entry["name"]))
    terms["sources"] = {_fold(newswire.get("source", ""))} | {
        _fold(s["name"]) for s in story.get("infoSources", []) if s.get("name")
    }
    if story.get("language"):
        terms["languages"].add(_fold(story["language"].split("-")[0]))
    words = _WORD.findall(
        " ".join(
            [
                *(h["value"] for h in story.get("headlines", [])),
                *(b["value"] for b in story.get("bodies", [])),
            ]
        ).casefold()
    )
    terms["keywords"] = set(words)
    terms["_text"] = {" ".join(words)}
    return terms


class SubscriptionIndex:
    """Subscriptions by the terms that satisfy them."""

    def __init__(self, subscriptions: Iterable[Subscription] = ()) -> None:
        self.subscriptions: dict[str, Subscription] = {}
        self._postings: dict[str, dict[str, set[str]]] = {f: defaultdict(set) for f in LIST_FIELDS}
        self._fields: dict[str, int] = {}
        self._phrases: dict[str, list[str]] = {}
        self._match_all: set[str] = set()
        for subscription in subscriptions:
            self.add(subscription)

    def add(self, subscription: Subscription) -> None:
        if subscription.name in self.subscriptions:
            self.remove(subscription.name)
        self.subscriptions[subscription.name] = subscription
        fields = [f for f in LIST_FIELDS if f in subscription.filter]
        self._fields[subscription.name] = len(fields)
        if not fields:
            self._match_all.add(subscription.name)
        for field in fields:
            for value in subscription.filter[field]:
                key = value if field == "entities" and "://" in value else _fold(value)
                if field == "keywords":
                    self._phrases.setdefault(subscription.name, []).append(key)
                    key = key.split()[0] if key else key
                self._postings[field][key].add(subscription.name)

    def remove(self, name: str) -> None:
        subscription = self.subscriptions.pop(name, None)
        if subscription is None:
            return
        for postings in self._postings.values():
            for names in postings.values():
                names.discard(name)
        self._fields.pop(name, None)
        self._phrases.pop(name, None)
        self._match_all.discard(name)

    def match(self, story: Mapping[str, Any]) -> list[str]:
        """The names of the subscriptions the story matches, sorted."""
        if not self.subscriptions:
            return []  # the story's terms cost more than anything else here
        terms = story_terms(story)
        hits: Counter[str] = Counter()
        for field, postings in self._postings.items():
            satisfied: set[str] = set()
            for term in terms[field]:
                satisfied |= postings.get(term, set())
            if field == "keywords":
                text = f" {next(iter(terms['_text']))} "
                satisfied = {
                    name
                    for name in satisfied
                    if any(f" {phrase} " in text for phrase in self._phrases.get(name, []))
                }
            hits.update(satisfied)
        urgency = story.get("urgency")
        matched = []
        candidates = [name for name, count in hits.items() if count == self._fields[name]]
        for name in [*candidates, *self._match_all]:
            limit = self.subscriptions[name].filter.get("maxUrgency")
            if limit is not None and (urgency is None or urgency > limit):
                continue
            matched.append(name)
        return sorted(matched)


def naive_match(subscriptions: Iterable[Subscription], story: Mapping[str, Any]) -> list[str]:
    """Every filter tried against the story: the baseline the index is measured against."""
    terms = story_terms(story)
    text = f" {next(iter(terms['_text']))} "
    matched = []
    for subscription in subscriptions:
        ok = True
        for field in LIST_FIELDS:
            wanted = subscription.filter.get(field)
            if wanted is None:
                continue
            if field == "keywords":
                ok = any(f" {_fold(k)} " in text for k in wanted)
            else:
                ok = any((w if "://" in w else _fold(w)) in terms[field] for w in wanted)
            if not ok:
                break
        limit = subscription.filter.get("maxUrgency")
        if ok and limit is not None:
            ok = story.get("urgency") is not None and story["urgency"] <= limit
        if ok:
            matched.append(subscription.name)
    return sorted(matched)


def _recalls(story: Mapping[str, Any]) -> bool:
    """The version is a kill or withhold."""
    return story.get("newswire", {}).get("lifecycle", {}).get("kind") in RECALLS


def recipients(
    index: SubscriptionIndex, story: Mapping[str, Any], received_before: Iterable[str]
) -> list[str]:
    """The subscriptions a story version goes to: those it matches; and a kill or withhold
    also to every subscription (still saved) that received an earlier version of the story,
    whatever its filter says now, so that the story is recalled wherever it went."""
    names = set(index.match(story))
    if _recalls(story):
        names |= set(received_before) & index.subscriptions.keys()
    return sorted(names)


def holds_back(subscription: Subscription, story: Mapping[str, Any], now: float) -> bool:
    """Whether a public subscription must wait for this story: it is embargoed, until a time
    still to come or until a time the provider did not give (fail closed)."""
    if not subscription.public or _recalls(story):
        return False  # a kill or hold recalls the story at once, embargo or not
    return under_embargo(story, now)


def under_embargo(story: Mapping[str, Any], now: float) -> bool:
    """Whether the story is embargoed at ``now`` (epoch seconds): until a time still to come,
    or until a time the provider did not give (fail closed). Nothing open to the public
    (a public subscription, the dashboard) may show it then."""
    embargo = story.get("newswire", {}).get("embargo")
    if not embargo:
        return False
    due = embargo_due(embargo)
    return due is None or due > now


def embargo_due(embargo: Mapping[str, Any]) -> float | None:
    """The epoch seconds an embargo ends, or None while its time is unknown."""
    until = embargo.get("until")
    return datetime.fromisoformat(until.replace("Z", "+00:00")).timestamp() if until else None
