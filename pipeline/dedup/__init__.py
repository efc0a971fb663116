"""Dedup: for every cleaned item, a new story, a new version of a known story, or a duplicate.

- ``rules``: the decision, every gate in its order (``decide``);
- ``evidence``: what links an item to an earlier story of its source, and headline matching;
- ``store``: the configuration, the index, the story record as stored and the lookup keys;
- ``index``: remembering a decision, forgetting a story, rebuilding the in-memory indexes,
  the sweeper.
"""

from pipeline.dedup.evidence import Evidence, headline_match
from pipeline.dedup.index import Sweeper, forget, rebuild_derived, remember
from pipeline.dedup.rules import decide, named_story
from pipeline.dedup.store import (
    URI_PREFIX,
    Decision,
    DedupConfig,
    DedupIndex,
    Incoming,
    StoryRecord,
    fingerprint,
    headline_key,
    headline_words,
    item_key,
    marks_update,
    story_uri,
    version_numbers,
)

__all__ = [
    "URI_PREFIX",
    "Decision",
    "DedupConfig",
    "DedupIndex",
    "Evidence",
    "Incoming",
    "StoryRecord",
    "Sweeper",
    "decide",
    "fingerprint",
    "forget",
    "headline_key",
    "headline_match",
    "headline_words",
    "item_key",
    "marks_update",
    "named_story",
    "rebuild_derived",
    "remember",
    "story_uri",
    "version_numbers",
]
