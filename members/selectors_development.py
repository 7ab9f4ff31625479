"""Reads of the development pipeline: applicants in scope, their timeline, interval warnings, what is due.

Interval rules (talk within 1 month, activist ≥1 year, review every 6 months, approval within 3 months,
probation 1 year) are warnings, not refusals: they are computed here from the steps and the interval
table (DevelopmentInterval), for the applicant page, the API and the per-branch "due soon" list.
"""

import datetime
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.permissions import branch_scope
from members.models import Applicant, AssemblyVote, DevelopmentInterval, DevelopmentStep
from members.models.development import INTERVAL_DEFAULTS, ApplicantStatus, IntervalCode, StepCode


def applicant_list(*, actor, perm: str = "members.view"):
    """Applicants whose branch is in the actor's scope, with steps and votes prefetched (no query per row)."""
    return (
        Applicant.objects.filter(branch__in=branch_scope(actor, perm))
        .select_related("branch", "member")
        .prefetch_related(
            Prefetch(
                "steps",
                queryset=DevelopmentStep.objects.select_related("recorded_by")
                .prefetch_related("documents")
                .order_by("done_on", "created_at"),
            ),
            Prefetch("votes", queryset=AssemblyVote.objects.order_by("held_on", "created_at")),
        )
    )


def applicant_get(*, actor, pk, perm: str = "members.view") -> Applicant:
    return applicant_list(actor=actor, perm=perm).get(pk=pk)


def intervals() -> dict[str, relativedelta]:
    """Every interval length, from the table with the rules' defaults for missing rows (one query)."""
    out = {code: relativedelta(months=m, days=d) for code, (m, d) in INTERVAL_DEFAULTS.items()}
    for row in DevelopmentInterval.objects.all():
        out[row.code] = row.delta
    return out


def _dates(applicant: Applicant) -> dict[str, list[datetime.date]]:
    out: dict[str, list[datetime.date]] = {}
    for step in applicant.steps.all():
        out.setdefault(step.code, []).append(step.done_on)
    for dates in out.values():
        dates.sort()
    return out


@dataclass
class Due:
    applicant: Applicant
    kind: str  # talk, review, probation_end, approval
    due_on: datetime.date

    @property
    def label(self) -> str:
        return {
            "talk": _("Talk with the applicant"),
            "review": _("Six-monthly review"),
            "probation_end": _("Probation ends: full membership vote"),
            "approval": _("Upper committee approval"),
        }[self.kind]

    @property
    def overdue(self) -> bool:
        return self.due_on < timezone.localdate()


def applicant_deadlines(applicant: Applicant, *, lengths: dict | None = None) -> list[Due]:
    """The open deadlines of one applicant, whatever their date."""
    lengths = lengths or intervals()
    if not applicant.is_open:
        return []
    done = _dates(applicant)
    out: list[Due] = []
    if StepCode.TALK_HELD not in done:
        out.append(Due(applicant, "talk", applicant.applied_on + lengths[IntervalCode.TALK_WITHIN]))
    review_every = lengths[IntervalCode.REVIEW_EVERY]
    if StepCode.ACTIVIST_CHOSEN in done and StepCode.TARGET_CHOSEN not in done:
        last = max([done[StepCode.ACTIVIST_CHOSEN][0], *done.get(StepCode.ACTIVIST_REVIEWED, [])])
        out.append(Due(applicant, "review", last + review_every))
    approval_within = lengths[IntervalCode.APPROVAL_WITHIN]
    for vote, approval in (
        (StepCode.ADMISSION_VOTE, StepCode.ADMISSION_APPROVED),
        (StepCode.FULL_VOTE, StepCode.FULL_APPROVED),
    ):
        if vote in done and approval not in done:
            out.append(Due(applicant, "approval", done[vote][0] + approval_within))
    if applicant.status == ApplicantStatus.PROBATION:
        start = done.get(StepCode.ADMISSION_VOTE, [applicant.member.joined_on if applicant.member else None])[0]
        last = max([start, *done.get(StepCode.PROBATION_REVIEWED, [])])
        out.append(Due(applicant, "review", last + review_every))
        if StepCode.FULL_VOTE not in done:
            out.append(Due(applicant, "probation_end", applicant.probation_ends_on))
    return out


def applicant_warnings(applicant: Applicant, *, today: datetime.date | None = None, lengths=None) -> list[str]:
    """Interval rules broken, in the past or now (warnings: the steps stand)."""
    today = today or timezone.localdate()
    lengths = lengths or intervals()
    done = _dates(applicant)
    warnings: list[str] = []

    def late(first: datetime.date, then: datetime.date, code: str) -> bool:
        return then > first + lengths[code]

    talk = done.get(StepCode.TALK_HELD)
    if talk and late(applicant.applied_on, talk[0], IntervalCode.TALK_WITHIN):
        warnings.append(_("The talk came later than a month after the application."))
    if (
        StepCode.ACTIVIST_CHOSEN in done
        and StepCode.TARGET_CHOSEN in done
        and done[StepCode.TARGET_CHOSEN][0] < done[StepCode.ACTIVIST_CHOSEN][0] + lengths[IntervalCode.ACTIVIST_MIN]
    ):
        warnings.append(_("Chosen as development target after less than a year as activist."))
    if StepCode.ACTIVIST_CHOSEN in done:
        end = (done.get(StepCode.TARGET_CHOSEN) or [today])[0]
        if _gap(done[StepCode.ACTIVIST_CHOSEN][0], done.get(StepCode.ACTIVIST_REVIEWED, []), end, lengths):
            warnings.append(_("More than six months passed between reviews of the activist."))
    if StepCode.ADMISSION_VOTE in done and (
        applicant.status == ApplicantStatus.PROBATION or StepCode.FULL_VOTE in done
    ):
        end = (done.get(StepCode.FULL_VOTE) or [today])[0]
        if _gap(done[StepCode.ADMISSION_VOTE][0], done.get(StepCode.PROBATION_REVIEWED, []), end, lengths):
            warnings.append(_("More than six months passed between reviews during probation."))
    for vote, approval, message in (
        (StepCode.ADMISSION_VOTE, StepCode.ADMISSION_APPROVED, _("The admission was approved later than 3 months.")),
        (StepCode.FULL_VOTE, StepCode.FULL_APPROVED, _("Full membership was approved later than 3 months.")),
    ):
        if vote in done:
            then = (done.get(approval) or [today])[0]
            if late(done[vote][0], then, IntervalCode.APPROVAL_WITHIN):
                warnings.append(
                    message
                    if approval in done
                    else _("Upper approval is overdue (more than 3 months since the vote).")
                )
    if (
        applicant.status == ApplicantStatus.PROBATION
        and applicant.probation_ends_on
        and applicant.probation_ends_on < today
        and StepCode.FULL_VOTE not in done
    ):
        warnings.append(
            _("Probation ended on %(date)s: the branch assembly should decide on full membership.")
            % {"date": applicant.probation_ends_on.isoformat()}
        )
    return warnings


def _gap(start: datetime.date, reviews: list[datetime.date], end: datetime.date, lengths) -> bool:
    points = [start, *sorted(reviews), end]
    return any(b > a + lengths[IntervalCode.REVIEW_EVERY] for a, b in zip(points, points[1:], strict=False))


def development_due(*, actor, branch=None, today: datetime.date | None = None) -> list[Due]:
    """Deadlines in the actor's scope due within the "due soon" interval, or overdue; earliest first.

    Talks due, reviews due, probations ending, approvals overdue. Four queries whatever the count.
    """
    today = today or timezone.localdate()
    lengths = intervals()
    horizon = today + lengths[IntervalCode.DUE_SOON]
    applicants = applicant_list(actor=actor).filter(
        status__in=[ApplicantStatus.IN_PROGRESS, ApplicantStatus.PROBATION]
    )
    if branch is not None:
        applicants = applicants.filter(branch__path__startswith=branch.path)
    due = [d for a in applicants for d in applicant_deadlines(a, lengths=lengths) if d.due_on <= horizon]
    due.sort(key=lambda d: (d.due_on, d.applicant.name))
    return due


#: Applicants read at a time by the reminder sweep (two queries per chunk: applicants with member, steps).
REMINDERS_CHUNK = 2000


def development_reminders_due(*, today: datetime.date | None = None) -> list[tuple]:
    """(applicant id, kind, due date) of every open deadline that has arrived (system-wide, for the beat).

    The open applicants are walked in chunks of REMINDERS_CHUNK, each with its steps prefetched: memory
    and the queries per chunk stay bounded however many applicants there are. (The rules need every step
    of an applicant, so the deadlines themselves are computed in Python, as on the applicant page.)
    """
    today = today or timezone.localdate()
    lengths = intervals()
    horizon = today + lengths[IntervalCode.DUE_SOON]
    applicants = (
        Applicant.objects.filter(
            status__in=[ApplicantStatus.IN_PROGRESS, ApplicantStatus.PROBATION], branch__is_temporary=False
        )
        .prefetch_related(Prefetch("steps", queryset=DevelopmentStep.objects.only("applicant_id", "code", "done_on")))
        .select_related("member")
        .order_by("pk")
    )
    return [
        (d.applicant.pk, d.kind, d.due_on)
        for a in applicants.iterator(chunk_size=REMINDERS_CHUNK)
        for d in applicant_deadlines(a, lengths=lengths)
        if d.due_on <= horizon
    ]
