"""What an item's headline and lead say it is about, and dedup deciding on that evidence:
agency look-alikes stay apart, real rewrites and refiles are linked, and retention runs on
the stream's own clock. The wire copy here is written for the tests in agency style."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pipeline.chain import Published, run_chain
from pipeline.dedup import DedupConfig, DedupIndex, marks_update
from pipeline.evidence import lead_figures, lead_names, names_agree, opening
from tests.conftest import raw_item
from tests.unit.test_dedup import Desk, status

BOND = (
    "{issuer} is issuing a {amount} mln dlr convertible eurobond due March 31, 2002 paying "
    "an indicated coupon of two pct, lead manager {manager} International said.",
    "The par-priced issue is callable from 1990 and is available in denominations of 5,000 "
    "dlrs. It will be listed in Luxembourg.",
)


def bond(issuer: str, amount: str, manager: str) -> list[str]:
    return [BOND[0].format(issuer=issuer, amount=amount, manager=manager), BOND[1]]


def test_names_are_tickers_and_capitalised_words_but_not_designators_or_dates() -> None:
    names = lead_names(
        "ESSEX CHEMICAL <ESX> SELLS DEBT",
        "Essex Chemical Corp said on Tuesday it is raising 60 mln dlrs. Kidder Peabody leads.",
    )
    assert names == ("<esx>", "chemical", "essex")


def test_leads_with_other_tickers_name_other_companies() -> None:
    assert not names_agree(("<esx>", "chemical"), ("<oh>", "chemical"))
    assert names_agree(("<esx>", "chemical"), ("<esx>",))
    # A correction may be of the ticker itself.
    assert names_agree(("<coq>", "c.o.m.b"), ("<cmco>", "c.o.m.b"), by_tickers=False)


def test_lead_figures_are_whole_and_spelled_numbers_count() -> None:
    figures = lead_figures(
        "FED ADDS RESERVES", "The Fed arranged one billion dlrs at 6-1/8 pct, or 1,143.50 mln."
    )
    assert figures == ("1143.5", "6-1/8", "one")


def test_a_lead_runs_over_the_rows_that_open_a_statement() -> None:
    """A results statement's first rows are its lead: one row alone has too few figures to
    tell one issuer's report from another's."""
    rows = ["Shr 1.20 vs 1.05", "Net 12.3 mln vs 10.1 mln", "Revs 412.8 mln vs 385.2 mln"]
    assert lead_figures("ACME CORP 3RD QTR NET", opening(rows)) == (
        "1.05",
        "1.2",
        "10.1",
        "12.3",
        "3",
        "385.2",
        "412.8",
    )
    prose = ["Acme Corp said third-quarter profit rose.", "It gave no reason."]
    assert lead_figures("ACME PROFIT RISES", opening(prose)) == ()


def test_markers_are_slugs_and_notes_not_headline_words() -> None:
    assert marks_update("UPDATE 2-Bridge closes", "")
    assert marks_update("(CORRECTED) - MOBIL TO UPGRADE REFINERY", "")
    assert marks_update("Bridge closes", "(Adds minister's comment) The bridge closed.")
    assert not marks_update("FED ADDS RESERVES VIA CUSTOMER REPURCHASES", "The Fed added.")
    assert not marks_update("U.S. UPDATES EXPORT RULES", "The rules changed.")


def test_another_issuers_templated_bond_is_a_story_of_its_own() -> None:
    desk = Desk()
    first = desk.deliver(
        "HOKKAIDO BANK ISSUES BOND", bond("Hokkaido Takushoku Bank Ltd", "100", "Takugin")
    )
    other = desk.deliver(
        "TOYO TRUST ISSUES BOND", bond("Toyo Trust and Banking Co Ltd", "100", "Toyo Trust")
    )
    assert status(first) == status(other) == "new"


def test_the_same_daily_report_with_another_figure_the_next_day_is_a_new_story() -> None:
    desk = Desk()
    report = [
        "The Federal Reserve entered the government securities market to arrange {} billion "
        "dlrs of customer repurchase agreements, a Fed spokesman said.",
        "Dealers said Federal funds were trading at 6-3/8 pct when the Fed began its "
        "temporary and indirect supply of reserves to the banking system.",
    ]
    desk.deliver("FED ADDS RESERVES VIA CUSTOMER REPURCHASES", [report[0].format("two"), report[1]])
    again = desk.deliver(
        "FED ADDS RESERVES VIA CUSTOMER REPURCHASES",
        [report[0].format("1.5"), report[1]],
        after=timedelta(hours=24),
    )
    assert status(again) == "new"


def test_a_rewrite_hours_later_is_a_version_and_says_what_decided() -> None:
    desk = Desk()
    lead = (
        "Brazil today suggested to its foreign bank creditors an extension of short-term "
        "credit lines for 60 days until May 31, a central bank spokesman said."
    )
    rest = "The credit lines total about 15 billion dlrs and expire on Tuesday."
    first = desk.deliver("BRAZIL ASKS 60-DAY EXTENSION OF CREDIT", [lead, rest])
    rewrite = desk.deliver(
        "BRAZIL SUGGESTS 60-DAY CREDIT EXTENSION",
        [lead, rest, "Bankers said they expected to agree."],
        after=timedelta(hours=2),
    )
    assert status(first) == "new" and status(rewrite) == "version"
    assert rewrite.decision.reason == "rewrite"  # type: ignore[union-attr]
    evidence = rewrite.decision.evidence  # type: ignore[union-attr]
    assert evidence is not None
    assert evidence["sameSubject"] and evidence["leadFiguresMissing"] == 0
    assert evidence["hoursApart"] == 2.0 and not evidence["marked"]


def test_a_marked_correction_of_a_figure_is_a_version() -> None:
    desk = Desk()
    text = "Mobil Corp said it will spend over {} mln dlrs to upgrade a refinery unit in Texas."
    desk.deliver("MOBIL TO UPGRADE REFINERY UNIT", [text.format(30), "Work starts in June."])
    fixed = desk.deliver(
        "CORRECTED - MOBIL TO UPGRADE REFINERY UNIT",
        [text.format(40), "Work starts in June."],
        after=timedelta(hours=3),
    )
    assert status(fixed) == "version"


def test_a_near_verbatim_repeat_days_later_is_still_the_story() -> None:
    desk = Desk()
    lead = (
        "Prime Minister Yasuhiro Nakasone sounded a conciliatory note in Japan's row with "
        "the United States over trade in computer microchips."
    )
    body = [lead, "He told parliament that Japan wanted to resolve the dispute by talks."]
    desk.deliver("NAKASONE SOUNDS CONCILIATORY NOTE", body)
    repeat = desk.deliver(
        "NAKASONE SOUNDS CONCILIATORY NOTE",
        [*body, "Officials will meet in Washington."],
        after=timedelta(hours=48),
    )
    assert status(repeat) == "version"


def test_an_old_archive_is_remembered_by_its_own_time() -> None:
    """Items received months ago: retention counts from the newest receivedAt, so a copy a
    day later is a duplicate, whatever the wall clock says."""
    desk = Desk()
    desk.clock = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
    paragraphs = [
        "A storm cut power to 40,000 homes in the north on Monday.",
        "Crews worked overnight.",
    ]
    desk.deliver("Storm cuts power in the north", paragraphs)
    copy = desk.deliver(
        "Storm cuts power in the north", paragraphs, source="agency-b", after=timedelta(days=1)
    )
    assert status(copy) == "duplicate:exact"


def test_a_story_older_than_the_retention_in_event_time_is_forgotten_under_a_new_uri() -> None:
    desk = Desk(DedupConfig(retention=timedelta(days=7)))
    desk.clock = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
    paragraphs = [
        "A storm cut power to 40,000 homes in the north on Monday.",
        "Crews worked overnight.",
    ]
    first = desk.deliver("Storm cuts power in the north", paragraphs)
    later = desk.deliver("Storm cuts power in the north", paragraphs, after=timedelta(days=8))
    assert status(first) == status(later) == "new"
    assert later.decision.uri != first.decision.uri  # type: ignore[union-attr]


def test_the_event_clock_never_runs_ahead_of_the_wall_clock() -> None:
    desk = Desk()
    desk.clock = datetime.now(UTC) + timedelta(hours=12)  # a day ahead is refused (limits)
    desk.deliver("A story from the future", ["Its receivedAt lies hours ahead."])
    assert desk.index.now() <= datetime.now(UTC)


def test_a_published_version_says_what_made_it_one() -> None:
    index, config = DedupIndex(), DedupConfig()
    lead = "Mobil Corp said it will spend over 30 mln dlrs to upgrade a refinery unit in Texas."
    first = raw_item("MOBIL TO UPGRADE REFINERY UNIT\n\n" + lead + "\n\nWork starts in June.")
    fixed = raw_item(
        "CORRECTED - MOBIL TO UPGRADE REFINERY UNIT\n\n" + lead + "\n\nIt starts in July."
    )
    run_chain(first.to_json(), index, 1 << 20, True, config)
    version = run_chain(fixed.to_json(), index, 1 << 20, True, config)
    assert isinstance(version, Published)  # valid against the story schema
    dedup = version.story["newswire"]["dedup"]
    assert dedup["reason"] == "marked" and dedup["evidence"]["marked"]
