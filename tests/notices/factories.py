"""Notices made through the actions (audit, change records and rules are real); members from tests/members."""

import datetime

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from members.actions.notices import notice_create, notice_publish
from members.models import Notice
from members.models.notices import NoticeAudience, NoticeCategory
from tests.members.factories import MemberFactory, make_citizen_id  # noqa: F401  (re-exported for the tests)

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 32


def pdf_upload(name: str = "decision.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, "application/pdf")


def exe_upload(name: str = "decision.pdf") -> SimpleUploadedFile:
    """An executable pretending to be a PDF by its name and claimed type."""
    return SimpleUploadedFile(name, EXE_BYTES, "application/pdf")


class NoticeFactory(factory.Factory):
    """A draft notice made by `notice_create` (system actor unless `actor=` is given). Pass `branch=`."""

    class Meta:
        model = Notice

    title = factory.Sequence(lambda n: f"Notice {n}")
    body = factory.LazyAttribute(lambda o: f"Text of {o.title}.\n\nSecond paragraph.")
    category = NoticeCategory.DECISION
    audience = NoticeAudience.MEMBERS
    publish_from = None
    publish_until = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return notice_create(actor=kwargs.pop("actor", None), **kwargs)


def published_notice(*, branch, actor=None, **kwargs) -> Notice:
    """A notice published now (its window open), made and published through the actions."""
    notice = NoticeFactory(branch=branch, actor=actor, **kwargs)
    return notice_publish(actor=actor, notice=notice)


def move_window(notice: Notice, *, start_days: float, end_days: float | None = None) -> Notice:
    """Shift a notice's window relative to now (test set-up only: the actions refuse to publish a past window)."""
    now = timezone.now()
    start = now + datetime.timedelta(days=start_days)
    end = now + datetime.timedelta(days=end_days) if end_days is not None else None
    Notice.objects.filter(pk=notice.pk).update(publish_from=start, publish_until=end)
    notice.refresh_from_db()
    return notice
