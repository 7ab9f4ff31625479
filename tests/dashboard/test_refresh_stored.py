"""Compliance and cases stored by the refresh per subtree: the same numbers as the live counts, any period."""

import datetime

import pytest
from django.utils import timezone

from activities.models import ComplianceRule, ComplianceStat
from activities.stats import compliance_summary
from branches.stats import branch_coverage
from config.dashboard.figures import dashboard_tables
from config.dashboard.refresh import stats_refresh
from services.models import Case, CaseDayStat
from services.stats import case_figures, case_months, case_ratings
from tests.dashboard.conftest import held, local
from tests.services.factories import make_case

pytestmark = pytest.mark.django_db


def _kinds(branch) -> dict:
    kinds: dict = {}
    for row in branch_coverage(branch=branch)["by_kind_basis"]:
        kinds[row["kind"]] = kinds.get(row["kind"], 0) + row["n"]
    return kinds


def _summary(branch, start, end) -> list:
    return compliance_summary(branch=branch, start=start, end=end, branch_kinds=_kinds(branch))


def _numbers(summary) -> list:
    return [(r.kind, r.period, r.branches, r.met, r.missing, r.due) for r in summary]


def _live(fn):
    """`fn()` with the stored rows out of the way (the live count), the rows put back afterwards."""
    compliance = list(ComplianceStat.objects.all())
    cases = list(CaseDayStat.objects.all())
    ComplianceStat.objects.all().delete()
    CaseDayStat.objects.all().delete()
    try:
        return fn()
    finally:
        ComplianceStat.objects.bulk_create(compliance)
        CaseDayStat.objects.bulk_create(cases)


@pytest.fixture
def more(world):
    """More meetings and cases over the year, at both stations, so the periods differ."""
    tree, today = world["tree"], world["today"]
    year_start = today.replace(month=1, day=1)
    for branch, months in ((tree["station_a"], (3, 4, 4)), (tree["station_b"], (1, 3, 7))):
        for month in months:
            if month <= today.month:
                held(branch, "committee_meeting", local(year_start.replace(month=month, day=15)))
                held(branch, "party_lecture", local(year_start.replace(month=month, day=16)))
    held(tree["building"], "theme_day", local(year_start.replace(day=20)))
    now = timezone.now()
    for days_ago, rating in ((3, 5), (40, 2), (70, None)):
        when = now - datetime.timedelta(days=days_ago)
        case = make_case(tree["station_b"])
        Case.objects.filter(pk=case.pk).update(
            opened_at=when,
            status="resolved",
            resolved_at=when + datetime.timedelta(days=1),
            rating=rating,
            rated_at=when + datetime.timedelta(days=2) if rating else None,
        )
    return world


def _periods(today):
    year_start = today.replace(month=1, day=1)
    return [
        (year_start, today),  # the default: this year so far
        (year_start, today.replace(month=12, day=31)),  # the whole year, periods not begun left out
        (today - datetime.timedelta(days=45), today - datetime.timedelta(days=5)),  # days inside months
        (today, today),
        (year_start - datetime.timedelta(days=400), today),  # begins before anything was held
    ]


def test_stored_compliance_equals_the_live_count_for_any_period(more):
    tree, today = more["tree"], more["today"]
    stats_refresh()
    for branch in (tree["district"], tree["delivery"]):
        for start, end in _periods(today):
            stored = _summary(branch, start, end)
            assert all(r.as_of is not None for r in stored), (branch, start, end)
            live = _live(lambda b=branch, s=start, e=end: _summary(b, s, e))
            assert all(r.as_of is None for r in live)
            assert _numbers(stored) == _numbers(live), (branch.name, start, end)


def test_stored_case_figures_equal_the_live_count_for_any_period(more):
    tree, today = more["tree"], more["today"]
    stats_refresh()
    for branch in (tree["district"], tree["delivery"]):
        for start, end in _periods(today):
            figures = case_figures(branch=branch, start=start, end=end)
            assert figures["as_of"] is not None
            assert figures["months"] == case_months(branch=branch, start=start, end=end), (start, end)
            assert figures["ratings"] == case_ratings(branch=branch, start=start, end=end), (start, end)
    year = case_figures(branch=tree["district"], start=today.replace(month=1, day=1), end=today)
    assert sum(m["opened"] for m in year["months"]) >= 4  # the two of this month and the older ones
    assert year["ratings"][4] == 1  # spam left out, the world's rated case counted


def test_a_single_organisation_is_counted_live(more):
    tree, today = more["tree"], more["today"]
    stats_refresh()
    station = tree["station_a"]
    assert not ComplianceStat.objects.filter(branch=station).exists()
    assert not CaseDayStat.objects.filter(branch=station).exists()
    summary = _summary(station, today.replace(month=1, day=1), today)
    assert summary
    assert all(r.as_of is None for r in summary)
    assert case_figures(branch=station, start=today, end=today)["as_of"] is None


def test_refresh_writes_the_same_rows_twice_and_reads_changes_only_after_it(more):
    tree, today = more["tree"], more["today"]

    def rows():
        compliance = ComplianceStat.objects.values_list(
            "branch_id", "rule_id", "period_start", "met", "since", "until"
        )
        cases = CaseDayStat.objects.values_list(
            "branch_id", "day", "opened", "resolved", "rated_1", "rated_2", "rated_3", "rated_4", "rated_5"
        )
        return sorted(compliance, key=str), sorted(cases, key=str)

    stats_refresh()
    first = rows()
    assert first[0]
    assert first[1]
    stats_refresh()
    assert rows() == first
    start = today.replace(month=1, day=1)
    before = {r.kind: r.met for r in _summary(tree["district"], start, today)}
    held(tree["station_b"], "theme_day", local(start.replace(day=21)))
    assert {r.kind: r.met for r in _summary(tree["district"], start, today)} == before  # as of the refresh
    stats_refresh()
    after = {r.kind: r.met for r in _summary(tree["district"], start, today)}
    assert after["theme_day"] == before["theme_day"] + 1


def test_a_rule_edited_after_the_refresh_is_counted_live(more):
    tree, today = more["tree"], more["today"]
    stats_refresh()
    ComplianceRule.objects.filter(kind="committee_meeting").update(min_count=2)
    start = today.replace(month=1, day=1)
    summary = {r.kind: r for r in _summary(tree["district"], start, today)}
    assert summary["committee_meeting"].as_of is None
    assert summary["theme_day"].as_of is not None
    live = {r.kind: r for r in _live(lambda: _summary(tree["district"], start, today))}
    assert summary["committee_meeting"].met == live["committee_meeting"].met == 1  # station A's April


def test_dashboard_says_which_figures_are_stored(more, role_at):
    from branches.choices import Role

    tree, today = more["tree"], more["today"]
    officer = role_at(tree["district"], Role.OFFICER)
    start = today.replace(month=1, day=1)
    tables = {t.key: t for t in dashboard_tables(actor=officer, branch=tree["district"], start=start, end=today)}
    assert tables["compliance"].as_of is None
    assert "as of" not in tables["compliance"].note
    stats_refresh()
    tables = {t.key: t for t in dashboard_tables(actor=officer, branch=tree["district"], start=start, end=today)}
    for key in ("compliance", "cases_by_month", "satisfaction"):
        assert tables[key].as_of is not None, key
        assert "Figures as of" in tables[key].note, key
    assert "Breaches are counted live." in tables["cases_by_month"].note
