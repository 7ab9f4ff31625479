"""The notification centre's core: kinds registry, preferences, and deliver() deciding channels per user."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from core import sms
from core.models import AuditEntry, Notification, NotificationPreference
from core.notifications import (
    ALWAYS,
    deliver,
    notification_kind_get,
    notification_kinds,
    notification_preferences,
    notification_preferences_save,
)
from tests.branches.factories import UserFactory

pytestmark = pytest.mark.django_db

#: kinds whose defaults the tests rely on (declared in the apps' notifications.py)
REMINDER = "activities.reminder"  # in-app on, e-mail on, SMS on
ARREARS = "members.dues_arrears"  # in-app on, e-mail on, no SMS
NOTICE = "members.notice.published"  # in-app on, e-mail off
BREACH = "services.breach"  # in-app always, e-mail on


@pytest.fixture(autouse=True)
def _clean_sms_outbox():
    sms.outbox.clear()
    yield
    sms.outbox.clear()


#
# Registry
#
def test_registry_finds_every_app_kind():
    codes = set(notification_kinds())
    assert {
        "activities.reminder",
        "activities.cancelled",
        "activities.compliance",
        "branches.term_reminder",
        "members.development_due",
        "members.dues_arrears",
        "members.report_in_missing",
        "members.lost_contact_warning",
        "members.lost_contact_flagged",
        "members.removal_due",
        "members.transfer.expiring",
        "members.transfer.expired",
        "members.transfer.receipt_missing",
        "members.notice.published",
        "members.vote.opened",
        "members.vote.result",
        "members.appraisal.opened",
        "services.follow_up",
        "services.breach",
    } <= codes
    assert str(notification_kind_get("members.vote.opened").label) == "Vote opened"
    assert notification_kind_get(BREACH).in_app is ALWAYS


def test_unknown_kind_fails_loudly(user):
    with pytest.raises(ValueError, match="Unknown notification kind 'members.nope'"):
        deliver(recipients=[user], kind="members.nope", title="x")
    assert not Notification.objects.exists()


#
# deliver()
#
def test_deliver_uses_the_kind_defaults(user):
    result = deliver(recipients=[user], kind=ARREARS, title="Dues", body="Three months", url="/members/")
    assert (result.in_app, result.email, result.sms) == (1, 1, 0)
    note = Notification.objects.get(recipient=user)
    assert (note.kind, note.title, note.body, note.url) == (ARREARS, "Dues", "Three months", "/members/")
    assert [m.to for m in mail.outbox] == [[user.email]]
    assert mail.outbox[0].subject == "Dues"
    assert "Three months" in mail.outbox[0].body
    assert "/members/" in mail.outbox[0].body
    assert result.used(user.pk) == ("in_app", "email")


def test_deliver_in_app_off_writes_no_row(user):
    NotificationPreference.objects.create(user=user, kind=ARREARS, in_app=False, email=True, sms=False)
    result = deliver(recipients=[user], kind=ARREARS, title="Dues")
    assert result.in_app == 0
    assert not Notification.objects.exists()
    assert len(mail.outbox) == 1


def test_deliver_email_switched_on_reaches_the_outbox(user):
    other = UserFactory()
    NotificationPreference.objects.create(user=user, kind=NOTICE, in_app=True, email=True, sms=False)
    deliver(recipients=[user, other], kind=NOTICE, title="New notice")
    assert [m.to for m in mail.outbox] == [[user.email]]  # e-mail is off by default for notices
    assert Notification.objects.filter(kind=NOTICE).count() == 2


def test_deliver_mandatory_channel_ignores_a_stored_off(user):
    NotificationPreference.objects.create(user=user, kind=BREACH, in_app=False, email=False, sms=False)
    result = deliver(recipients=[user], kind=BREACH, title="Deadline missed")
    assert result.in_app == 1  # in-app is ALWAYS for escalations
    assert mail.outbox == []  # e-mail was switchable and is off


def test_deliver_sms_needs_a_number_the_kind_and_the_users_choice(user):
    quiet = UserFactory()
    NotificationPreference.objects.create(user=quiet, kind=REMINDER, in_app=True, email=True, sms=False)
    no_phone = UserFactory()
    phones = {user.pk: "13800000001", quiet.pk: "13800000002"}
    result = deliver(
        recipients=[user, quiet, no_phone],
        kind=REMINDER,
        title="Meeting",
        body="at 9",
        phones=phones,
        guest_phones=["13800000009", ""],
    )
    assert sorted(t.to for t in sms.outbox) == ["13800000001", "13800000009"]
    assert sms.outbox[0].text == "Meeting at 9"
    assert result.sms == 2
    assert result.guest_channels == ("sms",)
    # a kind without SMS sends none, whatever numbers it is given
    deliver(recipients=[user], kind=ARREARS, title="Dues", phones=phones, guest_phones=["13800000009"])
    assert len(sms.outbox) == 2


def test_deliver_callable_phone_lookup(user):
    deliver(recipients=[user], kind=REMINDER, title="Meeting", phones=lambda u: f"1380000{u.pk:04d}")
    assert [t.to for t in sms.outbox] == [f"1380000{user.pk:04d}"]


def test_deliver_channels_argument_limits_every_recipient(user):
    result = deliver(recipients=[user], kind=REMINDER, title="Meeting", channels={"in_app"}, phones={user.pk: "1"})
    assert (result.in_app, result.email, result.sms) == (1, 0, 0)
    assert mail.outbox == []
    assert sms.outbox == []


def test_deliver_skips_inactive_duplicates_and_empty(user):
    gone = UserFactory(is_active=False)
    no_mail = UserFactory(email="")
    result = deliver(recipients=[user, user, gone, None, no_mail], kind=ARREARS, title="Dues")
    assert set(Notification.objects.values_list("recipient_id", flat=True)) == {user.pk, no_mail.pk}
    assert [m.to for m in mail.outbox] == [[user.email]]
    assert result.used(no_mail.pk) == ("in_app",)
    assert not deliver(recipients=[], kind=ARREARS, title="Dues")


def test_deliver_failing_mail_server_writes_no_in_app_row(user, monkeypatch):
    def down(self, messages):
        raise ConnectionError("smtp down")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", down)
    with pytest.raises(ConnectionError):
        deliver(recipients=[user], kind=ARREARS, title="Dues")
    assert not Notification.objects.exists()


@pytest.mark.parametrize("count", [1, 20])
def test_deliver_reads_preferences_in_one_query(count, django_assert_num_queries):
    users = UserFactory.create_batch(count)
    for user in users[::2]:
        NotificationPreference.objects.create(user=user, kind=ARREARS, in_app=True, email=False, sms=False)
    # one SELECT of the batch's preferences, one INSERT of the in-app rows; never one query per recipient
    with django_assert_num_queries(2):
        result = deliver(recipients=users, kind=ARREARS, title="Dues")
    assert result.in_app == count
    assert len(mail.outbox) == count // 2


#
# Preferences
#
def _cell(grid, kind, channel):
    row = next(r for r in grid if r.kind.code == kind)
    return next(c for c in row.cells if c.channel == channel)


def test_preferences_grid_shows_defaults_then_choices(user):
    grid = notification_preferences(user=user)
    assert _cell(grid, ARREARS, "email").enabled
    assert not _cell(grid, NOTICE, "email").enabled
    assert _cell(grid, BREACH, "in_app").mandatory
    assert not _cell(grid, ARREARS, "sms").available
    NotificationPreference.objects.create(user=user, kind=ARREARS, in_app=True, email=False, sms=False)
    assert not _cell(notification_preferences(user=user), ARREARS, "email").enabled


def _defaults_with(*changes):
    """Every channel at its default, then `changes` ("kind:channel", prefixed "-" to switch off)."""
    on = {
        f"{code}:{channel}"
        for code, kind in notification_kinds().items()
        for channel in ("in_app", "email", "sms")
        if kind.switchable(channel) and kind.default(channel)
    }
    for change in changes:
        if change.startswith("-"):
            on.discard(change[1:])
        else:
            on.add(change)
    return on


def test_preferences_save_stores_only_what_differs_from_the_defaults(user):
    rows = notification_preferences_save(actor=user, enabled=_defaults_with(f"-{ARREARS}:in_app", f"{NOTICE}:email"))
    assert {(r.kind, r.in_app, r.email, r.sms) for r in rows} == {
        (ARREARS, False, True, False),
        (NOTICE, True, True, False),
    }
    assert NotificationPreference.objects.filter(user=user).count() == 2
    assert AuditEntry.objects.filter(action="core.notification_preferences.saved", object_id=str(user.pk)).exists()
    notification_preferences_save(actor=user, enabled=_defaults_with())
    assert not NotificationPreference.objects.filter(user=user).exists()


def test_preferences_save_keeps_mandatory_channels_on(user):
    notification_preferences_save(actor=user, enabled=[])  # everything switchable off, breach in-app included
    assert _cell(notification_preferences(user=user), BREACH, "in_app").enabled
    assert deliver(recipients=[user], kind=BREACH, title="Missed").in_app == 1
    assert deliver(recipients=[user], kind=ARREARS, title="Dues").in_app == 0


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("members.nope:email", "Unknown notification kind: members.nope."),
        ("garbage", "Unknown notification kind: garbage."),
        (f"{ARREARS}:sms", "Dues in arrears is not sent by sms."),
        (f"{ARREARS}:fax", "Dues in arrears is not sent by fax."),
    ],
)
def test_preferences_save_rejects_unknown_kinds_and_channels(user, value, message):
    NotificationPreference.objects.create(user=user, kind=ARREARS, in_app=False, email=True, sms=False)
    with pytest.raises(ValidationError) as caught:
        notification_preferences_save(actor=user, enabled=[f"{NOTICE}:email", value])
    assert caught.value.message_dict == {"enabled": [message]}
    assert list(NotificationPreference.objects.filter(user=user).values_list("kind", flat=True)) == [ARREARS]


def test_preferences_of_one_user_do_not_touch_another(user):
    other = UserFactory()
    NotificationPreference.objects.create(user=other, kind=ARREARS, in_app=False, email=False, sms=False)
    notification_preferences_save(actor=user, enabled=[])
    assert NotificationPreference.objects.filter(user=other).count() == 1
