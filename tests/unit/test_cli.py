"""The ``newswire`` command without Kafka: batch mode, and how user mistakes are reported."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from agents.cli import main
from pipeline.validation import validation_error
from tests.conftest import SEED_HEADLINE, run_newswire, shared_path


def test_process_prints_the_seed_as_one_valid_story() -> None:
    seed = shared_path("seeds/000_281d7284fbb2fff2.txt")
    result = run_newswire("process", str(seed))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    assert len(lines) == 1
    story = orjson.loads(lines[0])
    assert validation_error("story", story) is None
    assert story["headlines"][0]["value"] == SEED_HEADLINE


def test_process_emit_all_reports_every_item_in_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    story = "A headline\n\nThe first paragraph.\n\nThe second paragraph."
    (tmp_path / "a.txt").write_text(story)
    (tmp_path / "b.txt").write_text(story.replace("\n\n", "\n\n\n"))
    (tmp_path / "c.txt").write_text("")
    assert main(["process", str(tmp_path), "--emit", "all"]) == 0
    outcomes = [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [o["status"] for o in outcomes] == ["published", "duplicate", "rejected"]
    assert outcomes[1]["duplicateOf"] == outcomes[0]["story"]["uri"]
    assert outcomes[2]["reason"] == "clean: the document is empty"


def test_process_skip_dedup_publishes_both_copies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.txt").write_text("A headline\n\nSome text here.")
    assert main(["process", str(tmp_path / "a.txt"), str(tmp_path / "a.txt"), "--skip-dedup"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_process_reads_raw_items_from_stdin_jsonl() -> None:
    item = {"id": "one", "source": "wire", "content": "A headline\n\nBody text."}
    result = run_newswire(
        "process",
        "-",
        "--format",
        "jsonl",
        "--emit",
        "all",
        stdin=orjson.dumps(item) + b"\nnot json\n",
    )
    outcomes = [orjson.loads(line) for line in result.stdout.decode().splitlines()]
    assert [o["status"] for o in outcomes] == ["published", "rejected"]
    assert outcomes[0]["itemId"] == "one"
    assert outcomes[1]["itemId"] == "<stdin>:2"
    assert result.returncode == 1


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ("process", "/no/such/file.txt"),
            1,
            "newswire: /no/such/file.txt: no such file or folder",
        ),
        (("ingest", "/no/such/file.txt"), 1, "newswire: /no/such/file.txt: no such file or folder"),
        (
            ("tail", "stories.structured", "--bootstrap", "127.0.0.1:1", "--timeout", "1"),
            1,
            "newswire: no Kafka broker answers at 127.0.0.1:1: check NEWSWIRE_KAFKA_BOOTSTRAP",
        ),
        (
            ("tail", "stories.structured", "--filter", "colour=red"),
            1,
            "newswire: unknown filter fields: colour",
        ),
        (("feeds", "run"), 1, "newswire: no feed file: set NEWSWIRE_FEEDS_FILE or pass --file"),
        (
            ("feeds", "list", "--file", "/no/such/feeds.yaml"),
            1,
            "newswire: /no/such/feeds.yaml: No such file or directory",
        ),
        (
            ("subscriptions", "resend", "cms", "--from", "yesterday"),
            1,
            "newswire: --from 'yesterday' is neither an RFC 3339 time nor 90m, 6h, 2d",
        ),
        (("subscriptions", "resend", "cms"), 2, "the following arguments are required: --from"),
        (("process", "--format", "pdf"), 2, "invalid choice: 'pdf'"),
        (("frobnicate",), 2, "invalid choice: 'frobnicate'"),
    ],
)
def test_user_mistakes_get_one_line_and_no_traceback(
    args: tuple[str, ...], code: int, message: str
) -> None:
    result = run_newswire(*args)
    stderr = result.stderr.decode()
    assert result.returncode == code
    assert message in stderr
    assert "Traceback" not in stderr
    if code == 1:
        assert stderr.count("\n") == 1


def test_a_bad_setting_is_one_line() -> None:
    result = run_newswire("process", "-", env={"NEWSWIRE_PARTITIONS": "many", "PATH": ""})
    assert result.returncode == 1
    assert (
        result.stderr.decode()
        == "newswire: NEWSWIRE_PARTITIONS must be a whole number, not 'many'\n"
    )
