"""The feed file: the README's example loads, mistakes are named; entry memory and health."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from pipeline.feeds import FeedError, FeedHealth, SeenEntries, folder_item_id, load_feeds
from tests.conftest import ROOT


def readme_feed_file(tmp_path: Path) -> Path:
    readme = (ROOT / "README.md").read_text()
    (block,) = [b for b in re.findall(r"```yaml\n(.*?)```", readme, re.S) if "feeds:" in b]
    path = tmp_path / "feeds.yaml"
    path.write_text(block)
    return path


def test_the_readme_example_loads(tmp_path: Path) -> None:
    feeds = load_feeds(readme_feed_file(tmp_path), {"REUTERS_PUSH_TOKEN": "s3cret"})
    folder, rss, push = feeds
    assert (folder.kind, folder.path, folder.pattern, folder.format) == (
        "folder",
        Path("/srv/wires/afp"),
        "*.xml",
        "newsml",
    )
    assert (folder.source, folder.poll_seconds, folder.quiet_after_seconds) == ("afp", 5, 1800)
    assert (rss.kind, rss.format, rss.source, rss.remember) == ("rss", "rss", "wikinews", 5000)
    assert (push.kind, push.token, push.source) == ("http-push", "s3cret", "reuters")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("feeds: 3", "expected an object with a 'feeds' list"),
        ("feeds: [{name: Bad Name, kind: rss}]", "'name' must be lower-case"),
        ("feeds: [{name: a, kind: ftp}]", "feed a: 'kind' must be one of folder, rss, http-push"),
        ("feeds: [{name: a, kind: folder}]", "feed a: a folder feed needs 'path'"),
        ("feeds: [{name: a, kind: rss, url: ftp://x}]", "an rss feed needs an http(s) 'url'"),
        ("feeds: [{name: a, kind: rss, url: 'http://x', path: /y}]", "unknown fields for a rss"),
        ("feeds: [{name: a, kind: http-push, token_env: NOPE}]", "'token_env', a variable"),
        (
            "feeds: [{name: a, kind: folder, path: /x, poll_seconds: 0}]",
            "'poll_seconds' must be a positive number",
        ),
        ("feeds: [{name: a, kind: folder, path: /x, format: pdf}]", "'format' must be one of"),
        (
            "feeds: [{name: a, kind: folder, path: /x}, {name: a, kind: folder, path: /y}]",
            "feed names must be unique: a",
        ),
        ("feeds: [unclosed", "not YAML or JSON"),
    ],
)
def test_mistakes_are_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(text)
    with pytest.raises(FeedError) as raised:
        load_feeds(path, {})
    assert message in str(raised.value)
    assert str(raised.value).startswith(str(path))


def test_feeds_can_be_listed_without_their_push_tokens(tmp_path: Path) -> None:
    path = readme_feed_file(tmp_path)
    with pytest.raises(FeedError, match="a variable holding its token"):
        load_feeds(path, {})
    assert [feed.token for feed in load_feeds(path, {}, tokens=False)] == [None, None, None]


def test_a_missing_feed_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(FeedError, match=r"feeds\.yaml: No such file"):
        load_feeds(tmp_path / "feeds.yaml", {})


def test_seen_entries_keep_the_newest() -> None:
    seen = SeenEntries(3, ["a", "b"])
    for key in ("c", "d", "b"):
        seen.add(key)
    assert seen.to_json() == ["c", "d", "b"]
    assert "a" not in seen and "b" in seen
    assert len(SeenEntries(2, ["a", "b", "c"])) == 2


def test_folder_item_ids_depend_on_name_and_content() -> None:
    assert folder_item_id("f", "a.txt", b"x") == folder_item_id("f", "a.txt", b"x")
    assert folder_item_id("f", "a.txt", b"x") != folder_item_id("f", "a.txt", b"y")
    assert folder_item_id("f", "a.txt", b"x") != folder_item_id("f", "b.txt", b"x")


def test_health_counts_the_last_hour_and_goes_quiet(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text(
        "feeds: [{name: a, kind: folder, path: /x, quiet_after_seconds: 600}]"
    )
    (feed,) = load_feeds(tmp_path / "feeds.yaml", {})
    now = time.time()
    health = FeedHealth(started_at=now - 7200)
    assert health.state(feed, now) == "quiet"
    health.items(3, now - 4000)
    health.items(2, now - 60)
    assert health.items_last_hour(now) == 2
    assert health.state(feed, now) == "ok"
    assert health.state(feed, now + 601) == "quiet"
    health.error("HTTP 500")
    assert health.state(feed, now) == "failing"
    health.polled(now)
    assert health.to_json(feed, now)["errorsTotal"] == 1
    assert health.to_json(feed, now)["state"] == "ok"
