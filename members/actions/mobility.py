"""Writes for mobile and lost-contact members: activity cards, report-ins, last contact, lost-contact cases, reminders.

Lost contact (DOMAIN.md §3): last contact is the latest of last attendance, last dues paid and last
report-in (the record's entry date when there is none yet, so a new record is not "lost"). At three
months the keepers are warned; at six the sweep flags the member and opens a case; a secretary proposes
suspension (停止党籍), an officer approves it, and the removal falls due two years later.
"""

import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from branches.models import Branch
from branches.permissions import in_scope
from core.audit import audit_record
from core.exceptions import Conflict
from core.notifications import deliver
from members.actions.records import affiliation_add, affiliation_end, member_update
from members.actions.transfers import branch_keepers
from members.choices import AffiliationKind, MemberStatus
from members.models import ActivityCard, LostContactCase, Member, MemberContact, MobilityReminderLog, ReportIn
from members.models.mobility import LOST_CONTACT_OPEN, LostContactStatus
from members.permissions import require_member_scope

#: Members loaded at a time by the daily sweeps (one query per chunk, see `_in_chunks`).
SWEEP_CHUNK = 500

_DEFAULTS = {"report_in_month": 10, "warn_months": 3, "flag_months": 6, "removal_years": 2, "removal_notice_days": 30}


def mobility_rules() -> dict:
    """Thresholds of DOMAIN.md §3, overridable in settings.MEMBERS_MOBILITY."""
    return {**_DEFAULTS, **getattr(settings, "MEMBERS_MOBILITY", {})}


#
# Last contact
#
def member_contact_touch(*, member: Member, on: datetime.date, kind: str = "attendance") -> None:
    """Record an attendance (kind "attendance") or a dues payment ("dues") on `on`; keeps the latest date.

    Called by the activities app when it records an attendance and by the dues code when a payment is
    made. Never saves the Member (see members/models/mobility.py for why).
    """
    field = {"attendance": "last_attended_on", "dues": "last_paid_on"}[kind]
    _contact, created = MemberContact.objects.get_or_create(member_id=member.pk, defaults={field: on})
    if not created:
        MemberContact.objects.filter(pk=member.pk).filter(
            Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lt": on})
        ).update(**{field: on})


#
# Activity cards
#
@transaction.atomic
def activity_card_create(
    *,
    actor,
    member: Member,
    host_branch: Branch,
    destination: str,
    starts_on: datetime.date,
    ends_on: datetime.date | None = None,
    reason: str = "",
) -> ActivityCard:
    """Issue an activity card: the member becomes mobile and takes part at the host branch (no vote there)."""
    require_member_scope(actor, "members.change", member.branch)
    member = Member.objects.select_for_update(of=("self",)).select_related("branch").get(pk=member.pk)
    if ActivityCard.objects.filter(member=member, ended_on__isnull=True).exists():
        raise ValidationError({"member": [_("This member already holds an activity card.")]})
    card = ActivityCard(
        member=member,
        host_branch=host_branch,
        destination=(destination or "").strip(),
        starts_on=starts_on,
        ends_on=ends_on,
        reason=reason,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    card.full_clean(exclude=["affiliation"], validate_constraints=False)
    card.affiliation = affiliation_add(
        actor=actor, member=member, branch=host_branch, kind=AffiliationKind.HOST, started_on=starts_on, note=reason
    )
    member_update(actor=actor, member=member, is_mobile=True, mobile_destination=card.destination)
    try:
        with transaction.atomic():
            card.save()
    except IntegrityError:
        raise ValidationError({"member": [_("This member already holds an activity card.")]}) from None
    audit_record(
        actor=actor,
        obj=member,
        action="members.activity_card.created",
        data={"card": str(card.pk), "host_branch": str(host_branch.pk), "destination": card.destination},
    )
    return card


@transaction.atomic
def activity_card_end(*, actor, card: ActivityCard, ended_on: datetime.date | None = None) -> ActivityCard:
    """The member is back (or transferred): end the card and the host affiliation; no longer mobile."""
    card = ActivityCard.objects.select_for_update(of=("self",)).select_related("member__branch").get(pk=card.pk)
    require_member_scope(actor, "members.change", card.member.branch)
    if card.ended_on is not None:
        raise Conflict(_("This activity card has already ended."))
    card.ended_on = ended_on or timezone.localdate()
    if card.ended_on < card.starts_on:
        raise ValidationError({"ended_on": [_("The end date cannot be before the start date.")]})
    card.save(update_fields=["ended_on"])
    if card.affiliation_id and card.affiliation.ended_on is None:
        affiliation_end(actor=actor, affiliation=card.affiliation, ended_on=card.ended_on)
    member_update(actor=actor, member=card.member, is_mobile=False, mobile_destination="")
    audit_record(
        actor=actor,
        obj=card.member,
        action="members.activity_card.ended",
        data={"card": str(card.pk), "ended_on": card.ended_on.isoformat()},
    )
    return card


#
# Report-ins
#
@transaction.atomic
def report_in_record(*, actor, member: Member, reported_on: datetime.date, channel: str, note: str = "") -> ReportIn:
    """A mobile member reported to the home branch (counts as contact)."""
    require_member_scope(actor, "members.change", member.branch)
    if reported_on > timezone.localdate():
        raise ValidationError({"reported_on": [_("The date cannot be in the future.")]})
    report = ReportIn(
        member=member,
        reported_on=reported_on,
        channel=channel,
        note=note,
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    report.full_clean(validate_constraints=False)
    report.save()
    audit_record(
        actor=actor,
        obj=member,
        action="members.report_in.recorded",
        data={"report_in": str(report.pk), "reported_on": reported_on.isoformat(), "channel": channel},
    )
    return report


#
# Lost contact
#
def may_approve_suspension(user, branch: Branch) -> bool:
    """Suspension is approved above the branch: officers and admins (they hold branches.change, secretaries don't)."""
    return in_scope(user, "branches.change", branch)


def _case(case: LostContactCase) -> LostContactCase:
    return LostContactCase.objects.select_for_update(of=("self",)).select_related("member__branch").get(pk=case.pk)


@transaction.atomic
def lost_contact_flag(*, actor, member: Member, last_contact_on: datetime.date) -> LostContactCase:
    """Flag the member as lost (失联) since their last contact and open a case."""
    require_member_scope(actor, "members.change", member.branch)
    if LostContactCase.objects.filter(member=member, status__in=LOST_CONTACT_OPEN).exists():
        raise Conflict(_("This member already has an open lost-contact case."))
    case = LostContactCase.objects.create(
        member=member,
        status=LostContactStatus.FLAGGED,
        last_contact_on=last_contact_on,
        flagged_on=timezone.localdate(),
    )
    member_update(actor=actor, member=member, lost_contact=True, lost_contact_since=last_contact_on)
    audit_record(
        actor=actor,
        obj=member,
        action="members.lost_contact.flagged",
        data={"case": str(case.pk), "last_contact_on": last_contact_on.isoformat()},
    )
    return case


@transaction.atomic
def lost_contact_propose(*, actor, case: LostContactCase, note: str = "") -> LostContactCase:
    """The branch proposes suspending the membership (停止党籍); an officer must approve."""
    case = _case(case)
    require_member_scope(actor, "members.change", case.member.branch)
    if case.status != LostContactStatus.FLAGGED:
        raise Conflict(_("Only a flagged case can be proposed for suspension."))
    case.status = LostContactStatus.PROPOSED
    case.proposed_on = timezone.localdate()
    case.proposed_by = actor if getattr(actor, "is_authenticated", False) else None
    case.proposal_note = note
    case.save()
    audit_record(actor=actor, obj=case.member, action="members.lost_contact.proposed", data={"case": str(case.pk)})
    return case


@transaction.atomic
def lost_contact_approve(*, actor, case: LostContactCase) -> LostContactCase:
    """An officer approves: the membership is suspended and the two-year countdown to removal starts."""
    case = _case(case)
    require_member_scope(actor, "members.view", case.member.branch)
    if actor is not None and not may_approve_suspension(actor, case.member.branch):
        raise PermissionDenied(_("Suspension is approved by an officer of a higher organisation."))
    if case.status != LostContactStatus.PROPOSED:
        raise Conflict(_("Only a proposed suspension can be approved."))
    today = timezone.localdate()
    case.status = LostContactStatus.SUSPENDED
    case.suspended_on = today
    case.approved_by = actor if getattr(actor, "is_authenticated", False) else None
    case.removal_due_on = today + relativedelta(years=mobility_rules()["removal_years"])
    case.save()
    member_update(actor=actor, member=case.member, status=MemberStatus.SUSPENDED)
    audit_record(
        actor=actor,
        obj=case.member,
        action="members.lost_contact.suspended",
        data={"case": str(case.pk), "removal_due_on": case.removal_due_on.isoformat()},
    )
    return case


@transaction.atomic
def lost_contact_close(*, actor, case: LostContactCase) -> LostContactCase:
    """Contact regained before suspension: close the case and clear the flag."""
    case = _case(case)
    require_member_scope(actor, "members.change", case.member.branch)
    if case.status not in (LostContactStatus.FLAGGED, LostContactStatus.PROPOSED):
        raise Conflict(_("A suspended membership is not restored by closing the case."))
    case.status = LostContactStatus.CLOSED
    case.closed_on = timezone.localdate()
    case.save()
    member_update(actor=actor, member=case.member, lost_contact=False, lost_contact_since=None)
    audit_record(actor=actor, obj=case.member, action="members.lost_contact.closed", data={"case": str(case.pk)})
    return case


#
# Reminders (exactly once per kind, member, period and person; the state is checked again at send time)
#
def _send_once(*, kind: str, member: Member, period: str, title: str, body: str, url: str, still_due) -> int:
    sent = 0
    for user in branch_keepers(member.branch):
        log, _created = MobilityReminderLog.objects.get_or_create(
            kind=kind, member=member, period=period, recipient=user
        )
        with transaction.atomic():
            claimed = MobilityReminderLog.objects.filter(pk=log.pk, sent_at__isnull=True).update(
                sent_at=timezone.now()
            )
            if not claimed:
                continue
            if not still_due():
                transaction.set_rollback(True)
                return sent
            deliver(recipients=[user], kind=f"members.{kind}", title=title, body=body, url=url)
        sent += 1
    return sent


def _in_chunks(ids, rows):
    """The `rows` (a Member QuerySet) among the ids `ids` (a values_list QuerySet) selects, SWEEP_CHUNK at a
    time. `rows` applies the rule again (cheaply, by primary key), so a member who changed since the ids
    were read is not acted on from stale data.

    The ids come in one plain query (a server-side cursor would make PostgreSQL pick a fast-start plan,
    twice as slow here, and stay open across the sends); each chunk then costs one query by primary key.
    """
    ids = list(ids)
    for start in range(0, len(ids), SWEEP_CHUNK):
        yield from rows.filter(pk__in=ids[start : start + SWEEP_CHUNK]).order_by("pk")


def report_in_reminders_send(*, today: datetime.date | None = None) -> int:
    """Remind the home branch of each mobile member without a report-in this year, from the configured month on."""
    from members.selectors_mobility import report_in_missing, report_in_reminders_due

    today = today or timezone.localdate()
    if today.month < mobility_rules()["report_in_month"]:
        return 0
    sent = 0
    url = reverse("members:report_in_list")
    # Members whose keepers have all been reminded this year are left out in SQL.
    due = report_in_reminders_due(year=today.year).values_list("pk", flat=True)
    for member in _in_chunks(due, report_in_missing(year=today.year).select_related("branch")):

        def still_due(member=member):
            fresh = Member.objects.filter(pk=member.pk, is_mobile=True).first()
            return (
                fresh is not None and not ReportIn.objects.filter(member=member, reported_on__year=today.year).exists()
            )

        with translation.override(settings.LANGUAGE_CODE):
            title = _("%(name)s has not reported in this year") % {"name": member.name}
            body = _("Mobile members report to their home branch at least once a year.")
        sent += _send_once(
            kind="report_in_missing",
            member=member,
            period=str(today.year),
            title=title,
            body=body,
            url=url,
            still_due=still_due,
        )
    return sent


def lost_contact_sweep(*, today: datetime.date | None = None) -> int:
    """The daily sweep: warn at three months, flag at six, close cases whose contact resumed,
    announce removals falling due; returns the number of notifications sent."""
    from members.selectors_mobility import (
        last_contact_of,
        lost_contact_candidates,
        lost_contact_cases_resumed,
        lost_contact_sweep_due,
    )

    today = today or timezone.localdate()
    rules = mobility_rules()
    flag_cutoff = today - relativedelta(months=rules["flag_months"])
    sent = 0
    url = reverse("members:lost_contact_report")

    # Contact resumed: close flagged and proposed cases (found in one query; each closed in its own transaction).
    for pk in list(lost_contact_cases_resumed().values_list("pk", flat=True)):
        lost_contact_close(actor=None, case=LostContactCase(pk=pk))

    # Not flagged yet, and not already warned to every keeper for this date (both decided in SQL).
    due = lost_contact_sweep_due(today=today).values_list("pk", flat=True)
    for member in _in_chunks(due, lost_contact_candidates(today=today).select_related("branch")):
        last = member.last_contact_on
        if last <= flag_cutoff and not member.lost_contact:
            lost_contact_flag(actor=None, member=member, last_contact_on=last)
            kind = "lost_contact_flagged"
            with translation.override(settings.LANGUAGE_CODE):
                title = _("%(name)s flagged as lost contact") % {"name": member.name}
                body = _("No contact since %(date)s (six months). Propose suspension or record the contact.") % {
                    "date": last.isoformat()
                }
        elif not member.lost_contact:
            kind = "lost_contact_warning"
            with translation.override(settings.LANGUAGE_CODE):
                title = _("No contact with %(name)s for three months") % {"name": member.name}
                body = _("Last contact on %(date)s. Get in touch before the six-month line.") % {
                    "date": last.isoformat()
                }
        else:
            continue

        def still_due(member=member, last=last):
            current = last_contact_of(member)
            return current is not None and current <= last

        sent += _send_once(
            kind=kind, member=member, period=last.isoformat(), title=title, body=body, url=url, still_due=still_due
        )

    notice = today + datetime.timedelta(days=rules["removal_notice_days"])
    for case in LostContactCase.objects.filter(
        status=LostContactStatus.SUSPENDED, removal_due_on__lte=notice
    ).select_related("member__branch"):
        with translation.override(settings.LANGUAGE_CODE):
            title = _("Removal of %(name)s falls due on %(date)s") % {
                "name": case.member.name,
                "date": case.removal_due_on.isoformat(),
            }
            body = _("Two years after the suspension the member is removed unless contact was regained.")

        def still_suspended(case=case):
            return LostContactCase.objects.filter(pk=case.pk, status=LostContactStatus.SUSPENDED).exists()

        sent += _send_once(
            kind="removal_due",
            member=case.member,
            period=case.removal_due_on.isoformat(),
            title=title,
            body=body,
            url=url,
            still_due=still_suspended,
        )
    return sent
