"""The notification centre's pages: the list (scope, filters, keyset pages, query pin), marking read, the badge,
opening a notification, and the preferences grid."""

import datetime
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import Notification, NotificationPreference
from tests.branches.factories import UserFactory

pytestmark = pytest.mark.django_db

ARREARS = "members.dues_arrears"
BREACH = "services.breach"


def _notes(user, count, *, kind=ARREARS, read=False, **fields):
    now = timezone.now()
    return Notification.objects.bulk_create(
        [
            Notification(
                recipient=user,
                kind=kind,
                title=f"Note {i}",
                created_at=now - datetime.timedelta(minutes=i),
                read_at=now if read else None,
                **fields,
            )
            for i in range(count)
        ]
    )


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


#
# The list
#
def test_list_shows_only_the_users_own_notifications(logged_in, user):
    _notes(user, 1)
    other = UserFactory()
    Notification.objects.create(recipient=other, kind=ARREARS, title="Someone else's secret")
    page = logged_in.get(reverse("notifications"))
    assert page.status_code == HTTPStatus.OK
    assert b"Note 0" in page.content
    assert b"Someone else&#x27;s secret" not in page.content
    assert b"secret" not in page.content
    assert b"Dues in arrears" in page.content  # the kind's label from the registry


def test_list_filters_unread_and_kind(logged_in, user):
    _notes(user, 1, kind=ARREARS)
    Notification.objects.create(recipient=user, kind=BREACH, title="Breach unread")
    Notification.objects.create(recipient=user, kind=BREACH, title="Breach read", read_at=timezone.now())
    unread = logged_in.get(reverse("notifications"), {"status": "unread"}).content
    assert b"Breach unread" in unread
    assert b"Note 0" in unread
    assert b"Breach read" not in unread
    breaches = logged_in.get(reverse("notifications"), {"kind": BREACH}).content
    assert b"Breach unread" in breaches
    assert b"Breach read" in breaches
    assert b"Note 0" not in breaches
    bad = logged_in.get(reverse("notifications"), {"kind": "members.nope"})
    assert bad.status_code == HTTPStatus.OK
    assert b"Select a valid choice" in bad.content


def test_list_keyset_pages_and_bad_cursor(logged_in, user):
    _notes(user, 35)
    first = logged_in.get(reverse("notifications"))
    assert first.context["page"].has_next
    assert len(first.context["notifications"]) == 30
    second = logged_in.get(reverse("notifications") + first.context["next_query"])
    titles = [n.title for n in second.context["notifications"]]
    assert titles == [f"Note {i}" for i in range(30, 35)]
    assert second.context["previous_query"]
    again = logged_in.get(reverse("notifications"), {"cursor": "not-a-cursor"})
    assert again.status_code == HTTPStatus.OK
    assert len(again.context["notifications"]) == 30


@pytest.mark.parametrize("count", [1, 30])
def test_list_query_count_does_not_grow_with_rows(client, django_assert_num_queries, count):
    user = UserFactory()
    _notes(user, count)
    client.force_login(user)
    client.get(reverse("notifications"))  # warm caches (roles, sessions)
    # session, user, the header's role labels, the page of rows, the header badge's COUNT
    with django_assert_num_queries(5) as captured:
        assert client.get(reverse("notifications")).status_code == HTTPStatus.OK
    assert sum("core_notification" in q["sql"] for q in captured.captured_queries) == 2  # the page + the badge


def test_list_requires_login(client):
    response = client.get(reverse("notifications"))
    assert response.status_code == HTTPStatus.FOUND
    assert "/accounts/login/" in response["Location"]


#
# Marking read and opening
#
def test_mark_one_read_with_htmx_returns_the_row_and_the_badge(logged_in, user):
    first, _second = _notes(user, 2)
    response = logged_in.post(reverse("notification_read", args=[first.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == HTTPStatus.OK
    first.refresh_from_db()
    assert first.read_at is not None
    body = response.content.decode()
    assert f'id="notification-{first.pk}"' in body
    assert "unread" not in body.split("</li>")[0].split(">")[0]
    assert 'id="notifications-link" hx-swap-oob="true"' in body
    assert '<span class="badge" id="notifications-unread"' in body
    assert ">1</span>" in body


def test_mark_one_read_without_htmx_returns_to_the_list(logged_in, user):
    (note,) = _notes(user, 1)
    back = reverse("notifications") + "?status=unread"
    response = logged_in.post(reverse("notification_read", args=[note.pk]), {"next": back})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == back
    response = logged_in.post(reverse("notification_read", args=[note.pk]), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("notifications")


def test_someone_elses_notification_is_404_and_unchanged(logged_in):
    (theirs,) = _notes(UserFactory(), 1, url="/members/")
    assert logged_in.post(reverse("notification_read", args=[theirs.pk])).status_code == HTTPStatus.NOT_FOUND
    assert logged_in.post(reverse("notification_open", args=[theirs.pk])).status_code == HTTPStatus.NOT_FOUND
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_read_needs_post(logged_in, user):
    (note,) = _notes(user, 1)
    assert logged_in.get(reverse("notification_read", args=[note.pk])).status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_open_marks_read_and_follows_the_link(logged_in, user):
    (note,) = _notes(user, 1, url="/activities/mine/")
    response = logged_in.post(reverse("notification_open", args=[note.pk]))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/activities/mine/"
    note.refresh_from_db()
    assert note.read_at is not None
    (outside,) = _notes(user, 1, url="https://evil.example/phish")
    assert logged_in.post(reverse("notification_open", args=[outside.pk]))["Location"] == reverse("notifications")


def test_mark_all_read_touches_only_the_users_rows(logged_in, user):
    _notes(user, 3)
    (theirs,) = _notes(UserFactory(), 1)
    assert b'id="notifications-unread"' in logged_in.get(reverse("home")).content
    response = logged_in.post(reverse("notifications"))
    assert response.status_code == HTTPStatus.FOUND
    assert not Notification.objects.filter(recipient=user, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert b'id="notifications-unread"' not in logged_in.get(reverse("home")).content


#
# Preferences page
#
def test_preferences_page_shows_the_grid_with_mandatory_disabled(logged_in):
    page = logged_in.get(reverse("notification_preferences"))
    assert page.status_code == HTTPStatus.OK
    html = page.content.decode()
    breach_in_app = html.split('id="pref-servicesbreach-in_app"')[1].split(">")[0]
    assert "checked" in breach_in_app
    assert "disabled" in breach_in_app
    arrears_email = html.split('id="pref-membersdues_arrears-email"')[1].split(">")[0]
    assert "checked" in arrears_email
    assert "disabled" not in arrears_email
    assert 'id="pref-membersdues_arrears-sms"' not in html  # arrears are never texted


def test_preferences_page_saves_in_one_post(logged_in, user):
    page = logged_in.get(reverse("notification_preferences"))
    checked = [
        cell_value
        for cell_value in _checked_values(page.content.decode())
        if cell_value != f"{ARREARS}:in_app"  # the user unticks one box
    ]
    response = logged_in.post(reverse("notification_preferences"), {"enabled": checked}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("notification_preferences")
    assert b"Your notification settings were saved." in response.content
    assert list(NotificationPreference.objects.filter(user=user).values_list("kind", "in_app", "email")) == [
        (ARREARS, False, True)
    ]


def _checked_values(html: str) -> list[str]:
    values = []
    for chunk in html.split('name="enabled" value="')[1:]:
        value, rest = chunk.split('"', 1)
        tag = rest.split(">")[0]
        if "checked" in tag and "disabled" not in tag:
            values.append(value)
    return values


def test_preferences_page_bad_kind_is_a_clear_error(logged_in, user):
    response = logged_in.post(
        reverse("notification_preferences"), {"enabled": [f"{ARREARS}:email", "members.nope:email"]}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert b"Unknown notification kind: members.nope." in response.content
    assert not NotificationPreference.objects.filter(user=user).exists()
