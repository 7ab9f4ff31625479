"""Each stored and live figure agrees with the app's own selectors on a small tree."""

import datetime

import pytest
from django.utils import timezone

from activities import compliance, study
from activities.models import Activity
from activities.stats import compliance_summary
from branches.choices import Role
from branches.stats import branch_coverage
from config.dashboard.refresh import stats_refresh
from members.filters_transfers import TransferFilter
from members.selectors_dues import dues_arrears
from members.selectors_mobility import lost_contact_report, lost_contact_stage
from members.selectors_transfers import transfer_list
from members.stats import branch_stats, transfer_counts
from services.stats import case_months, case_ratings

pytestmark = pytest.mark.django_db


def test_member_figures_count_current_members_of_the_subtree(world):
    stats_refresh()
    tree = world["tree"]
    figures, as_of = branch_stats(branch=tree["delivery"])
    assert as_of is not None
    assert figures["members"] == {"total": 3}  # A1, A2, B1; A3 was removed
    assert figures["category"] == {"full": 2, "probationary": 1}
    assert figures["occupation"] == {"delivery_rider": 1, "courier": 1, "ride_hailing_driver": 1}
    assert figures["age"] == {"lt25": 1, "35_44": 1, "55plus": 1}
    assert figures["platform"] == {"meituan": 1, "sf": 2, "": 1}
    district, _ = branch_stats(branch=tree["district"])
    assert district["members"] == {"total": 4}
    assert district["age"]["25_34"] == 1


def test_member_figures_leave_out_sibling_subtrees(world):
    stats_refresh()
    figures, _ = branch_stats(branch=world["tree"]["station_a"])
    assert figures["members"] == {"total": 2}
    assert "ride_hailing_driver" not in figures["occupation"]
    assert "internet_worker" not in figures["occupation"]


def test_arrears_figures_agree_with_the_arrears_list(world, role_at):
    stats_refresh()
    tree = world["tree"]
    officer = role_at(tree["district"], Role.OFFICER)
    rows = dues_arrears(actor=officer, branch=tree["district"])
    expected = {"owing": 0, "warned": 0, "over_limit": 0}
    for row in rows:
        expected["over_limit" if row.unpaid >= 6 else "warned" if row.unpaid >= 3 else "owing"] += 1
    figures, _ = branch_stats(branch=tree["district"])
    assert (
        {k: figures["arrears"].get(k, 0) for k in expected} == expected == {"owing": 1, "warned": 1, "over_limit": 1}
    )


def test_lost_contact_figures_agree_with_the_report(world, role_at):
    stats_refresh()
    tree = world["tree"]
    officer = role_at(tree["district"], Role.OFFICER)
    stages: dict = {}
    for member in lost_contact_report(actor=officer, branch=tree["district"]):
        stage = lost_contact_stage(member)
        stages[stage] = stages.get(stage, 0) + 1
    figures, _ = branch_stats(branch=tree["district"])
    assert figures["lost_contact"] == stages == {"warning": 1, "flag_due": 1, "flagged": 1}


def test_study_figures_agree_with_the_study_hours_report(world):
    stats_refresh()
    tree = world["tree"]
    year = timezone.localdate().year
    rows = study.branch_study_hours(branch=tree["district"], year=year)
    figures, _ = branch_stats(branch=tree["district"])
    assert figures["study"] == {"members": len(rows), "met": sum(1 for r in rows if r.met)}
    assert figures["study"] == {"members": 4, "met": 2}  # A1 (56 h target) and A2 (32 h); B1 and C1 below
    a_figures, _ = branch_stats(branch=tree["station_a"])
    assert a_figures["study"] == {"members": 2, "met": 2}


def test_study_figures_hold_a_committee_member_to_56_hours(world):
    Activity.objects.filter(attendances__member=world["members"]["a1"]).update(credited_hours=40)
    stats_refresh()
    figures, _ = branch_stats(branch=world["tree"]["station_a"])
    assert figures["study"] == {"members": 2, "met": 1}  # 40 h: enough for A2's 32, not for A1's 56


def test_compliance_summary_agrees_with_the_compliance_grid(world):
    tree = world["tree"]
    year = timezone.localdate().year
    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    grids, _total = compliance.compliance_subtree(branch=tree["district"], year=year)
    expected: dict = {}
    for grid in grids:
        for period in grid.periods:
            counts = expected.setdefault((period.kind, period.period), {"met": 0, "missing": 0, "due": 0})
            if period.status in counts:
                counts[period.status] += 1
    kinds: dict = {}
    for row in branch_coverage(branch=tree["district"])["by_kind_basis"]:
        kinds[row["kind"]] = kinds.get(row["kind"], 0) + row["n"]
    summary = compliance_summary(branch=tree["district"], start=start, end=end, branch_kinds=kinds)
    found = {(r.kind, r.period): {"met": r.met, "missing": r.missing, "due": r.due} for r in summary}
    assert found == expected
    assert found[("committee_meeting", "month")]["met"] == 2


def test_coverage_counts_kinds_bases_and_units(world):
    from branches.models import Branch
    from tests.branches.factories import UnitFactory

    tree = world["tree"]
    unit = UnitFactory(branch=tree["station_a"])
    Branch.objects.get(pk=tree["station_a"].pk).units.add(unit)
    Branch.objects.get(pk=tree["station_b"].pk).units.add(unit)
    coverage = branch_coverage(branch=tree["delivery"])
    assert coverage["units"] == 1
    by = {(r["kind"], r["basis"]): r["n"] for r in coverage["by_kind_basis"]}
    assert by == {("committee", "platform"): 1, ("branch", "platform"): 2}


def test_transfer_counts_agree_with_the_transfer_list(world, role_at):
    tree = world["tree"]
    officer = role_at(tree["district"], Role.OFFICER)
    today = timezone.localdate()
    counts = transfer_counts(branch=tree["delivery"], start=today.replace(month=1, day=1), end=today)

    def listed(**params):
        data = {"branch": str(tree["delivery"].pk), **params}
        return TransferFilter(data, queryset=transfer_list(actor=officer)).qs.count()

    assert counts["draft"] == listed(status=["draft"]) == 1
    assert counts["issued"] == listed(status=["issued"]) == 1
    assert counts["past_validity"] == 1
    assert counts["accepted"] == counts["receipt_missing"] == counts["completed_in_period"] == 0
    a_counts = transfer_counts(branch=tree["station_a"], start=today, end=today)
    assert (a_counts["draft"], a_counts["issued"]) == (1, 0)  # the letter is owned by the sending branch B


def test_case_months_and_ratings_count_the_subtree_without_spam(world):
    tree = world["tree"]
    today = timezone.localdate()
    months = case_months(branch=tree["district"], start=today.replace(month=1, day=1), end=today)
    assert len(months) == today.month
    assert months[-1] == {"month": today.replace(day=1), "opened": 2, "resolved": 1, "breached": 1}
    assert sum(m["opened"] for m in months) == 2
    assert case_ratings(branch=tree["district"], start=today, end=today) == {1: 0, 2: 0, 3: 0, 4: 1, 5: 0}
    b_months = case_months(branch=tree["station_b"], start=today, end=today)
    assert b_months[-1]["opened"] == 0
