"""The story contract: the schema layers on the official ninjs 3.1 schema and means it."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pipeline.chain import Published, run_chain
from pipeline.dedup import DedupConfig, DedupIndex
from pipeline.publish import check_story
from pipeline.records import Rejected
from pipeline.validation import load_schema, validation_error
from tests.conftest import raw_item


@pytest.fixture()
def story() -> dict[str, Any]:
    outcome = run_chain(
        raw_item("Headline here\n\nBody paragraph one.\n\nTwo.").to_json(),
        DedupIndex(),
        1 << 20,
        True,
        DedupConfig(),
    )
    assert isinstance(outcome, Published)
    return outcome.story


def test_story_schema_extends_the_official_ninjs_3_schema() -> None:
    schema = load_schema("story.schema.json")
    ninjs = load_schema("ninjs-schema_3.1.json")
    assert schema["allOf"][0]["$ref"].startswith(ninjs["$id"].rstrip("#"))
    assert schema["unevaluatedProperties"] is False


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.pop("newswire"), '"newswire" is a required property'),
        (lambda s: s.update(surprise=1), "'surprise' was unexpected"),
        (lambda s: s.update(pubStatus="maybe"), "is not one of"),
        (lambda s: s["newswire"].update(extra=True), "Additional properties"),
        (lambda s: s["headlines"].__setitem__(0, {"role": "sub", "value": "x"}), "None of"),
        (
            lambda s: s["newswire"]["entities"].append(
                {"name": "X", "type": "alien", "mentions": [], "salience": 0.5}
            ),
            "is not one of",
        ),
    ],
)
def test_broken_stories_are_refused(story: dict[str, Any], change: Any, message: str) -> None:
    broken = copy.deepcopy(story)
    change(broken)
    error = validation_error("story", broken)
    assert error is not None and message in error
    with pytest.raises(Rejected) as refused:
        check_story(broken)
    assert refused.value.stage == "publish"


def test_a_good_story_passes(story: dict[str, Any]) -> None:
    check_story(story)
