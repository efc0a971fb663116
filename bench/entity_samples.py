"""The demo samples' entities against their gold types, and the share of entities with links.

The samples (``agents/cli/samples``) are the first stories a newcomer sees; each name in them
has its type in ``bench/data/demo-entities-gold.json``, written from the stories' text. Each
sample goes through the same chain as ``newswire process`` with enrichment on.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from pipeline.chain import Published, run_chain
from pipeline.config import Settings
from pipeline.enrich import EnrichMany
from pipeline.ingest import InputFailure, read_inputs

HERE = Path(__file__).resolve().parent
SAMPLES = HERE.parent / "agents" / "cli" / "samples"
TYPES = ("person", "organisation", "place", "other")


def sample_entities(enrich: EnrichMany) -> dict[str, list[dict[str, Any]]]:
    """Each sample's entities (as in its story), by file name."""
    settings = Settings.load()
    found: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(SAMPLES.iterdir()):
        if path.suffix not in (".txt", ".json"):
            continue
        for entry in read_inputs([str(path)], format="auto", source="demo"):
            if isinstance(entry, InputFailure):
                continue
            outcome = run_chain(
                entry.to_json(),
                None,
                settings.max_item_bytes,
                False,
                settings.dedup_config(),
                enrich,
            )
            if isinstance(outcome, Published):
                found[path.name] = outcome.story["newswire"]["entities"]
    return found


def report_samples(enrich: EnrichMany) -> None:
    gold = orjson.loads((HERE / "data" / "demo-entities-gold.json").read_bytes())["samples"]
    right = judged = 0
    wrong: list[str] = []
    missed: list[str] = []
    unjudged = 0
    entities = sample_entities(enrich)
    for sample, expected in gold.items():
        ours = {e["name"]: e["type"] for e in entities.get(sample, [])}
        for name, kind in ours.items():
            if name not in expected:
                unjudged += 1
                continue
            judged += 1
            if expected[name] == kind:
                right += 1
            else:
                wrong.append(f"{name} ({kind}, gold {expected[name]})")
        missed += [n for n, k in expected.items() if k != "none" and n not in ours]
    print(f"\ndemo samples ({len(gold)} stories, bench/data/demo-entities-gold.json)")
    print(f"entities typed as the gold says: {right}/{judged} ({right / max(judged, 1):.3f})")
    print(f"typed otherwise: {', '.join(wrong) or 'none'}")
    print(f"gold names not found: {', '.join(missed) or 'none'}; entities not in gold: {unjudged}")
    pairs = [(e["type"], e.get("links") or {}) for found in entities.values() for e in found]
    report_links(pairs, "demo samples")


def report_links(entities: list[tuple[str, dict[str, Any]]], where: str) -> None:
    """The share of entities per type with a ``links.uri`` and with any link; ``entities``
    as (type, links) pairs."""
    total: Counter[str] = Counter()
    uri: Counter[str] = Counter()
    linked: Counter[str] = Counter()
    for kind, links in entities:
        total[kind] += 1
        uri[kind] += bool(links.get("uri"))
        linked[kind] += bool(links)
    print(
        f"links on {where}: "
        + "; ".join(
            f"{kind} {uri[kind]}/{total[kind]} with uri, {linked[kind]}/{total[kind]} with a link"
            for kind in TYPES
            if total[kind]
        )
    )
