"""Writes to the organisation tree. Each action checks scope, validates, audits, and is atomic."""

import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Length, Substr
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from branches.choices import Role
from branches.models import TERM_YEARS, Branch, CommitteeSeat, RoleAssignment, TermReminderLog, Unit
from branches.permissions import clear_scope_cache, in_scope
from core.audit import audit_record, snapshot
from core.exceptions import Conflict
from core.models import ChangeRecord, SyncedModel
from core.notifications import deliver

BRANCH_FIELDS = [
    "name",
    "kind",
    "basis",
    "is_joint",
    "is_temporary",
    "is_functional",
    "address",
    "latitude",
    "longitude",
    "founded_on",
    "elected_on",
    "term_years",
    "term_extension_months",
    "external_ref",
]
UNIT_FIELDS = ["name", "credit_code", "unit_type", "size", "economic_type", "has_union", "address", "external_ref"]


def _require(actor, perm: str, branch: Branch | None) -> None:
    """Refuse an actor without `perm` at `branch`. Outside any view scope it is a 404, as for reads."""
    if actor is None:  # system: management commands and tasks
        return
    if in_scope(actor, perm, branch):
        return
    view_perm = perm.split(".")[0] + ".view"
    # A branch the actor can see is not "missing" even where the area (e.g. roles) is not visible: 403.
    if branch is not None and not (in_scope(actor, view_perm, branch) or in_scope(actor, "branches.view", branch)):
        raise Http404
    raise PermissionDenied(_("You may not change records of this organisation."))


def _term_expiry(branch: Branch) -> datetime.date | None:
    years = branch.term_years or TERM_YEARS.get(branch.kind)
    if not branch.elected_on or not years:
        return None
    return branch.elected_on + relativedelta(years=years, months=branch.term_extension_months or 0)


def _apply(obj, data: dict, allowed: list[str]) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in sorted(unknown)})
    for name, value in data.items():
        setattr(obj, name, value)


def _set_units(branch: Branch, units) -> None:
    if units is None:
        return
    units = list(units)
    for unit in units:
        if unit.deleted_at is not None:
            raise ValidationError({"units": _("A dissolved or deleted unit cannot be covered.")})
    branch.units.set(units)


#
# Branches
#
@transaction.atomic
def branch_create(*, actor, parent: Branch | None, units=None, **data) -> Branch:
    """Create a branch under `parent` (None: a root, for administrators only)."""
    _require(actor, "branches.change", parent)
    branch = Branch(parent=parent)
    _apply(branch, data, BRANCH_FIELDS)
    branch.path = Branch.path_for(branch.id, parent)
    branch.depth = parent.depth + 1 if parent else 0
    branch.term_expires_on = _term_expiry(branch)
    branch.full_clean()
    branch.save()
    _set_units(branch, units)  # same transaction as the change record of version 1
    audit_record(
        actor=actor, obj=branch, action="branches.branch.created", after=snapshot(branch, [*BRANCH_FIELDS, "parent"])
    )
    return branch


@transaction.atomic
def branch_update(*, actor, branch: Branch, units=None, **data) -> Branch:
    """Change a branch's own fields (moving is `branch_move`)."""
    _require(actor, "branches.change", branch)
    branch = Branch.objects.select_for_update().get(pk=branch.pk)
    before = snapshot(branch, BRANCH_FIELDS)
    before_units = sorted(str(pk) for pk in branch.units.values_list("pk", flat=True))
    _apply(branch, data, BRANCH_FIELDS)
    branch.term_expires_on = _term_expiry(branch)
    branch.full_clean(exclude=["path"])
    _set_units(branch, units)
    branch.save()
    after = snapshot(branch, BRANCH_FIELDS)
    changed_before = {k: v for k, v in before.items() if after[k] != v}
    changed_after = {k: after[k] for k in changed_before}
    if units is not None:
        after_units = sorted(str(u.pk) for u in units)
        if after_units != before_units:
            changed_before["units"], changed_after["units"] = before_units, after_units
    audit_record(actor=actor, obj=branch, action="branches.branch.updated", before=changed_before, after=changed_after)
    return branch


@transaction.atomic
def branch_move(*, actor, branch: Branch, new_parent: Branch) -> Branch:
    """Move a branch and its whole subtree under `new_parent`, in one transaction.

    Refuses a move under the branch itself or one of its descendants. The actor needs change scope
    at the branch (old place) and at the new parent (new place).
    """
    _require(actor, "branches.change", branch)
    _require(actor, "branches.change", new_parent)
    branch = Branch.objects.select_for_update().get(pk=branch.pk)
    new_parent = Branch.objects.select_for_update().get(pk=new_parent.pk)
    if new_parent.is_under(branch):
        raise ValidationError({"parent": _("A branch cannot be moved under itself or one of its descendants.")})
    if branch.parent_id == new_parent.pk:
        return branch
    old_path, old_parent_id = branch.path, branch.parent_id
    new_path = Branch.path_for(branch.id, new_parent)
    depth_delta = (new_parent.depth + 1) - branch.depth
    # Lock the subtree, then rewrite every path in one statement.
    list(Branch.all_objects.select_for_update().filter(path__startswith=old_path).values_list("pk", flat=True))
    Branch.all_objects.filter(path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1, Length("path"))),
        depth=F("depth") + depth_delta,
    )
    branch.refresh_from_db()
    branch.parent = new_parent
    branch.save(update_fields=["parent"])
    # Every record below changed place in the tree: the change feed must tell clients it entered or left.
    old_parent_path = Branch.all_objects.filter(pk=old_parent_id).values_list("path", flat=True).first() or ""
    ChangeRecord.write_subtree_moved(branch_model=Branch, subtree_path=new_path, old_parent_path=old_parent_path)
    audit_record(
        actor=actor,
        obj=branch,
        action="branches.branch.moved",
        before={"parent": str(old_parent_id) if old_parent_id else None, "path": old_path},
        after={"parent": str(new_parent.pk), "path": new_path},
    )
    return branch


def _dependants(branch: Branch) -> list[str]:
    """Labels of live records that still hang on the branch (members, units, …), by reverse relations."""
    found = []
    if branch.children.filter(deleted_at__isnull=True).exists():
        found.append(str(_("child organisations")))
    for rel in branch._meta.related_objects:
        model = rel.related_model
        if model is Branch or not issubclass(model, SyncedModel) or rel.field.name != "branch":
            continue
        if model.objects.filter(**{rel.field.name: branch}).exists():
            found.append(str(model._meta.verbose_name_plural))
    return found


@transaction.atomic
def branch_dissolve(*, actor, branch: Branch, reason: str = "") -> Branch:
    """Dissolve (soft-delete) a branch that has no child branches, members or other records left."""
    _require(actor, "branches.change", branch)
    branch = Branch.objects.select_for_update().get(pk=branch.pk)
    left = _dependants(branch)
    if left:
        raise Conflict(
            _("This organisation still has %(what)s; move or close them first.") % {"what": ", ".join(left)}
        )
    branch.soft_delete()
    audit_record(actor=actor, obj=branch, action="branches.branch.dissolved", data={"reason": reason})
    return branch


@transaction.atomic
def branch_member_counts_adjust(*, deltas: dict) -> None:
    """Add to branches' member counters: `{branch_id: (members, full_members)}`, negative to subtract.

    Called by members actions inside their transaction. One UPDATE per branch with F() expressions,
    so concurrent adjustments add up, taken in id order so concurrent callers lock rows alike. The
    counts are part of the branch's API representation: the version moves and the feed gets a record.
    """
    changed = sorted(((pk, d) for pk, d in deltas.items() if any(d)), key=lambda item: str(item[0]))
    if not changed:
        return
    now = timezone.now()
    for pk, (members, full_members) in changed:
        Branch.all_objects.filter(pk=pk).update(
            member_count=F("member_count") + members,
            full_member_count=F("full_member_count") + full_members,
            version=F("version") + 1,
            updated_at=now,
        )
    ChangeRecord.write_many(
        Branch.all_objects.filter(pk__in=[pk for pk, _d in changed]).only("id", "version", "deleted_at", "parent")
    )


#
# Units
#
@transaction.atomic
def unit_create(*, actor, branch: Branch, **data) -> Unit:
    _require(actor, "units.change", branch)
    unit = Unit(branch=branch)
    _apply(unit, data, UNIT_FIELDS)
    unit.full_clean()
    unit.save()
    audit_record(actor=actor, obj=unit, action="branches.unit.created", after=snapshot(unit, [*UNIT_FIELDS, "branch"]))
    return unit


@transaction.atomic
def unit_update(*, actor, unit: Unit, branch: Branch | None = None, **data) -> Unit:
    """Change a unit; a new owning branch must be in the actor's scope too."""
    _require(actor, "units.change", unit.branch)
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    before = snapshot(unit, [*UNIT_FIELDS, "branch"])
    if branch is not None and branch.pk != unit.branch_id:
        _require(actor, "units.change", branch)
        unit.branch = branch
    _apply(unit, data, UNIT_FIELDS)
    unit.full_clean()
    unit.save()
    after = snapshot(unit, [*UNIT_FIELDS, "branch"])
    audit_record(
        actor=actor,
        obj=unit,
        action="branches.unit.updated",
        before={k: v for k, v in before.items() if after[k] != v},
        after={k: v for k, v in after.items() if before[k] != v},
    )
    return unit


@transaction.atomic
def unit_delete(*, actor, unit: Unit) -> Unit:
    _require(actor, "units.change", unit.branch)
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    unit.soft_delete()
    audit_record(actor=actor, obj=unit, action="branches.unit.deleted")
    return unit


#
# Committee seats and roles
#
@transaction.atomic
def seat_add(
    *,
    actor,
    branch: Branch,
    post: str,
    holder_name: str,
    started_on: datetime.date,
    user=None,
    party_standing_since: datetime.date | None = None,
) -> CommitteeSeat:
    """Record a committee post holder; the branch record's version moves with its committee."""
    _require(actor, "branches.change", branch)
    seat = CommitteeSeat(
        branch=branch,
        post=post,
        holder_name=holder_name,
        started_on=started_on,
        user=user,
        party_standing_since=party_standing_since,
    )
    seat.full_clean()
    seat.save()
    branch.save(update_fields=[])
    audit_record(
        actor=actor,
        obj=branch,
        action="branches.seat.added",
        after=snapshot(seat, ["post", "holder_name", "started_on", "user", "party_standing_since"]),
    )
    return seat


@transaction.atomic
def seat_end(*, actor, seat: CommitteeSeat, ended_on: datetime.date) -> CommitteeSeat:
    _require(actor, "branches.change", seat.branch)
    if seat.ended_on is not None:
        raise Conflict(_("This post has already ended."))
    seat.ended_on = ended_on
    seat.full_clean()
    seat.save(update_fields=["ended_on"])
    seat.branch.save(update_fields=[])
    audit_record(
        actor=actor,
        obj=seat.branch,
        action="branches.seat.ended",
        data={"post": seat.post, "holder_name": seat.holder_name, "ended_on": ended_on.isoformat()},
    )
    return seat


@transaction.atomic
def role_grant(*, actor, user, role: str, branch: Branch) -> RoleAssignment:
    """Give `user` a role at `branch`. Granting needs roles.change there; only admins grant admin."""
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    _require(actor, "roles.change", branch)
    if role == Role.ADMIN and actor is not None and not in_scope(actor, "roles.change", None):
        raise PermissionDenied(_("Only administrators may grant the administrator role."))
    assignment, created = RoleAssignment.objects.get_or_create(user=user, role=role, branch=branch)
    if created:
        audit_record(
            actor=actor, obj=branch, action="branches.role.granted", data={"user": user.get_username(), "role": role}
        )
    clear_scope_cache(user)
    return assignment


@transaction.atomic
def role_revoke(*, actor, assignment: RoleAssignment) -> None:
    _require(actor, "roles.change", assignment.branch)
    audit_record(
        actor=actor,
        obj=assignment.branch,
        action="branches.role.revoked",
        data={"user": assignment.user.get_username(), "role": assignment.role},
    )
    assignment.delete()
    clear_scope_cache(assignment.user)


#
# Term-expiry reminders
#
def _term_stage(expires_on: datetime.date, today: datetime.date) -> str | None:
    """The reminder due today: "-6m" and "-3m" before expiry, then one a month ("-2m" … "+Nm")."""
    first, second = settings.BRANCH_RULES["term_reminder_months"]
    if today < expires_on - relativedelta(months=first):
        return None
    if today < expires_on - relativedelta(months=second):
        return f"-{first}m"
    offset = -second
    while today >= expires_on + relativedelta(months=offset + 1):
        offset += 1
    return f"{offset:+d}m"


def _term_recipients(branch: Branch) -> list:
    users = {
        ra.user for ra in RoleAssignment.objects.filter(branch=branch, role=Role.SECRETARY).select_related("user")
    }
    users |= {
        s.user
        for s in branch.seats.filter(post="secretary", ended_on__isnull=True, user__isnull=False).select_related(
            "user"
        )
    }
    if branch.parent_id:
        users |= {
            ra.user
            for ra in RoleAssignment.objects.filter(branch_id=branch.parent_id, role=Role.OFFICER).select_related(
                "user"
            )
        }
    return sorted((u for u in users if u.is_active), key=lambda u: u.pk)


def term_reminders_send(*, today: datetime.date | None = None) -> int:
    """Send the term-expiry reminders due today; each (branch, person, expiry, stage) goes out once.

    A log row is claimed with a conditional update before sending, so two sweeps running at once
    send once; a failed send releases its claim and the next sweep tries again.
    """
    today = today or timezone.localdate()
    horizon = today + relativedelta(months=settings.BRANCH_RULES["term_reminder_months"][0])
    sent = 0
    due = Branch.objects.filter(term_expires_on__isnull=False, term_expires_on__lte=horizon).select_related("parent")
    for branch in due.iterator():
        stage = _term_stage(branch.term_expires_on, today)
        if stage is None:
            continue
        for user in _term_recipients(branch):
            log, _created = TermReminderLog.objects.get_or_create(
                branch=branch, recipient=user, term_expires_on=branch.term_expires_on, stage=stage
            )
            claimed = TermReminderLog.objects.filter(pk=log.pk, sent_at__isnull=True).update(sent_at=timezone.now())
            if not claimed:
                continue
            try:
                _term_reminder_mail(branch, user, today)
            except Exception:
                TermReminderLog.objects.filter(pk=log.pk).update(sent_at=None)
                raise
            sent += 1
    return sent


def _term_reminder_mail(branch: Branch, user, today: datetime.date) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        if branch.term_expires_on < today:
            subject = _("Term of %(branch)s expired on %(date)s") % {
                "branch": branch.name,
                "date": branch.term_expires_on.isoformat(),
            }
        else:
            subject = _("Term of %(branch)s expires on %(date)s") % {
                "branch": branch.name,
                "date": branch.term_expires_on.isoformat(),
            }
        body = _(
            "%(subject)s. Please prepare the election (换届) in time; an extension or early election needs "
            "approval and is at most one year."
        ) % {"subject": subject}
    url = reverse("branches:branch_detail", kwargs={"pk": branch.pk})
    deliver(recipients=[user], kind="branches.term_reminder", title=subject, body=body, url=url)
