"""Every dashboard figure of a subtree and period, gathered from each app's `stats` module (the edge, STYLE.md §1b).

`dashboard_tables(actor=, branch=, start=, end=)` returns plain `Table`s (label, numbers, links) that the page
draws and the XLSX export writes. The caller checks that `branch` is in the actor's dashboard scope (the
view answers 404 otherwise); each figure is included only when the actor holds its area's view permission
there. Cost: a fixed number of queries, none of which reads member rows:
- member-sized figures come from `members.BranchStat`, rows refreshed by a beat task every 15 minutes
  (`config.dashboard.refresh.stats_refresh`), already summed over the subtree: one indexed query;
- compliance and cases (opened, resolved, ratings) of a subtree of several organisations come from rows the
  same refresh stores per period (`activities.ComplianceStat`) and per day (`services.CaseDayStat`): any
  period is summed from stored rows, and those tables carry their `as_of`; a single organisation (or a rule
  edited since the refresh) is counted live, cheaply, through its own indexes;
- coverage, transfers and case breaches are GROUP BY queries on the subtree and period, whose cost follows
  the number of branches and cases, not of members.
"""

import datetime
from urllib.parse import urlencode

from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from activities import stats as activity_stats
from activities.choices import ActivityKind, CompliancePeriod
from branches import stats as branch_stats_module
from branches.choices import BranchBasis, BranchKind
from branches.models import Branch
from branches.permissions import in_scope
from config.dashboard.tables import Row, Table
from members import stats as member_stats
from members.actions.dues import ARREARS_LIMIT, ARREARS_WARNINGS
from members.choices import CURRENT_STATUSES, MemberCategory, Occupation
from members.models import Platform
from members.models.transfers import TransferStatus
from services import stats as service_stats

#: The permission that opens the dashboard on a branch; each figure also needs its own area's view permission.
DASHBOARD_PERM = "branches.view"
#: The longest period the form accepts (cases are listed per month).
MAX_PERIOD_DAYS = 366 * 5


def period_check(start: datetime.date, end: datetime.date) -> None:
    """Refuse a period that ends before it starts, or spans more than five years."""
    if end < start:
        raise ValidationError({"end": _("The period cannot end before it starts.")}, code="period_reversed")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise ValidationError({"end": _("Choose a period of at most five years.")}, code="period_too_long")


def dashboard_tables(*, actor, branch: Branch, start: datetime.date, end: datetime.date) -> list[Table]:
    """The figures of `branch`'s subtree over [start, end] (both days included) that `actor` may see.

    Raises ValidationError for a reversed or too long period, PermissionDenied when the branch is outside
    the actor's dashboard scope (the page checks first and answers 404).
    """
    period_check(start, end)
    if not in_scope(actor, DASHBOARD_PERM, branch):
        raise PermissionDenied
    today = timezone.localdate()
    tables: list[Table] = []
    coverage = branch_stats_module.branch_coverage(branch=branch)
    may_members = in_scope(actor, "members.view", branch)
    stats, as_of = member_stats.branch_stats(branch=branch) if may_members or _may_dues(actor, branch) else ({}, None)
    tables += _coverage_tables(branch, coverage, stats if may_members else None)
    if may_members:
        tables += _member_tables(branch, stats, as_of)
    if in_scope(actor, "activities.view", branch):
        tables.append(_compliance_table(branch, start, end, coverage, today))
    if may_members:
        tables.append(_study_table(branch, stats, as_of))
    if _may_dues(actor, branch):
        tables.append(_arrears_table(branch, stats, as_of))
    if may_members:
        tables.append(_lost_contact_table(branch, stats, as_of))
    if in_scope(actor, "transfers.view", branch):
        tables.append(_transfer_table(branch, start, end, today))
    if in_scope(actor, "services.view", branch):
        tables += _case_tables(branch, start, end)
    return tables


def stats_as_of(tables: list[Table]) -> datetime.datetime | None:
    """When the oldest stored figure among `tables` was computed (None: all counted live, or never refreshed)."""
    stamps = [t.as_of for t in tables if t.as_of is not None]
    return min(stamps) if stamps else None


def _may_dues(actor, branch) -> bool:
    return in_scope(actor, "dues.view", branch)


def _url(name: str, **params) -> str:
    """A page URL with a query string; list values repeat the parameter (`?status=a&status=b`)."""
    pairs = []
    for key, value in params.items():
        for item in value if isinstance(value, list | tuple) else [value]:
            if item not in (None, ""):
                pairs.append((key, str(item)))
    base = reverse(name)
    return f"{base}?{urlencode(pairs)}" if pairs else base


def _members_url(branch: Branch, **params) -> str:
    """The member list under `branch`, current members only (as the stored figures count them)."""
    return _url("members:member_list", branch=branch.pk, status=[str(s) for s in CURRENT_STATUSES], **params)


def _cases_url(branch: Branch, first: datetime.date, last: datetime.date) -> str:
    """The case list under `branch` of the cases opened from `first` to `last`, suspected spam left out (as the
    case figures count them)."""
    return _url(
        "services:case_list",
        branch=branch.pk,
        opened_from=first.isoformat(),
        opened_until=last.isoformat(),
        suspected_spam="false",
    )


def _month_within(
    month: datetime.date, start: datetime.date, end: datetime.date
) -> tuple[datetime.date, datetime.date]:
    """The days of `month` (its first day) inside [start, end]: the first and last month of a period are partial."""
    last = (month + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
    return max(month, start), min(last, end)


def _stored_note(note: str, as_of) -> str:
    """`note`, saying when the figures are stored rather than counted live (the page's as-of line names the
    member figures only)."""
    if as_of is None:
        return note
    when = formats.date_format(timezone.localtime(as_of), "DATETIME_FORMAT")
    stored = _("Figures as of %(when)s (refreshed every 15 minutes).") % {"when": when}
    return f"{note} {stored}" if note else stored


def _not_refreshed_note(as_of) -> str:
    return "" if as_of else _("Not computed yet: the figures appear after the next refresh (manage.py refresh_stats).")


#
# Coverage and members
#
def _coverage_tables(branch: Branch, coverage: dict, stats: dict | None) -> list[Table]:
    kinds = {k: [0, 0, 0, 0] for k in BranchKind.values}
    bases = {b: 0 for b in BranchBasis.values}
    for row in coverage["by_kind_basis"]:
        counts = kinds.setdefault(row["kind"], [0, 0, 0, 0])
        for i, name in enumerate(("n", "joint", "temporary", "functional")):
            counts[i] += row[name]
        bases[row["basis"]] = bases.get(row["basis"], 0) + row["n"]
    detail = reverse("branches:branch_detail", kwargs={"pk": branch.pk})
    organisations = sum(c[0] for c in kinds.values())
    totals = Table(
        key="coverage",
        title=_("Coverage"),
        columns=[_("Figure"), _("Number")],
        rows=[
            Row([_("Organisations"), organisations], detail),
            Row([_("Units covered"), coverage["units"]], detail),
        ],
        chart="",
        url=detail,
    )
    if stats is not None:
        totals.rows.append(
            Row([_("Members"), stats.get(member_stats.DIM_MEMBERS, {}).get("total", 0)], _members_url(branch))
        )
    by_kind = Table(
        key="branches_by_kind",
        title=_("Organisations by kind"),
        columns=[_("Kind"), _("Organisations"), _("Joint"), _("Temporary"), _("Functional")],
        rows=[Row([str(BranchKind(k).label) if k in BranchKind.values else k, *c], detail) for k, c in kinds.items()],
        url=detail,
    )
    by_basis = Table(
        key="branches_by_basis",
        title=_("Organisations by setting basis"),
        columns=[_("Setting basis"), _("Organisations")],
        rows=[
            Row([str(BranchBasis(b).label) if b in BranchBasis.values else b, n], detail)
            for b, n in bases.items()
            if n
        ],
        chart="doughnut",
        url=detail,
    )
    return [totals, by_kind, by_basis]


def _member_tables(branch: Branch, stats: dict, as_of) -> list[Table]:
    note = _not_refreshed_note(as_of)
    occupation = stats.get(member_stats.DIM_OCCUPATION, {})
    occupation_rows = [
        Row([str(label), occupation.get(code, 0)], _members_url(branch, occupation=code))
        for code, label in Occupation.choices
    ]
    if occupation.get(""):
        occupation_rows.append(Row([_("Not given"), occupation[""]]))
    platform = stats.get(member_stats.DIM_PLATFORM, {})
    platforms = Platform.objects.order_by("position", "code").values_list("code", "name")
    platform_rows = [
        Row([name, platform.get(code, 0)], _members_url(branch, platform=code)) for code, name in platforms
    ]
    platform_rows.append(Row([_("No platform"), platform.get("", 0)]))
    ages = stats.get(member_stats.DIM_AGE, {})
    age_labels = {
        "lt25": _("Under 25"),
        "25_34": _("25–34"),
        "35_44": _("35–44"),
        "45_54": _("45–54"),
        "55plus": _("55 and over"),
    }
    category = stats.get(member_stats.DIM_CATEGORY, {})
    return [
        Table(
            key="members_by_occupation",
            title=_("Members by occupation"),
            columns=[_("Occupation"), _("Members")],
            rows=occupation_rows,
            note=note,
            url=_members_url(branch),
            as_of=as_of,
        ),
        Table(
            key="members_by_platform",
            title=_("Members by platform"),
            columns=[_("Platform"), _("Members")],
            rows=platform_rows,
            note=note or _("A member working for several platforms is counted under each."),
            url=_members_url(branch),
            as_of=as_of,
        ),
        Table(
            key="members_by_age",
            title=_("Members by age"),
            columns=[_("Age"), _("Members")],
            rows=[
                Row([age_labels[key], ages.get(key, 0)], _members_url(branch, **born))
                for (key, _limit), born in zip(member_stats.AGE_BANDS, _age_band_births(as_of), strict=True)
            ],
            note=note,
            url=_members_url(branch),
            as_of=as_of,
        ),
        Table(
            key="members_by_category",
            title=_("Members by category"),
            columns=[_("Category"), _("Members")],
            rows=[
                Row([str(label), category.get(code, 0)], _members_url(branch, category=code))
                for code, label in MemberCategory.choices
            ],
            chart="doughnut",
            note=note,
            url=_members_url(branch),
            as_of=as_of,
        ),
    ]


def _age_band_births(as_of) -> list[dict]:
    """Per age band, the `born_from`/`born_until` (both included) of the member list matching it, on the day the
    stored figures were computed (the refresh's local date; today when they were not computed yet)."""
    today = timezone.localdate(as_of) if as_of else timezone.localdate()
    births, lower = [], None  # `lower`: the band's first age
    for _key, limit in member_stats.AGE_BANDS:
        # age < limit ⟺ born after today minus `limit` years; age ≥ lower ⟺ born on or before today minus `lower`.
        born = {}
        if limit is not None:
            born["born_from"] = (today - relativedelta(years=limit) + datetime.timedelta(days=1)).isoformat()
        if lower is not None:
            born["born_until"] = (today - relativedelta(years=lower)).isoformat()
        births.append(born)
        lower = limit
    return births


#
# Activities
#
def _compliance_table(branch, start, end, coverage, today) -> Table:
    kinds: dict[str, int] = {}
    for row in coverage["by_kind_basis"]:
        kinds[row["kind"]] = kinds.get(row["kind"], 0) + row["n"]
    url = _url("activities:compliance", branch=branch.pk, year=end.year)
    period_labels = {
        CompliancePeriod.MONTH: _("monthly"),
        CompliancePeriod.QUARTER: _("quarterly"),
        CompliancePeriod.YEAR: _("yearly"),
    }
    rows = []
    summary = activity_stats.compliance_summary(branch=branch, start=start, end=end, branch_kinds=kinds, today=today)
    stamps = [item.as_of for item in summary if item.as_of is not None]
    for item in summary:
        label = _("%(kind)s (%(count)s× %(period)s)") % {
            "kind": ActivityKind(item.kind).label,
            "count": item.min_count,
            "period": period_labels.get(item.period, item.period),
        }
        rows.append(Row([label, item.branches, item.met, item.missing, item.due], url))
    return Table(
        key="compliance",
        title=_("三会一课 compliance"),
        columns=[_("Required activity"), _("Organisations"), _("Periods met"), _("Periods missed"), _("Due now")],
        rows=rows,
        chart_columns=[2, 3, 4],
        note=_stored_note(
            _(
                "Each organisation's required periods from the one holding the start date to the one holding the "
                "end date."
            ),
            min(stamps) if stamps else None,
        ),
        url=url,
        as_of=min(stamps) if stamps else None,
    )


def _study_table(branch, stats, as_of) -> Table:
    study = stats.get(activity_stats.DIM_STUDY, {})
    # The stored figures count the year in which they were computed.
    year = timezone.localtime(as_of).year if as_of else timezone.localdate().year
    url = _url("activities:branch_study_hours", branch=branch.pk, year=year)
    met = study.get("met", 0)
    total = study.get("members", 0)
    return Table(
        key="study_hours",
        title=_("Study hours %(year)s") % {"year": year},
        columns=[_("Members in normal standing"), _("Members")],
        rows=[Row([_("Reached the yearly target"), met], url), Row([_("Below the target"), total - met], url)],
        chart="doughnut",
        note=_not_refreshed_note(as_of) or _("Targets: 32 hours a year, 56 for secretaries and committee members."),
        url=url,
        as_of=as_of,
    )


#
# Members: dues, lost contact, transfers
#
def _arrears_table(branch, stats, as_of) -> Table:
    arrears = stats.get(member_stats.DIM_ARREARS, {})
    warn = min(ARREARS_WARNINGS)
    url = _url("members:dues_arrears", branch=branch.pk)
    labels = {
        "owing": _("%(low)s–%(high)s months") % {"low": 1, "high": warn - 1},
        "warned": _("%(low)s–%(high)s months (warned)") % {"low": warn, "high": ARREARS_LIMIT - 1},
        "over_limit": _("%(limit)s months or more") % {"limit": ARREARS_LIMIT},
    }
    return Table(
        key="dues_arrears",
        title=_("Dues arrears"),
        columns=[_("Consecutive unpaid months"), _("Members")],
        rows=[
            Row([labels[key], arrears.get(key, 0)], _url("members:dues_arrears", branch=branch.pk, band=key))
            for key in member_stats.ARREARS_BANDS
        ],
        note=_not_refreshed_note(as_of)
        or _("Six consecutive months unpaid without reason count as leaving the party."),
        url=url,
        as_of=as_of,
    )


def _lost_contact_table(branch, stats, as_of) -> Table:
    lost = stats.get(member_stats.DIM_LOST_CONTACT, {})
    url = _url("members:lost_contact_report", branch=branch.pk)
    labels = {
        "warning": _("No contact for 3 months (warning)"),
        "flag_due": _("No contact for 6 months, to be flagged"),
        "flagged": _("Flagged"),
        "proposed": _("Suspension proposed"),
        "suspended": _("Membership suspended"),
    }
    return Table(
        key="lost_contact",
        title=_("Lost-contact warnings"),
        columns=[_("Stage"), _("Members")],
        rows=[Row([labels[key], lost.get(key, 0)], url) for key in member_stats.LOST_CONTACT_STAGES],
        note=_not_refreshed_note(as_of),
        url=url,
        as_of=as_of,
    )


def _transfer_table(branch, start, end, today) -> Table:
    counts = member_stats.transfer_counts(branch=branch, start=start, end=end, today=today)

    def link(*statuses):
        return _url("members:transfer_list", branch=branch.pk, status=list(statuses))

    rows = [
        Row([_("Draft"), counts["draft"]], link(TransferStatus.DRAFT)),
        Row([_("Letter issued, awaiting acceptance"), counts["issued"]], link(TransferStatus.ISSUED)),
        Row([_("Overdue: letter past its validity"), counts["past_validity"]], link(TransferStatus.ISSUED)),
        Row([_("Accepted, awaiting the receipt"), counts["accepted"]], link(TransferStatus.ACCEPTED)),
        Row([_("Overdue: receipt not returned"), counts["receipt_missing"]], link(TransferStatus.ACCEPTED)),
        Row([_("Receipt returned, to complete"), counts["receipt_returned"]], link(TransferStatus.RECEIPT_RETURNED)),
        Row([_("Letter expired"), counts["expired"]], link(TransferStatus.EXPIRED)),
        Row([_("Letters issued in the period"), counts["issued_in_period"]], link()),
        Row([_("Completed in the period"), counts["completed_in_period"]], link(TransferStatus.COMPLETED)),
    ]
    return Table(
        key="transfers",
        title=_("Transfers pending or overdue"),
        columns=[_("Transfers"), _("Number")],
        rows=rows,
        url=link(),
    )


#
# Services
#
def _case_tables(branch, start, end) -> list[Table]:
    figures = service_stats.case_figures(branch=branch, start=start, end=end)
    months, ratings, as_of = figures["months"], figures["ratings"], figures["as_of"]
    # A Row has one link: each month links to the cases *opened* in it (within the period), which is the first
    # figure of the row. The resolved and breached figures are reachable with `resolved_from`/`resolved_until`
    # and `breached=true` on the same list.
    rows = [
        Row(
            [formats.date_format(m["month"], "YEAR_MONTH_FORMAT"), m["opened"], m["resolved"], m["breached"]],
            _cases_url(branch, *_month_within(m["month"], start, end)),
        )
        for m in months
    ]
    rated = sum(ratings.values())
    average = round(sum(r * n for r, n in ratings.items()) / rated, 2) if rated else None
    reports = _url("services:reports", year=end.year)
    return [
        Table(
            key="cases_by_month",
            title=_("Cases per month"),
            columns=[_("Month"), _("Opened"), _("Resolved"), _("Breached a deadline")],
            rows=rows,
            chart="line",
            note=_stored_note(_("Breaches are counted live."), as_of) if as_of else "",
            url=reports,
            as_of=as_of,
        ),
        Table(
            key="satisfaction",
            title=_("Satisfaction"),
            columns=[_("Rating"), _("Cases")],
            rows=[Row([_("%(stars)s of 5") % {"stars": r}, n], reports) for r, n in ratings.items()],
            note=_stored_note(
                (
                    _("Average %(average)s of 5 over %(count)s rated cases.") % {"average": average, "count": rated}
                    if rated
                    else _("No case was rated in the period.")
                ),
                as_of,
            ),
            url=reports,
            as_of=as_of,
        ),
    ]
