"""Writes of notices (党务公开): drafts, publishing and withdrawal, attachments, read receipts, the dues publication.

Managing needs "notices.change" at the notice's branch (officers and secretaries in their subtree). A
notice is edited while it is a draft; publishing opens it to its audience from `publish_from` on, and
the audience is told once (`announced_at`): at once when the window is already open, otherwise by the
beat sweep (`notices_announce_sweep`) when it opens. Withdrawing hides it for good.
"""

from io import BytesIO

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.models import Branch
from branches.permissions import in_scope
from core.audit import audit_record, snapshot
from core.exceptions import Conflict
from core.notifications import deliver
from core.uploads import XLSX, validate_upload
from members.exports import neutralise
from members.models import Notice, NoticeAttachment, NoticeRead
from members.models.notices import NoticeAudience, NoticeCategory, NoticeStatus
from members.selectors_dues import dues_report_total, dues_yearly_report
from members.selectors_notices import notice_audience_users

#: Fields a draft's editor may set (the rest is state, set by the actions).
EDITABLE_FIELDS = ("title", "body", "category", "audience", "publish_from", "publish_until")
AUDIT_FIELDS = ["branch", *EDITABLE_FIELDS, "status", "published_at", "withdrawn_at"]
#: Notification kind sent to the audience when a notice opens.
PUBLISHED_KIND = "members.notice.published"


def _require_notices(actor, branch: Branch) -> None:
    """Refuse an actor without "notices.change" at `branch`: 404 outside their view scope, 403 inside it.

    `actor=None` is the system (tasks, commands).
    """
    if actor is None or in_scope(actor, "notices.change", branch):
        return
    if not in_scope(actor, "notices.view", branch):
        raise Http404
    raise PermissionDenied(_("You may not manage notices of this organisation."))


def _check(notice: Notice) -> None:
    """Field and cross-field rules (the window, the dues publication's audience), then the model's own."""
    if notice.category == NoticeCategory.DUES_PUBLICATION and notice.audience == NoticeAudience.PUBLIC:
        raise ValidationError(
            {"audience": _("A dues publication names members and amounts: it can only be shown to members.")}
        )
    notice.full_clean(exclude=["created_by", "published_by"])


#
# Drafts
#
@transaction.atomic
def notice_create(
    *,
    actor,
    branch: Branch,
    title: str,
    body: str = "",
    category: str = NoticeCategory.DECISION,
    audience: str = NoticeAudience.MEMBERS,
    publish_from=None,
    publish_until=None,
) -> Notice:
    """A draft notice of `branch`; nobody but its managers sees it until it is published."""
    _require_notices(actor, branch)
    notice = Notice(
        branch=branch,
        title=(title or "").strip(),
        body=(body or "").strip(),
        category=category,
        audience=audience,
        publish_from=publish_from or timezone.now(),
        publish_until=publish_until,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    _check(notice)
    notice.save()
    audit_record(actor=actor, obj=notice, action="members.notice.created", after=snapshot(notice, AUDIT_FIELDS))
    return notice


@transaction.atomic
def notice_update(*, actor, notice: Notice, **fields) -> Notice:
    """Change a draft (title, text, category, audience, window); a published or withdrawn notice is 409."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Unknown notice fields: {sorted(unknown)}")
    _require_notices(actor, notice.branch)
    notice = Notice.objects.select_for_update().select_related("branch").get(pk=notice.pk)
    if notice.status != NoticeStatus.DRAFT:
        raise Conflict(_("Only a draft can be edited; withdraw this notice and write a new one."))
    before = snapshot(notice, AUDIT_FIELDS)
    for name, value in fields.items():
        if name in ("title", "body"):
            value = (value or "").strip()
        if name == "publish_from" and value is None:
            value = notice.publish_from
        setattr(notice, name, value)
    _check(notice)
    after = snapshot(notice, AUDIT_FIELDS)
    if after != before:
        notice.save()
        audit_record(actor=actor, obj=notice, action="members.notice.updated", before=before, after=after)
    return notice


#
# Publishing
#
@transaction.atomic
def notice_publish(*, actor, notice: Notice) -> Notice:
    """Publish a draft: shown to its audience inside its window; the audience is told when the window opens.

    Refused (409) unless a draft; refused (400 on `publish_until`) when the window has already ended.
    """
    _require_notices(actor, notice.branch)
    notice = Notice.objects.select_for_update().select_related("branch").get(pk=notice.pk)
    if notice.status != NoticeStatus.DRAFT:
        raise Conflict(_("This notice is not a draft: it cannot be published again."))
    now = timezone.now()
    if notice.publish_until is not None and notice.publish_until <= now:
        raise ValidationError(
            {"publish_until": _("The window of this notice has already ended; move its end to a later time.")}
        )
    _check(notice)
    before = snapshot(notice, AUDIT_FIELDS)
    notice.status = NoticeStatus.PUBLISHED
    notice.published_at = now
    notice.published_by = actor if getattr(actor, "is_authenticated", False) else None
    notice.save()
    audit_record(
        actor=actor,
        obj=notice,
        action="members.notice.published",
        before=before,
        after=snapshot(notice, AUDIT_FIELDS),
    )
    if notice.publish_from <= now:
        notice_id = str(notice.pk)

        def announce():
            from members.tasks import notice_announce as notice_announce_task

            notice_announce_task.delay(notice_id)

        transaction.on_commit(announce)
    return notice


@transaction.atomic
def notice_withdraw(*, actor, notice: Notice, reason: str = "") -> Notice:
    """Take a published notice down for good (readers get "withdrawn"); a draft or withdrawn one is 409."""
    _require_notices(actor, notice.branch)
    notice = Notice.objects.select_for_update().select_related("branch").get(pk=notice.pk)
    if notice.status != NoticeStatus.PUBLISHED:
        raise Conflict(_("Only a published notice can be withdrawn."))
    before = snapshot(notice, AUDIT_FIELDS)
    notice.status = NoticeStatus.WITHDRAWN
    notice.withdrawn_at = timezone.now()
    notice.withdrawal_reason = (reason or "").strip()[:300]
    notice.save()
    audit_record(
        actor=actor,
        obj=notice,
        action="members.notice.withdrawn",
        before=before,
        after=snapshot(notice, AUDIT_FIELDS),
        data={"reason": notice.withdrawal_reason},
    )
    return notice


@transaction.atomic
def notice_announce(*, notice_id) -> int:
    """Tell the audience of an open notice, once; returns how many accounts were told (0 if not due).

    The claim is a conditional UPDATE of `announced_at`, so two sweeps, or a sweep and a publish, never
    send it twice; the delivery runs in the same transaction, so a failure leaves it unclaimed for the next
    sweep. `announced_at` is not part of the API representation, so the claim needs no new version.
    """
    now = timezone.now()
    claimed = Notice.objects.visible_at(now).filter(pk=notice_id, announced_at__isnull=True).update(announced_at=now)
    if not claimed:
        return 0
    notice = Notice.objects.select_related("branch").get(pk=notice_id)
    result = deliver(
        recipients=notice_audience_users(notice=notice).iterator(chunk_size=2000),
        kind=PUBLISHED_KIND,
        title=_("New notice from %(branch)s: %(title)s") % {"branch": notice.branch.name, "title": notice.title},
        body=notice.body[:300],
        url=reverse("notices:notice_detail", kwargs={"pk": notice.pk}),
    )
    return result.in_app


#
# Attachments and read receipts
#
@transaction.atomic
def notice_attachment_add(*, actor, notice: Notice, upload, name: str = "") -> NoticeAttachment:
    """Attach a file: PDF, picture, Word or Excel document, recognised by its content and size limited."""
    _require_notices(actor, notice.branch)
    if notice.status == NoticeStatus.WITHDRAWN:
        raise Conflict(_("This notice was withdrawn: nothing can be attached to it."))
    clean_name, content_type = validate_upload(
        upload, allowed_types=settings.NOTICES_ATTACHMENT_TYPES, max_bytes=settings.NOTICES_ATTACHMENT_MAX_BYTES
    )
    attachment = NoticeAttachment(
        notice=notice,
        name=(name or clean_name)[:200],
        size=upload.size,
        content_type=content_type,
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    attachment.file.save(clean_name, upload, save=False)
    attachment.save()
    notice.save(update_fields=[])  # attachments are part of what a client syncs: a new version
    audit_record(
        actor=actor,
        obj=notice,
        action="members.notice.attached",
        data={"attachment": str(attachment.pk), "name": attachment.name, "size": attachment.size},
    )
    return attachment


def notice_mark_read(*, user, notice: Notice) -> NoticeRead:
    """Record that `user` read `notice`; reading it again keeps the first receipt (idempotent).

    The caller fetched the notice through a reader's selector; a notice not open now is refused (409).
    """
    if notice.window_state() != "open":
        raise Conflict(_("This notice is not shown at the moment."))
    receipt, _created = NoticeRead.objects.get_or_create(notice=notice, user=user)
    return receipt


#
# The yearly dues publication (党费收缴情况公示)
#
def _dues_xlsx(*, branch: Branch, year: int, rows) -> bytes:
    """The yearly dues report as a workbook, laid out as the report page's download."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = str(year)
    sheet.append([neutralise(_("Dues paid in %(year)s: %(branch)s") % {"year": year, "branch": branch.name})])
    sheet.append([_("Name"), _("Months paid"), _("Amount (元)")])
    for row in rows:
        sheet.append([neutralise(row.member.name), row.months_paid, float(row.amount)])
    sheet.append([_("Total"), sum(r.months_paid for r in rows), float(dues_report_total(rows))])
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _dues_body(*, branch: Branch, year: int, rows) -> str:
    lines = [
        _("Party dues paid by the members of %(branch)s in %(year)s, per member (months paid, amount in 元):")
        % {"branch": branch.name, "year": year},
        "",
    ]
    lines += [f"{row.member.name}\t{row.months_paid}\t{row.amount}" for row in rows]
    lines += [
        "",
        _("Total: %(total)s 元 from %(count)d members.") % {"total": dues_report_total(rows), "count": len(rows)},
        _("Questions about these figures go to the branch committee."),
    ]
    return "\n".join(lines)


@transaction.atomic
def notice_publish_dues(*, actor, branch: Branch, year: int) -> Notice:
    """A draft "dues publication" notice for `branch` and `year`, built from the yearly dues report, with the
    report attached as a workbook; for the members only (it names people). Publishing stays a separate step.

    Needs "notices.change" and "dues.view" at the branch; a temporary branch collects no dues.
    """
    _require_notices(actor, branch)
    if actor is not None and not in_scope(actor, "dues.view", branch):
        raise PermissionDenied(_("You may not see the dues of this organisation."))
    if branch.is_temporary:
        raise ValidationError({"branch": _("A temporary branch collects no dues: there is nothing to publish.")})
    this_year = timezone.localdate().year
    if not 2000 <= int(year) <= this_year:
        raise ValidationError({"year": _("Choose a year from 2000 to %(year)d.") % {"year": this_year}})
    year = int(year)
    rows = dues_yearly_report(actor=actor, branch=branch, year=year) if actor is not None else []
    notice = notice_create(
        actor=actor,
        branch=branch,
        title=_("Party dues paid in %(year)s: %(branch)s") % {"year": year, "branch": branch.name},
        body=_dues_body(branch=branch, year=year, rows=rows),
        category=NoticeCategory.DUES_PUBLICATION,
        audience=NoticeAudience.MEMBERS,
    )
    upload = SimpleUploadedFile(f"dues-{year}.xlsx", _dues_xlsx(branch=branch, year=year, rows=rows), XLSX)
    notice_attachment_add(actor=actor, notice=notice, upload=upload)
    audit_record(
        actor=actor,
        obj=notice,
        action="members.notice.dues_prepared",
        data={"year": year, "branch": str(branch.pk), "rows": len(rows)},
    )
    return notice
