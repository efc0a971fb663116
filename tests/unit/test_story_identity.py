"""Story identity on a real wire: a kill finds the story it names however the names differ, the
same body under a changed headline is a version, and one mis-stamped item does not move the
clock dedup keeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.chain import Duplicate, Unique, clean_step, dedup_step
from pipeline.clock import EventClock
from pipeline.control import quoted_headline, version_kind
from pipeline.dedup import DedupConfig, DedupIndex, headline_match, headline_words
from pipeline.records import rfc3339
from tests.conftest import raw_item

START = datetime(1987, 2, 17, 9, 0, tzinfo=UTC)
HOUSING = (
    "WASHINGTON, Feb 17 - U.S. housing completions fell 0.2 pct in January to a seasonally "
    "adjusted annual rate of 1,767,000 units, the Commerce Department said.\n\n"
    "In December, completions fell 4.5 pct to 1,770,000 units, the department said.\n\n"
    "Single-family completions rose 2.1 pct to 1,145,000 units in January."
)


class Wire:
    """Plain copy of one source at given minutes past ``START``, through clean and dedup."""

    def __init__(self) -> None:
        self.index, self.config = DedupIndex(), DedupConfig()

    def send(self, text: str, minutes: float, source: str = "reuters") -> Unique | Duplicate:
        at = rfc3339(START + timedelta(minutes=minutes))
        item = raw_item(text, source=source, receivedAt=at, format="text")
        cleaned = clean_step(item.to_json(), 1 << 20)
        assert not hasattr(cleaned, "letter"), cleaned
        result = dedup_step(cleaned, self.index, self.config)  # type: ignore[arg-type]
        assert isinstance(result, Unique | Duplicate)
        return result


def uri(result: Unique | Duplicate) -> str:
    assert isinstance(result, Unique)
    return result.decision.uri


@pytest.mark.parametrize(
    ("headline", "quoted"),
    [
        (
            "U.S. HOUSING COMPLETIONS FELL 0.2 PCT IN JANUARY",
            "U.S. housing completions fell 0.2 pct in January",
        ),
        (
            "UPDATE 1-U.S. HOUSING COMPLETIONS FELL IN JANUARY",
            "U.S. HOUSING COMPLETIONS FELL IN JANUARY",
        ),
        ("U.S. SAYS IT'S READY TO TALK ON HOUSING", "U.S. says it's ready to talk on housing"),
        (
            "U.S. HOUSING COMPLETIONS FELL 0.2 PCT IN JANUARY",
            "US HOUSNG COMPLETIONS FELL 0.2 PCT IN JANUARY",
        ),
    ],
)
def test_a_kill_finds_the_story_whose_headline_it_quotes(headline: str, quoted: str) -> None:
    wire = Wire()
    story = wire.send(f"{headline}\n\n{HOUSING}", 0)
    other = wire.send("GOLD PRICES STEADY IN LONDON\n\nGold was steady in London trading.", 3)
    kill = wire.send(
        f"KILL KILL KILL\n\nPlease kill the item headlined '{quoted}'. It was sent in error.",
        10,
    )
    assert isinstance(kill, Unique)
    assert kill.decision.uri == uri(story) != uri(other)
    assert (kill.decision.status, kill.decision.version, kill.decision.reason) == (
        "version",
        2,
        "referred",
    )


def test_a_kill_request_under_the_kill_line_and_a_dateline_still_names_its_story() -> None:
    wire = Wire()
    story = wire.send(f"U.S. HOUSING COMPLETIONS FELL\n\n{HOUSING}", 0)
    kill = wire.send(
        "ELIMINATE ELIMINATE\n\nWASHINGTON, Feb 17 - Editors: please kill the story "
        'headlined "U.S. Housing Completions Fell", which contained an error.',
        12,
    )
    assert uri(kill) == uri(story)


def test_a_kill_naming_no_story_of_its_source_is_a_kill_of_an_unknown_story() -> None:
    wire = Wire()
    story = wire.send(f"U.S. HOUSING COMPLETIONS FELL\n\n{HOUSING}", 0)
    elsewhere = wire.send(
        "KILL KILL KILL\n\nPlease kill the item headlined 'U.S. housing completions fell'.",
        10,
        source="other-agency",
    )
    unrelated = wire.send(
        "KILL KILL KILL\n\nPlease kill the item headlined 'Bank of Japan leaves rates alone'.",
        11,
    )
    for kill in (elsewhere, unrelated):
        assert isinstance(kill, Unique) and kill.decision.status == "new"
        assert kill.decision.uri != uri(story)


def test_look_alike_headlines_are_not_a_match() -> None:
    named = headline_words("ACME CORP SETS QUARTERLY DIVIDEND")
    assert headline_match(named, headline_words("BETA INC SETS QUARTERLY DIVIDEND")) < 0.7
    assert headline_match(named, headline_words("ACME CORP SETS QTLY DIVIDEND")) >= 0.7


def test_quoted_headlines_keep_their_apostrophes() -> None:
    assert quoted_headline("headlined 'OPEC'S OUTPUT RISES'.") == "OPEC'S OUTPUT RISES"
    assert quoted_headline('moved under the headline "Oil rises"') == "Oil rises"
    assert quoted_headline("No headline here.") is None


def test_the_same_body_under_a_corrected_headline_is_a_correction() -> None:
    wire = Wire()
    first = wire.send(f"U.S. HOSUING COMPLETIONS FELL 0.2 PCT IN JANUARY\n\n{HOUSING}", 0)
    fixed = wire.send(f"U.S. HOUSING COMPLETIONS FELL 0.2 PCT IN JANUARY\n\n{HOUSING}", 14)
    assert isinstance(fixed, Unique)
    assert fixed.decision.uri == uri(first)
    assert fixed.decision.reason == "corrected-headline"
    assert version_kind("story", "version", fixed.decision.reason) == "correction"


def test_the_same_body_under_a_rewritten_headline_is_an_update_within_the_window() -> None:
    wire = Wire()
    first = wire.send(f"U.S. HOUSING COMPLETIONS FELL 0.2 PCT IN JANUARY\n\n{HOUSING}", 0)
    again = wire.send(f"HOUSING COMPLETIONS EASE AS SINGLE-FAMILY UNITS RISE\n\n{HOUSING}", 60 * 50)
    assert isinstance(again, Unique)
    assert (again.decision.uri, again.decision.reason) == (uri(first), "retitled")
    assert version_kind("story", "version", again.decision.reason) == "update"
    later = wire.send(f"HOUSING COMPLETIONS SLIP IN JANUARY\n\n{HOUSING}", 60 * 50 + 60 * 80)
    assert isinstance(later, Unique) and later.decision.status == "new"  # past 72 hours


def test_a_short_notice_of_another_company_is_not_its_version() -> None:
    """Dividend notices of two companies can share every word of their body."""
    wire = Wire()
    notice = "Qtly div 18 cts vs 18 cts prior\n\nPay April 15\n\nRecord March 31"
    first = wire.send(f"ACME CORP SETS QUARTERLY DIVIDEND\n\n{notice}", 0)
    second = wire.send(f"BETA INDUSTRIES SETS QUARTERLY DIVIDEND\n\n{notice}", 5)
    assert isinstance(second, Unique)
    assert second.decision.status == "new" and second.decision.uri != uri(first)


def test_one_item_stamped_twenty_years_late_does_not_make_dedup_forget() -> None:
    wire = Wire()
    stories = [
        f"STORY NUMBER {n} ABOUT TRADE\n\nTrade story {n} with its own words." for n in range(30)
    ]
    for n, text in enumerate(stories):
        wire.send(text, n)
    wire.send("MIS-STAMPED ITEM\n\nA feed typed the wrong year.", 60 * 24 * 365 * 20)
    copies = [wire.send(text, 40 + n) for n, text in enumerate(stories)]
    assert all(isinstance(copy, Duplicate) for copy in copies)


def test_the_clock_follows_the_bulk_of_the_stream() -> None:
    clock = EventClock()
    for minute in range(200):
        clock.advance(START + timedelta(minutes=minute))
        if minute == 100:
            clock.advance(START + timedelta(days=365 * 20))
    assert START + timedelta(minutes=180) <= clock.now() <= START + timedelta(minutes=200)
    restarted = EventClock()
    restarted.restart_from([(START + timedelta(minutes=m)).timestamp() for m in range(200)])
    assert restarted.now() <= START + timedelta(minutes=200)
