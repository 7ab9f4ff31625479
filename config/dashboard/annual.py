"""A branch's annual summary (年度工作总结数据): one organisation's subtree over one calendar year, gathered
from every app at the edge, shown as a printable page and downloaded as an XLSX.

Each section is a dashboard `Table`, so the page and the workbook show the same figures. A section is
left out when the user's role does not cover its area at that organisation (a caseworker sees no dues).
Costs: a fixed number of queries whatever the number of members; the study-hours section reads one row
per member and attendance (activities.study does the crediting), so it is the part that grows in time.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from branches.models import Branch
from branches.permissions import in_scope
from config.dashboard import annual_figures as figures
from config.dashboard.tables import Row, Table


@dataclass
class AnnualSummary:
    branch: Branch
    year: int
    start: datetime.date
    end: datetime.date  # the last day counted: 31 December, or today for the running year
    tables: list[Table] = field(default_factory=list)
    facts: dict = field(default_factory=dict)  # the raw figures, by section, for tests and templates

    @property
    def is_partial(self) -> bool:
        return self.end < datetime.date(self.year, 12, 31)

    def table(self, key: str) -> Table | None:
        return next((t for t in self.tables if t.key == key), None)


def _percent(part, whole) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _members_table(branch: Branch, year: int, start, end, facts: dict) -> Table:
    counts = figures.member_counts(branch=branch, days={"start": start - datetime.timedelta(days=1), "end": end})
    flows = figures.member_flows(branch=branch, year=year)
    facts["members"] = {**counts, **flows}
    s, e = counts["start"], counts["end"]
    return Table(
        key="members",
        title=_("Members"),
        columns=[_("Figure"), _("Full members"), _("Probationary members"), _("Total")],
        rows=[
            Row([_("At the start of the year"), s["full"], s["probationary"], s["total"]]),
            Row(
                [
                    _("At the end of the year") if end.month == 12 and end.day == 31 else _("Today"),
                    e["full"],
                    e["probationary"],
                    e["total"],
                ]
            ),
            Row([_("Applications received"), None, None, flows["applications"]]),
            Row([_("Admitted as probationary members"), None, flows["admitted"], flows["admitted"]]),
            Row([_("Became full members"), flows["made_full"], None, flows["made_full"]]),
            Row([_("Transferred in"), None, None, flows["transferred_in"]]),
            Row([_("Transferred out"), None, None, flows["transferred_out"]]),
        ],
        chart="",
        note=_(
            "Members on a day are worked out from today's records and the transfers since; removed or "
            "deceased members are left out of every day."
        ),
    )


def _lost_contact_table(branch: Branch, year: int, facts: dict) -> Table:
    lost = figures.lost_contact_figures(branch=branch, year=year)
    facts["lost_contact"] = lost
    return Table(
        key="lost_contact",
        title=_("Lost contact"),
        columns=[_("Figure"), _("Members")],
        rows=[
            Row([_("Lost contact now"), lost["lost_contact_now"]]),
            Row([_("Flagged in the year"), lost["flagged"]]),
            Row([_("Membership suspended in the year"), lost["suspended"]]),
            Row([_("Contact regained in the year"), lost["regained"]]),
        ],
        chart="",
    )


def _compliance_table(branch: Branch, year: int, facts: dict) -> Table:
    from activities import compliance
    from activities.choices import ActivityKind

    grids, _total = compliance.compliance_subtree(branch=branch, year=year)
    by_kind: dict[str, dict[str, int]] = {}
    for grid in grids:
        for period in grid.periods:
            row = by_kind.setdefault(period.kind, {"required": 0, "met": 0, "missing": 0, "open": 0})
            row["required"] += 1
            status = period.status
            row["met" if status == "met" else "missing" if status == "missing" else "open"] += 1
    bound = [g for g in grids if g.periods]
    compliant = sum(1 for g in bound if g.missing == 0)
    held = sum(sum(month.values()) for g in grids for month in g.months)
    facts["compliance"] = {"by_kind": by_kind, "organisations": len(bound), "compliant": compliant, "held": held}
    rows = [
        Row(
            [
                ActivityKind(kind).label,
                r["required"],
                r["met"],
                r["missing"],
                r["open"],
                _percent(r["met"], r["required"]),
            ]
        )
        for kind, r in sorted(by_kind.items(), key=lambda item: ActivityKind.values.index(item[0]))
    ]
    required = sum(r["required"] for r in by_kind.values())
    met = sum(r["met"] for r in by_kind.values())
    rows.append(
        Row(
            [
                _("All required meetings"),
                required,
                met,
                sum(r["missing"] for r in by_kind.values()),
                sum(r["open"] for r in by_kind.values()),
                _percent(met, required),
            ]
        )
    )
    return Table(
        key="compliance",
        title=_("Three meetings and one lesson"),
        columns=[_("Kind"), _("Periods required"), _("Met"), _("Missed"), _("Not over yet"), _("Met (%)")],
        rows=rows,
        chart="",
        note=_("%(compliant)s of %(total)s organisations missed no required meeting; %(held)s activities held.")
        % {"compliant": compliant, "total": len(bound), "held": held},
    )


def _study_table(branch: Branch, year: int, facts: dict) -> Table:
    from activities import study

    rows = study.branch_study_hours(branch=branch, year=year)
    members = len(rows)
    met = sum(1 for r in rows if r.met)
    hours = sum((r.hours for r in rows), Decimal(0))
    average = (hours / members).quantize(Decimal("0.1")) if members else None
    facts["study"] = {"members": members, "met": met, "hours": hours, "average": average}
    return Table(
        key="study",
        title=_("Study hours"),
        columns=[_("Figure"), _("Value")],
        rows=[
            Row([_("Members in normal standing"), members]),
            Row([_("Met the yearly target"), met]),
            Row([_("Met the yearly target (%)"), _percent(met, members)]),
            Row([_("Average hours per member"), average]),
            Row([_("Total hours"), hours]),
        ],
        chart="",
    )


def _dues_table(branch: Branch, year: int, facts: dict) -> Table:
    dues = figures.dues_figures(branch=branch, year=year)
    facts["dues"] = dues
    return Table(
        key="dues",
        title=_("Party dues"),
        columns=[_("Figure"), _("Value")],
        rows=[
            Row([_("Collected (元)"), dues["collected"]]),
            Row([_("Payments"), dues["payments"]]),
            Row([_("Members who paid"), dues["payers"]]),
            Row([_("Members who owe dues"), dues["dues_members"]]),
            *[
                Row(
                    [
                        _("In arrears %(months)s+ months on %(date)s") % {"months": m, "date": dues["reference"]},
                        dues[f"arrears_{m}"],
                    ]
                )
                for m in figures.ARREARS_STEPS
            ],
        ],
        chart="",
    )


def _services_table(branch: Branch, year: int, facts: dict) -> Table:
    cases = figures.case_figures(branch=branch, year=year)
    stations = figures.station_figures(branch=branch, year=year)
    facts["cases"], facts["stations"] = cases, stations
    return Table(
        key="services",
        title=_("Worker services"),
        columns=[_("Figure"), _("Value")],
        rows=[
            Row([_("Cases opened"), cases["opened"]]),
            Row([_("Resolved"), cases["resolved"]]),
            Row([_("Still open"), cases["still_open"]]),
            Row([_("Missed a deadline"), cases["breached"]]),
            Row([_("Missed a deadline (%)"), cases["breach_rate"]]),
            Row([_("Average satisfaction (1–5)"), cases["rating_avg"]]),
            Row([_("Ratings given"), cases["rating_count"]]),
            Row([_("Service stations open"), stations["stations"]]),
            Row([_("Station visits"), stations["visits"]]),
        ],
        chart="",
    )


def annual_summary(*, actor, branch: Branch, year: int) -> AnnualSummary:
    """The summary of `branch`'s subtree for `year` (the caller checked the branch's scope and the year)."""
    start, end = figures.year_bounds(year)
    if year > timezone.localdate().year:
        raise ValueError("year in the future")
    summary = AnnualSummary(branch=branch, year=year, start=start, end=end)
    facts = summary.facts
    if in_scope(actor, "members.view", branch):
        summary.tables.append(_members_table(branch, year, start, end, facts))
        summary.tables.append(_lost_contact_table(branch, year, facts))
    if in_scope(actor, "activities.view", branch):
        summary.tables.append(_compliance_table(branch, year, facts))
        summary.tables.append(_study_table(branch, year, facts))
    if in_scope(actor, "dues.view", branch):
        summary.tables.append(_dues_table(branch, year, facts))
    if in_scope(actor, "services.view", branch):
        summary.tables.append(_services_table(branch, year, facts))
    return summary
