from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from pipeline.dateline import parse_date_only_line, parse_dateline, resolve_date

RECEIVED = datetime(2023, 7, 20, 9, 0, tzinfo=UTC)  # a Thursday


@pytest.mark.parametrize(
    ("paragraph", "place", "day", "agency", "rest"),
    [
        ("July 19 (UPI) -- The head of MI6 spoke.", None, date(2023, 7, 19), "UPI", "The head"),
        ("WASHINGTON (AP) — Congress met.", "Washington", None, "AP", "Congress"),
        (
            "LONDON, March 3 (Reuters) - Shares fell.",
            "London",
            date(2023, 3, 3),
            "Reuters",
            "Shares",
        ),
        ("GROSSETO, Italy (AP) -- The trial began.", "Grosseto, Italy", None, "AP", "The trial"),
        (
            "NEW YORK, Wednesday (AFP) – Markets rose.",
            "New York",
            date(2023, 7, 19),
            "AFP",
            "Markets",
        ),
        ("KYIV — Sirens sounded overnight.", "Kyiv", None, None, "Sirens"),
        ("Lima, Jul 2 (EFE).- The vote began.", "Lima", date(2023, 7, 2), "EFE", "The vote"),
        (
            "TOKYO, March 30 - Prime Minister Nakasone spoke.",
            "Tokyo",
            date(2023, 3, 30),
            None,
            "Prime",
        ),
    ],
)
def test_datelines(
    paragraph: str, place: str | None, day: date | None, agency: str | None, rest: str
) -> None:
    found = parse_dateline(paragraph, RECEIVED)
    assert found is not None
    dateline, remainder = found
    assert (dateline.place, dateline.date, dateline.agency) == (place, day, agency)
    assert remainder.startswith(rest)


@pytest.mark.parametrize(
    "paragraph",
    [
        "The UN (United Nations) - as it is known - met on Monday.",
        "President Biden said on Monday that talks would go on.",
        "NATO allies met in Brussels on Tuesday.",
        "LONDON-based insurers said claims rose.",
        "U.S. - Japan talks resume on Monday.",
        "KILL - Please kill the item headlined 'Storm'.",
    ],
)
def test_ordinary_opening_sentences_have_no_dateline(paragraph: str) -> None:
    assert parse_dateline(paragraph, RECEIVED) is None


def test_dates_resolve_to_the_latest_day_not_after_receipt() -> None:
    assert resolve_date("July 19", RECEIVED) == date(2023, 7, 19)
    assert resolve_date("December 30", RECEIVED) == date(2022, 12, 30)
    assert resolve_date("Thursday", RECEIVED) == date(2023, 7, 20)
    assert resolve_date("Friday", RECEIVED) == date(2023, 7, 14)
    assert resolve_date("Someday 3", RECEIVED) is None


def test_a_date_only_line() -> None:
    assert parse_date_only_line("Friday, January 4, 2019") == date(2019, 1, 4)
    assert parse_date_only_line("Friday was January 4, 2019, a cold day") is None
