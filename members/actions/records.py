"""Writes to member records. Each action checks scope, validates, keeps branch counts, audits, and is atomic.

Audit entries never hold a plain citizen ID or phone number: only the stored masks, plus the names
of sensitive fields that changed when the mask alone would not show it.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.actions import branch_member_counts_adjust
from branches.models import Branch
from branches.permissions import in_scope
from core.audit import audit_record, audit_record_many, snapshot
from core.exceptions import Conflict
from members.choices import CURRENT_STATUSES, MemberCategory
from members.models import Affiliation, Member
from members.permissions import may_view_sensitive, require_member_scope
from members.validators import citizen_id_birth_date, citizen_id_sex, validate_citizen_id, validate_phone

#: Plain fields a writer may set (besides branch, name, citizen_id, phone and platforms).
MEMBER_FIELDS = [
    "sex",
    "birth_date",
    "ethnicity",
    "education",
    "category",
    "joined_on",
    "full_member_on",
    "job_title",
    "address",
    "status",
    "lost_contact",
    "lost_contact_since",
    "is_mobile",
    "mobile_destination",
    "occupation",
    "unit",
    "shows_identity",
    "under_probation_discipline",
    "user",
    "external_ref",
]
_WRITABLE = {"name", "citizen_id", "phone", *MEMBER_FIELDS}
#: What the audit trail keeps of a member: masks, never the plain sensitive values.
AUDIT_FIELDS = ["branch", "name", *MEMBER_FIELDS, "citizen_id_masked", "phone_masked"]
#: Columns computed from other input; never validated as input themselves.
_DERIVED_COLUMNS = [
    "name_pinyin",
    "name_initials",
    "citizen_id_cipher",
    "citizen_id_hash",
    "citizen_id_last4",
    "citizen_id_masked",
    "phone_cipher",
    "phone_last4",
    "phone_masked",
]


#
# Helpers
#
def _duplicate_id_message() -> str:
    return _("A member with this citizen ID number already exists.")


def _count_state(member: Member) -> tuple | None:
    """What the member adds to branch counters: (branch id, members, full members), or None."""
    if member.deleted_at is not None or member.status not in CURRENT_STATUSES:
        return None
    return (member.branch_id, 1, 1 if member.category == MemberCategory.FULL else 0)


def _adjust_counts(before: tuple | None, after: tuple | None) -> None:
    if before == after:
        return
    deltas: dict = {}
    for state, sign in ((before, -1), (after, 1)):
        if state is None:
            continue
        branch_id, members, full_members = state
        current = deltas.get(branch_id, (0, 0))
        deltas[branch_id] = (current[0] + sign * members, current[1] + sign * full_members)
    branch_member_counts_adjust(deltas=deltas)


def _platform_codes(member: Member) -> list[str]:
    return sorted(member.platforms.values_list("code", flat=True))


def _audit_snapshot(member: Member, platforms: list[str]) -> dict:
    return {**snapshot(member, AUDIT_FIELDS), "platforms": platforms}


def _assign(member: Member, *, actor, data: dict) -> list[str]:
    """Apply input to `member` and validate it; return the sensitive fields that changed.

    Raises ValidationError naming every field at fault. Sex and birth date are taken from the ID
    number when not given (None or absent with a new number), and checked against it when given.
    """
    unknown = set(data) - _WRITABLE
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in sorted(unknown)})
    data = dict(data)
    errors: dict[str, list[str]] = {}
    changed_sensitive: list[str] = []
    adding = member._state.adding

    new_number = None
    if "citizen_id" in data:
        try:
            new_number = validate_citizen_id(data.pop("citizen_id"))
        except ValidationError as exc:
            errors["citizen_id"] = exc.messages
        else:
            if adding or new_number != member.citizen_id:
                member.citizen_id = new_number
                changed_sensitive.append("citizen_id")
            else:
                new_number = None
    elif adding:
        errors["citizen_id"] = [_("This field is required.")]

    if "phone" in data:
        raw = data.pop("phone") or ""
        try:
            phone = validate_phone(raw) if raw.strip() else ""
        except ValidationError as exc:
            errors["phone"] = exc.messages
        else:
            if phone != member.phone:
                member.phone = phone
                changed_sensitive.append("phone")

    if "name" in data:
        member.set_name((data.pop("name") or "").strip())

    if data.get("external_ref") == "":
        data["external_ref"] = None

    number_known = not errors.get("citizen_id") and (new_number or member.citizen_id_cipher)
    for field, derive in (("sex", citizen_id_sex), ("birth_date", citizen_id_birth_date)):
        wants_derived = (field in data and data[field] in (None, "")) or (field not in data and new_number)
        if wants_derived:
            data.pop(field, None)
            if number_known:
                setattr(member, field, derive(member.citizen_id))

    unit = data.get("unit")
    if unit is not None and actor is not None and not in_scope(actor, "units.view", unit.branch):
        errors["unit"] = [_("No such unit exists in your scope.")]

    for field, value in data.items():
        setattr(member, field, value)

    exclude = list(_DERIVED_COLUMNS)
    if errors.get("citizen_id"):
        # Without a valid number the cross-field checks (sex and birth date against it) would only add noise.
        try:
            member.clean_fields(exclude=[*exclude, "sex", "birth_date"])
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(field, []).extend(messages)
        raise ValidationError(errors)
    try:
        # Uniqueness is checked below and by the database; check constraints mirror clean().
        member.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if "citizen_id" in changed_sensitive and not errors.get("citizen_id"):
        duplicate = Member.objects.filter(citizen_id_hash=member.citizen_id_hash).exclude(pk=member.pk)
        if duplicate.exists():
            errors["citizen_id"] = [_duplicate_id_message()]
    user_taken = member.user_id and Member.objects.filter(user_id=member.user_id).exclude(pk=member.pk).exists()
    if user_taken and not errors.get("user"):
        errors["user"] = [_("This user account already belongs to another member.")]
    if errors:
        raise ValidationError(errors)
    return changed_sensitive


def _save(member: Member, **kwargs) -> None:
    """Save; a duplicate ID that slipped past the check (a concurrent write) is a field error, not a 500."""
    try:
        with transaction.atomic():
            member.save(**kwargs)
    except IntegrityError as exc:
        text = str(exc)
        if "member_citizen_id_unique" in text or "citizen_id_hash" in text:
            raise ValidationError({"citizen_id": [_duplicate_id_message()]}) from None
        if "member_user_unique" in text or "members_member.user_id" in text:
            raise ValidationError({"user": [_("This user account already belongs to another member.")]}) from None
        raise


def _check_not_affiliated(member: Member, branch: Branch) -> None:
    if member.pk and member.affiliations.filter(branch=branch, ended_on__isnull=True).exists():
        raise ValidationError({"branch": [_("The member takes part in this branch as an affiliation; end it first.")]})


#
# Members
#
@transaction.atomic
def member_create(*, actor, branch: Branch, platforms=None, **data) -> Member:
    """Record a member at their formal branch. `data` holds name, citizen_id, category, joined_on, …"""
    require_member_scope(actor, "members.change", branch)
    member = Member(branch=branch)
    data.setdefault("status", "normal")
    _assign(member, actor=actor, data=data)
    _save(member)
    if platforms:
        member.platforms.set(platforms)
    _adjust_counts(None, _count_state(member))
    audit_record(
        actor=actor,
        obj=member,
        action="members.member.created",
        after=_audit_snapshot(member, sorted(p.code for p in platforms or [])),
    )
    return member


@transaction.atomic
def member_update(*, actor, member: Member, branch: Branch | None = None, platforms=None, **data) -> Member:
    """Change a member's record. Moving to another formal branch needs change scope at both branches.

    Absent fields are left as they are; `platforms=None` leaves the platforms unchanged. A write that
    changes nothing saves nothing (the version stays).
    """
    require_member_scope(actor, "members.change", member.branch)
    member = Member.objects.select_for_update(of=("self",)).select_related("branch").get(pk=member.pk)
    before = _audit_snapshot(member, _platform_codes(member))
    before_count = _count_state(member)
    if branch is not None and branch.pk != member.branch_id:
        require_member_scope(actor, "members.change", branch)
        _check_not_affiliated(member, branch)
        member.branch = branch
    changed_sensitive = _assign(member, actor=actor, data=data)
    platform_codes = sorted(p.code for p in platforms) if platforms is not None else before["platforms"]
    after = _audit_snapshot(member, platform_codes)
    changed_before = {k: v for k, v in before.items() if after[k] != v}
    changed_after = {k: after[k] for k in changed_before}
    if not changed_before and not changed_sensitive:
        return member
    _save(member)
    if platforms is not None and platform_codes != before["platforms"]:
        member.platforms.set(platforms)
    _adjust_counts(before_count, _count_state(member))
    audit_record(
        actor=actor,
        obj=member,
        action="members.member.updated",
        before=changed_before,
        after=changed_after,
        data={"sensitive_changed": changed_sensitive} if changed_sensitive else None,
    )
    return member


@transaction.atomic
def member_delete(*, actor, member: Member, reason: str = "") -> Member:
    """Soft-delete a record entered by mistake (leaving the party is a status, not a delete)."""
    require_member_scope(actor, "members.change", member.branch)
    member = Member.objects.select_for_update().get(pk=member.pk)
    before_count = _count_state(member)
    member.soft_delete()
    _adjust_counts(before_count, None)
    audit_record(actor=actor, obj=member, action="members.member.deleted", data={"reason": reason} if reason else None)
    return member


@transaction.atomic
def member_self_update(*, actor, member: Member, phone: str | None = None, address: str | None = None) -> Member:
    """A member changes their own phone number and home address, and nothing else."""
    if actor is None or member.user_id is None or member.user_id != actor.pk:
        raise PermissionDenied(_("You may change only your own record."))
    member = Member.objects.select_for_update().get(pk=member.pk)
    data = {k: v for k, v in (("phone", phone), ("address", address)) if v is not None}
    before = snapshot(member, ["address", "phone_masked"])
    changed_sensitive = _assign(member, actor=None, data=data)
    after = snapshot(member, ["address", "phone_masked"])
    if before == after and not changed_sensitive:
        return member
    _save(member)
    audit_record(
        actor=actor,
        obj=member,
        action="members.member.self_updated",
        before={k: v for k, v in before.items() if after[k] != v},
        after={k: v for k, v in after.items() if before[k] != v},
        data={"sensitive_changed": changed_sensitive} if changed_sensitive else None,
    )
    return member


def member_reveal(*, actor, members) -> set:
    """Ids of the members whose full ID and phone `actor` may see; each such view is audited.

    One audit entry per member ("members.member.id_viewed"), written in one statement, so a list
    page costs the same number of queries whatever its length.
    """
    members = list(members)
    allowed = [m for m in members if may_view_sensitive(actor, m)]
    if allowed:
        audit_record_many(
            actor=actor, objs=allowed, action="members.member.id_viewed", data={"fields": ["citizen_id", "phone"]}
        )
    return {m.pk for m in allowed}


#
# Affiliations
#
@transaction.atomic
def affiliation_add(
    *,
    actor,
    member: Member,
    branch: Branch,
    kind: str,
    started_on: datetime.date,
    note: str = "",
) -> Affiliation:
    """Let a member take part in another branch (functional, building, or host for mobile members).

    Recorded by whoever keeps the member's formal record; the other branch may lie outside that
    scope (a host branch in another district). Never the formal branch; it gives no vote.
    """
    require_member_scope(actor, "members.change", member.branch)
    member = Member.objects.select_for_update().get(pk=member.pk)
    if branch.pk == member.branch_id:
        raise ValidationError({"branch": [_("The formal branch cannot also be an affiliation.")]})
    if branch.deleted_at is not None:
        raise ValidationError({"branch": [_("This organisation has been dissolved.")]})
    affiliation = Affiliation(member=member, branch=branch, kind=kind, started_on=started_on, note=note)
    affiliation.full_clean(validate_constraints=False)
    if member.affiliations.filter(branch=branch, ended_on__isnull=True).exists():
        raise ValidationError({"branch": [_("The member already takes part in this branch.")]})
    try:
        with transaction.atomic():
            affiliation.save()
    except IntegrityError:
        raise ValidationError({"branch": [_("The member already takes part in this branch.")]}) from None
    member.save(update_fields=[])  # the affiliations are part of the member's representation
    audit_record(
        actor=actor,
        obj=member,
        action="members.affiliation.added",
        data={
            "affiliation": str(affiliation.pk),
            "branch": str(branch.pk),
            "kind": kind,
            "started_on": started_on.isoformat(),
        },
    )
    return affiliation


@transaction.atomic
def affiliation_end(*, actor, affiliation: Affiliation, ended_on: datetime.date | None = None) -> Affiliation:
    """Close an affiliation on `ended_on` (today by default)."""
    require_member_scope(actor, "members.change", affiliation.member.branch)
    member = Member.objects.select_for_update().get(pk=affiliation.member_id)
    affiliation = Affiliation.objects.select_for_update().get(pk=affiliation.pk)
    if affiliation.ended_on is not None:
        raise Conflict(_("This affiliation has already ended."))
    affiliation.ended_on = ended_on or timezone.localdate()
    affiliation.full_clean(validate_constraints=False)
    affiliation.save(update_fields=["ended_on"])
    member.save(update_fields=[])
    audit_record(
        actor=actor,
        obj=member,
        action="members.affiliation.ended",
        data={"affiliation": str(affiliation.pk), "ended_on": affiliation.ended_on.isoformat()},
    )
    return affiliation
