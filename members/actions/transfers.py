"""Writes of transfers (组织关系转接): create, issue the letter, accept, reject, receipt, complete, cancel, expire.

Every state change goes through `_transition`, which reads the one table TRANSITIONS (members/models/
transfers.py) under a row lock and raises Conflict (409) for a move the state forbids. Which side acts:
- the sending branch (transfers.change there) drafts, issues, completes and cancels an internal or
  outgoing transfer; the receiving branch accepts, rejects and returns the receipt of an internal one;
- an outgoing transfer's acceptance and receipt come from outside and are recorded by the sending side;
- a transfer in from outside is handled by the receiving branch throughout.
Until acceptance the member stays in the sending branch, which remains responsible.
"""

import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from branches.choices import BranchKind, Role
from branches.models import Branch, RoleAssignment
from branches.permissions import in_scope
from core.audit import audit_record, snapshot
from core.exceptions import Conflict
from core.notifications import deliver
from members import crypto
from members.actions.records import _adjust_counts, _count_state, member_create, member_delete
from members.choices import MemberCategory
from members.models import Affiliation, LetterCounter, Member, Transfer, TransferReminderLog
from members.models.transfers import TRANSITIONS, TransferKind, TransferStatus
from members.validators import validate_citizen_id

_DEFAULTS = {
    "validity_min_days": 30,
    "validity_max_days": 90,
    "validity_default_days": 60,
    "expiry_warning_days": 7,
    "receipt_days": 30,
}
AUDIT_TRANSFER_FIELDS = [
    "kind",
    "member",
    "from_branch",
    "from_outside",
    "to_branch",
    "to_outside",
    "status",
    "letter_number",
    "issued_on",
    "valid_until",
    "dues_paid_until",
]


def transfer_rules() -> dict:
    """[practice] lengths of DOMAIN.md §3, overridable in settings.MEMBERS_TRANSFERS."""
    return {**_DEFAULTS, **getattr(settings, "MEMBERS_TRANSFERS", {})}


#
# Helpers
#
def _require(actor, branch: Branch | None) -> None:
    """transfers.change at `branch`; outside the actor's view scope it is a 404. actor=None is the system."""
    if actor is None:
        return
    if branch is not None and in_scope(actor, "transfers.change", branch):
        return
    if branch is None or not in_scope(actor, "transfers.view", branch):
        raise Http404
    raise PermissionDenied(_("You may not handle transfers of this organisation."))


def acting_branch(transfer: Transfer, action: str) -> Branch:
    """The side that performs `action` on this transfer (see the module docstring)."""
    if transfer.kind == TransferKind.INCOMING:
        return transfer.to_branch
    if transfer.kind == TransferKind.INTERNAL and action in ("accept", "reject", "return_receipt"):
        return transfer.to_branch
    return transfer.from_branch


def may_act(user, transfer: Transfer, action: str) -> bool:
    """Whether `user` may perform `action` now (state and side): for showing buttons; actions check again."""
    return transfer.allows(action) and in_scope(user, "transfers.change", acting_branch(transfer, action))


def _locked(transfer: Transfer) -> Transfer:
    return (
        Transfer.objects.select_for_update(of=("self",))
        .select_related("from_branch", "to_branch", "member")
        .get(pk=transfer.pk)
    )


def _transition(*, actor, transfer: Transfer, action: str, **changes) -> Transfer:
    """Apply `action` from TRANSITIONS to the locked row, or raise Conflict; audit the move."""
    transfer = _locked(transfer)
    _require(actor, acting_branch(transfer, action))
    allowed_from, target = TRANSITIONS[action]
    if transfer.status not in allowed_from:
        raise Conflict(
            _("A transfer that is “%(status)s” cannot be %(action)s.")
            % {"status": transfer.get_status_display(), "action": _action_label(action)}
        )
    before = transfer.status
    for field, value in changes.items():
        setattr(transfer, field, value)
    transfer.status = target
    transfer.full_clean(validate_constraints=False)
    transfer.save()
    audit_record(
        actor=actor,
        obj=transfer,
        action=f"members.transfer.{_PAST[action]}",
        before={"status": before},
        after={"status": target, **{k: _plain(v) for k, v in changes.items()}},
    )
    return transfer


_PAST = {
    "issue": "issued",
    "accept": "accepted",
    "reject": "rejected",
    "return_receipt": "receipt_returned",
    "complete": "completed",
    "cancel": "cancelled",
    "expire": "expired",
}


def _action_label(action: str) -> str:
    return {
        "issue": _("issued"),
        "accept": _("accepted"),
        "reject": _("rejected"),
        "return_receipt": _("given a returned receipt"),
        "complete": _("completed"),
        "cancel": _("cancelled"),
        "expire": _("marked expired"),
    }[action]


def _plain(value):
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Branch):
        return str(value.pk)
    return value


def issuing_committee(branch: Branch) -> Branch:
    """The nearest committee-kind ancestor of `branch` (itself included); the root when there is none."""
    ids = branch.ancestor_ids()
    committees = {
        b.pk.hex: b for b in Branch.all_objects.filter(pk__in=ids, kind=BranchKind.COMMITTEE).only("id", "path")
    }
    for branch_id in reversed(ids):
        if branch_id in committees:
            return committees[branch_id]
    return Branch.all_objects.get(pk=ids[0]) if ids else branch


def _next_letter_number(committee: Branch, year: int) -> str:
    """The committee's next number for `year`, from its counter row taken under a row lock."""
    LetterCounter.objects.get_or_create(committee=committee, year=year)
    counter = LetterCounter.objects.select_for_update().get(committee=committee, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{year}-{counter.last:04d}"


def _check_receiving(branch: Branch) -> None:
    if branch.deleted_at is not None:
        raise ValidationError({"to_branch": [_("This organisation has been dissolved.")]})
    if branch.is_temporary:
        raise ValidationError({"to_branch": [_("A temporary branch cannot hold a member's formal relationship.")]})


def _first_of_month(value: datetime.date | None) -> datetime.date | None:
    return value.replace(day=1) if value else None


#
# Create
#
@transaction.atomic
def transfer_create(
    *,
    actor,
    member: Member | None = None,
    to_branch: Branch | None = None,
    to_outside: str = "",
    from_outside: str = "",
    reason: str = "",
    incoming: dict | None = None,
    external_ref: str | None = None,
) -> Transfer:
    """Draft a transfer. Give `member` with `to_branch` (within the system) or `to_outside` (out of it);
    or `from_outside` with `to_branch` and `incoming` (name, citizen_id, category, joined_on) for a person
    coming in. A member has at most one open transfer.
    """
    to_outside, from_outside = (to_outside or "").strip(), (from_outside or "").strip()
    if member is not None:
        if from_outside:
            raise ValidationError({"from_outside": [_("A member of this system moves from their own branch.")]})
        if bool(to_branch) == bool(to_outside):
            raise ValidationError(
                {"to_branch": [_("Choose a receiving branch or name an organisation outside the system, not both.")]}
            )
        member = Member.objects.select_for_update(of=("self",)).select_related("branch").get(pk=member.pk)
        _require(actor, member.branch)
        kind = TransferKind.INTERNAL if to_branch else TransferKind.OUTGOING
        transfer = Transfer(
            kind=kind,
            member=member,
            branch=member.branch,
            from_branch=member.branch,
            to_branch=to_branch,
            to_outside=to_outside,
            reason=reason,
        )
        if to_branch is not None:
            _check_receiving(to_branch)
        if Transfer.objects.open().filter(member=member).exists():
            raise ValidationError({"member": [_("This member already has a transfer under way.")]})
    else:
        if to_branch is None or not from_outside:
            raise ValidationError(
                {"from_outside": [_("Name the organisation outside the system and choose the receiving branch.")]}
            )
        _require(actor, to_branch)
        _check_receiving(to_branch)
        transfer = Transfer(
            kind=TransferKind.INCOMING, branch=to_branch, to_branch=to_branch, from_outside=from_outside, reason=reason
        )
        _set_incoming(transfer, incoming or {})
    transfer.external_ref = external_ref or None
    transfer.created_by = actor if getattr(actor, "is_authenticated", False) else None
    transfer.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            transfer.save()
    except IntegrityError:
        raise ValidationError({"member": [_("This member already has a transfer under way.")]}) from None
    audit_record(
        actor=actor, obj=transfer, action="members.transfer.created", after=snapshot(transfer, AUDIT_TRANSFER_FIELDS)
    )
    return transfer


def _set_incoming(transfer: Transfer, data: dict) -> None:
    """What the member record coming in will hold; checked now, so completion cannot fail on bad input."""
    errors = {}
    name = (data.get("name") or "").strip()
    if not name:
        errors["name"] = [_("This field is required.")]
    try:
        number = validate_citizen_id(data.get("citizen_id") or "")
    except ValidationError as exc:
        errors["citizen_id"] = exc.messages
        number = None
    category = data.get("category") or ""
    if category not in MemberCategory.values:
        errors["category"] = [_("Choose full or probationary.")]
    joined_on = data.get("joined_on")
    if not joined_on:
        errors["joined_on"] = [_("This field is required.")]
    elif joined_on > timezone.localdate():
        errors["joined_on"] = [_("The date of joining cannot be in the future.")]
    if number and Member.objects.filter(citizen_id_hash=crypto.lookup_hash(number)).exists():
        errors["citizen_id"] = [_("A member with this citizen ID number already exists.")]
    if errors:
        raise ValidationError(errors)
    transfer.incoming_name = name
    transfer.incoming_citizen_id_cipher = crypto.encrypt(number)
    transfer.incoming_citizen_id_masked = crypto.mask_citizen_id(number)
    transfer.incoming_category = category
    transfer.incoming_joined_on = joined_on


#
# Transitions
#
@transaction.atomic
def transfer_issue(
    *,
    actor,
    transfer: Transfer,
    valid_days: int | None = None,
    dues_paid_until: datetime.date | None = None,
    issued_on: datetime.date | None = None,
    letter_number: str = "",
) -> Transfer:
    """Issue the introduction letter: its number (per issuing committee and year), validity and dues month.

    A transfer in from outside records the other organisation's letter number instead of allocating one.
    """
    rules = transfer_rules()
    valid_days = valid_days or rules["validity_default_days"]
    if not rules["validity_min_days"] <= valid_days <= rules["validity_max_days"]:
        raise ValidationError(
            {
                "valid_days": [
                    _("A letter is valid for %(min)s to %(max)s days.")
                    % {"min": rules["validity_min_days"], "max": rules["validity_max_days"]}
                ]
            }
        )
    today = timezone.localdate()
    issued_on = issued_on or today
    if issued_on > today:
        raise ValidationError({"issued_on": [_("The date of issue cannot be in the future.")]})
    if dues_paid_until and dues_paid_until > today.replace(day=1) + relativedelta(months=6):
        raise ValidationError({"dues_paid_until": [_("Dues are paid at most six months in advance.")]})
    locked = _locked(transfer)
    _require(actor, acting_branch(locked, "issue"))
    changes = {
        "issued_on": issued_on,
        "valid_until": issued_on + datetime.timedelta(days=valid_days),
        "dues_paid_until": _first_of_month(dues_paid_until),
    }
    if locked.kind == TransferKind.INCOMING:
        letter_number = (letter_number or "").strip()
        if not letter_number:
            raise ValidationError({"letter_number": [_("Enter the number of the letter received.")]})
        changes.update(letter_number=letter_number, letter_year=issued_on.year)
    elif locked.allows("issue"):
        committee = issuing_committee(locked.from_branch)
        changes.update(
            issuing_committee=committee,
            letter_year=issued_on.year,
            letter_number=_next_letter_number(committee, issued_on.year),
        )
    return _transition(actor=actor, transfer=locked, action="issue", **changes)


@transaction.atomic
def transfer_accept(*, actor, transfer: Transfer, accepted_on: datetime.date | None = None) -> Transfer:
    """The receiving side accepts; the member's formal branch moves in this transaction.

    An expired letter cannot be accepted (a new one must be issued). An outgoing transfer's member
    leaves the system: their record is closed (soft-deleted) with the transfer as the reason.
    """
    today = timezone.localdate()
    accepted_on = accepted_on or today
    locked = _locked(transfer)
    _require(actor, acting_branch(locked, "accept"))
    if locked.allows("accept") and locked.letter_expired(accepted_on):
        raise Conflict(
            _("The letter expired on %(date)s and cannot be accepted; the sending side must issue a new one.")
            % {"date": locked.valid_until.isoformat()}
        )
    if accepted_on > today:
        raise ValidationError({"accepted_on": [_("The date cannot be in the future.")]})
    locked = _transition(actor=actor, transfer=locked, action="accept", accepted_on=accepted_on)
    if locked.kind == TransferKind.INTERNAL:
        _member_move(actor=actor, member=locked.member, to_branch=locked.to_branch, transfer=locked)
    elif locked.kind == TransferKind.OUTGOING:
        member_delete(
            actor=actor,
            member=locked.member,
            reason=_("Transferred out to %(org)s") % {"org": locked.to_outside},
        )
    return locked


def _member_move(*, actor, member: Member, to_branch: Branch, transfer: Transfer) -> Member:
    """Move the formal branch on acceptance (the receiving side needs no rights at the sending branch).

    Keeps the branch counters, ends an open affiliation at the new branch (it becomes the formal one)
    and audits with the transfer's id; the member's save writes the change record with the old path.
    """
    member = Member.objects.select_for_update(of=("self",)).select_related("branch").get(pk=member.pk)
    before_count = _count_state(member)
    before = snapshot(member, ["branch"])
    for affiliation in Affiliation.objects.filter(member=member, branch=to_branch, ended_on__isnull=True):
        affiliation.ended_on = max(transfer.accepted_on, affiliation.started_on)
        affiliation.save(update_fields=["ended_on"])
    member.branch = to_branch
    member.save(update_fields=["branch"])
    _adjust_counts(before_count, _count_state(member))
    audit_record(
        actor=actor,
        obj=member,
        action="members.member.transferred",
        before=before,
        after=snapshot(member, ["branch"]),
        data={"transfer": str(transfer.pk), "letter_number": transfer.letter_number},
    )
    return member


@transaction.atomic
def transfer_reject(*, actor, transfer: Transfer, reason: str = "") -> Transfer:
    """The receiving side refuses; the member stays where they are."""
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Say why the transfer is rejected.")]})
    return _transition(actor=actor, transfer=transfer, action="reject", closed_reason=reason.strip())


@transaction.atomic
def transfer_return_receipt(*, actor, transfer: Transfer, returned_on: datetime.date | None = None) -> Transfer:
    """The receipt (回执) has gone back to the sending side."""
    returned_on = returned_on or timezone.localdate()
    locked = _locked(transfer)
    if locked.accepted_on and returned_on < locked.accepted_on:
        raise ValidationError({"returned_on": [_("The receipt cannot be returned before the acceptance.")]})
    if returned_on > timezone.localdate():
        raise ValidationError({"returned_on": [_("The date cannot be in the future.")]})
    return _transition(actor=actor, transfer=locked, action="return_receipt", receipt_returned_on=returned_on)


@transaction.atomic
def transfer_complete(*, actor, transfer: Transfer) -> Transfer:
    """Close the file. A person coming in from outside gets their member record now, at the receiving branch."""
    locked = _transition(actor=actor, transfer=transfer, action="complete", completed_on=timezone.localdate())
    if locked.kind == TransferKind.INCOMING:
        member = member_create(
            actor=None,  # the receiving side's transfers.change was checked by the transition
            branch=locked.to_branch,
            name=locked.incoming_name,
            citizen_id=crypto.decrypt(locked.incoming_citizen_id_cipher),
            category=locked.incoming_category,
            joined_on=locked.incoming_joined_on,
        )
        locked.member = member
        locked.save(update_fields=["member"])
        audit_record(
            actor=actor, obj=member, action="members.member.transferred_in", data={"transfer": str(locked.pk)}
        )
    return locked


@transaction.atomic
def transfer_cancel(*, actor, transfer: Transfer, reason: str = "") -> Transfer:
    """Withdraw a draft or an issued letter before acceptance."""
    return _transition(actor=actor, transfer=transfer, action="cancel", closed_reason=(reason or "").strip())


@transaction.atomic
def transfer_expire(*, transfer: Transfer, today: datetime.date | None = None) -> Transfer | None:
    """Mark an issued letter past its validity expired (the beat task); None when it no longer applies."""
    today = today or timezone.localdate()
    locked = _locked(transfer)
    if not locked.allows("expire") or not locked.letter_expired(today):
        return None
    return _transition(actor=None, transfer=locked, action="expire")


def transfers_expire_due(*, today: datetime.date | None = None) -> int:
    """Expire every issued letter whose validity has ended; each in its own transaction."""
    today = today or timezone.localdate()
    due = Transfer.objects.filter(status=TransferStatus.ISSUED, valid_until__lt=today).values_list("pk", flat=True)
    return sum(1 for pk in list(due) if transfer_expire(transfer=Transfer(pk=pk), today=today))


#
# Alerts (exactly once per transfer, kind and person; the state is checked again at send time)
#
KIND_EXPIRING = "expiring"
KIND_EXPIRED = "expired"
KIND_RECEIPT = "receipt_missing"


def _still_due(transfer: Transfer, kind: str, today: datetime.date) -> bool:
    rules = transfer_rules()
    if kind == KIND_EXPIRING:
        warn_from = today + datetime.timedelta(days=rules["expiry_warning_days"])
        return transfer.status == TransferStatus.ISSUED and today <= transfer.valid_until <= warn_from
    if kind == KIND_EXPIRED:
        return transfer.status == TransferStatus.EXPIRED
    if kind == KIND_RECEIPT:
        late = today - datetime.timedelta(days=rules["receipt_days"])
        return transfer.status == TransferStatus.ACCEPTED and transfer.accepted_on <= late
    return False


def transfer_alerts_due(*, today: datetime.date | None = None) -> list[tuple]:
    """(transfer id, kind) pairs whose alert is due today: letters about to expire, expired, receipts missing."""
    today = today or timezone.localdate()
    rules = transfer_rules()
    due = []
    expiring = Transfer.objects.filter(
        status=TransferStatus.ISSUED,
        valid_until__gte=today,
        valid_until__lte=today + datetime.timedelta(days=rules["expiry_warning_days"]),
    )
    due += [(pk, KIND_EXPIRING) for pk in expiring.values_list("pk", flat=True)]
    # Expired letters are announced once, so only recent ones need looking at.
    expired = Transfer.objects.filter(
        status=TransferStatus.EXPIRED, valid_until__gte=today - datetime.timedelta(days=rules["receipt_days"])
    )
    due += [(pk, KIND_EXPIRED) for pk in expired.values_list("pk", flat=True)]
    late = Transfer.objects.filter(
        status=TransferStatus.ACCEPTED, accepted_on__lte=today - datetime.timedelta(days=rules["receipt_days"])
    )
    due += [(pk, KIND_RECEIPT) for pk in late.values_list("pk", flat=True)]
    return due


def branch_keepers(branch: Branch | None) -> list:
    """Who hears about a branch's deadlines: its secretaries and the officers of its parent."""
    if branch is None:
        return []
    rows = RoleAssignment.objects.filter(branch=branch, role=Role.SECRETARY)
    if branch.parent_id:
        rows = rows | RoleAssignment.objects.filter(branch_id=branch.parent_id, role=Role.OFFICER)
    users = {ra.user for ra in rows.select_related("user")}
    return sorted((u for u in users if u.is_active), key=lambda u: u.pk)


def _alert_text(transfer: Transfer, kind: str) -> tuple[str, str]:
    who = transfer.member.name if transfer.member_id else transfer.incoming_name
    values = {"name": who, "number": transfer.letter_number or "—", "date": _plain(transfer.valid_until) or ""}
    if kind == KIND_EXPIRING:
        return (
            _("Transfer letter %(number)s expires on %(date)s") % values,
            _("The transfer of %(name)s has not been accepted yet; letter %(number)s expires on %(date)s.") % values,
        )
    if kind == KIND_EXPIRED:
        return (
            _("Transfer letter %(number)s has expired") % values,
            _("The transfer of %(name)s was not accepted in time. Issue a new letter or cancel it.") % values,
        )
    return (
        _("Receipt missing for transfer letter %(number)s") % values,
        _("The transfer of %(name)s was accepted but its receipt has not been returned.") % values,
    )


def transfer_alert_send(*, transfer_id, kind: str, today: datetime.date | None = None) -> int:
    """Send one alert to each person concerned, once; nothing when the transfer moved on meanwhile."""
    today = today or timezone.localdate()
    transfer = Transfer.objects.select_related("member", "from_branch", "to_branch").filter(pk=transfer_id).first()
    if transfer is None or not _still_due(transfer, kind, today):
        return 0
    branches = [transfer.from_branch, transfer.to_branch]
    if kind == KIND_EXPIRED:
        branches = [acting_branch(transfer, "issue")]
    recipients = {u.pk: u for b in branches for u in branch_keepers(b)}
    url = reverse("members:transfer_detail", kwargs={"pk": transfer.pk})
    sent = 0
    with translation.override(settings.LANGUAGE_CODE):
        title, body = _alert_text(transfer, kind)
    for user in recipients.values():
        log, _created = TransferReminderLog.objects.get_or_create(transfer=transfer, kind=kind, recipient=user)
        with transaction.atomic():
            claimed = TransferReminderLog.objects.filter(pk=log.pk, sent_at__isnull=True).update(
                sent_at=timezone.now()
            )
            if not claimed:
                continue
            # Checked again under the claim: an acceptance committed since the first read sends nothing.
            fresh = Transfer.objects.select_for_update().get(pk=transfer.pk)
            if not _still_due(fresh, kind, today):
                transaction.set_rollback(True)
                return sent
            deliver(recipients=[user], kind=f"members.transfer.{kind}", title=title, body=body, url=url)
        sent += 1
    return sent


def transfer_alerts_send(*, today: datetime.date | None = None) -> int:
    """The daily sweep: expire what has run out, then send every alert due."""
    today = today or timezone.localdate()
    transfers_expire_due(today=today)
    return sum(
        transfer_alert_send(transfer_id=pk, kind=kind, today=today) for pk, kind in transfer_alerts_due(today=today)
    )
