"""The notification centre's API for apps: /api/v1/notifications/ (own rows only, filters, marking read, badge)."""

import datetime
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import Notification
from tests.branches.factories import UserFactory

pytestmark = pytest.mark.django_db

ARREARS = "members.dues_arrears"
BREACH = "services.breach"
LIST = reverse("api:notification-list")
READ_ALL = reverse("api:notification-read-all")
UNREAD_COUNT = reverse("api:notification-unread-count")


def _notes(user, count, *, kind=ARREARS, read=False, start=None):
    """`count` notifications for `user`, one minute apart, the first the newest."""
    now = start or timezone.now()
    return Notification.objects.bulk_create(
        [
            Notification(
                recipient=user,
                kind=kind,
                title=f"Note {i}",
                body=f"Body {i}",
                url="/members/dues/",
                created_at=now - datetime.timedelta(minutes=i),
                read_at=now if read else None,
            )
            for i in range(count)
        ]
    )


def _detail(note) -> str:
    return reverse("api:notification-detail", kwargs={"pk": note.pk})


def _read(note) -> str:
    return reverse("api:notification-read", kwargs={"pk": note.pk})


@pytest.fixture
def me(api_client, user):
    api_client.force_authenticate(user)
    return api_client


def _ids(response) -> list[int]:
    assert response.status_code == HTTPStatus.OK, response.json()
    return [row["id"] for row in response.json()["results"]]


#
# Own notifications only
#
def test_notification_list_shows_own_only_newest_first(me, user):
    mine = _notes(user, 3)
    _notes(UserFactory(), 2)

    assert _ids(me.get(LIST)) == [n.pk for n in mine]


def test_notification_detail_and_actions_of_another_user_are_404(me):
    theirs = _notes(UserFactory(), 1)[0]

    for response in (me.get(_detail(theirs)), me.post(_read(theirs))):
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert response.json()["code"] == "not_found"
    me.post(READ_ALL)
    theirs.refresh_from_db()
    assert theirs.read_at is None  # read-all touched only the caller's inbox
    assert me.get(reverse("api:notification-detail", kwargs={"pk": 10**30})).status_code == HTTPStatus.NOT_FOUND


def test_notification_detail_payload(me, user):
    note = _notes(user, 1)[0]

    response = me.get(_detail(note))

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "id": note.pk,
        "kind": ARREARS,
        "title": "Note 0",
        "body": "Body 0",
        "url": "/members/dues/",
        "created_at": response.json()["created_at"],
        "read_at": None,
        "unread": True,
    }
    assert datetime.datetime.fromisoformat(response.json()["created_at"]) == note.created_at


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("name", ["notification-list", "notification-read-all", "notification-unread-count"])
def test_notification_api_needs_authentication(api_client, method, name):
    response = getattr(api_client, method)(reverse(f"api:{name}"))
    assert response.status_code == HTTPStatus.UNAUTHORIZED  # API.md: 401, before anything else is looked at
    assert response.json()["code"] == "not_authenticated"
    assert response.has_header("WWW-Authenticate")


def test_notification_api_anonymous_is_401_even_for_existing_ids(api_client, user):
    note = _notes(user, 1)[0]
    assert api_client.get(_detail(note)).status_code == HTTPStatus.UNAUTHORIZED
    assert api_client.post(_read(note)).status_code == HTTPStatus.UNAUTHORIZED
    note.refresh_from_db()
    assert note.read_at is None


#
# Filters
#
def test_notification_list_filters(me, user):
    unread = _notes(user, 2)
    read = _notes(user, 1, read=True, start=timezone.now() - datetime.timedelta(hours=1))
    breach = _notes(user, 1, kind=BREACH, start=timezone.now() - datetime.timedelta(hours=2))

    assert _ids(me.get(LIST, {"unread": "true"})) == [n.pk for n in unread + breach]
    assert _ids(me.get(LIST, {"unread": "false"})) == [read[0].pk]
    assert _ids(me.get(LIST, {"status": "unread"})) == [n.pk for n in unread + breach]  # as on the page
    assert _ids(me.get(LIST, {"kind": BREACH})) == [breach[0].pk]
    assert _ids(me.get(LIST, {"kind": ARREARS, "unread": "true"})) == [n.pk for n in unread]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"kind": "no.such.kind"}, "kind"), ({"unread": "maybe"}, "unread"), ({"page_size": "0"}, "page_size")],
)
def test_notification_list_rejects_bad_filters(me, params, field):
    response = me.get(LIST, params)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["code"] == "validation_error"
    assert field in response.json()["errors"]


def test_notification_list_cursor_pages_newest_first(me, user):
    notes = _notes(user, 5)

    first = me.get(LIST, {"page_size": 2}).json()
    second = me.get(first["next"]).json()

    assert [r["id"] for r in first["results"]] == [n.pk for n in notes[:2]]
    assert [r["id"] for r in second["results"]] == [n.pk for n in notes[2:4]]
    assert set(first) == {"results", "next", "previous"}


#
# Marking read and the unread count
#
def test_notification_mark_read_is_idempotent(me, user):
    note, other = _notes(user, 2)

    first = me.post(_read(note))
    note.refresh_from_db()
    second = me.post(_read(note))

    assert first.status_code == second.status_code == HTTPStatus.OK
    assert first.json()["unread"] is False
    assert first.json()["read_at"] is not None
    assert second.json() == first.json()  # the first read time stays
    other.refresh_from_db()
    assert other.read_at is None


def test_notification_read_all_is_idempotent_and_updates_count(me, user):
    _notes(user, 3)
    _notes(user, 1, read=True)

    assert me.get(UNREAD_COUNT).json() == {"unread": 3}
    assert me.post(READ_ALL).json() == {"marked": 3}
    assert me.post(READ_ALL).json() == {"marked": 0}
    assert me.get(UNREAD_COUNT).json() == {"unread": 0}
    assert _ids(me.get(LIST, {"unread": "true"})) == []


def test_notification_unread_count_is_own_only(me, user):
    _notes(user, 2)
    _notes(UserFactory(), 5)
    assert me.get(UNREAD_COUNT).json() == {"unread": 2}


def test_notification_unread_count_of_one_kind(me, user):
    _notes(user, 2)
    _notes(user, 1, kind=BREACH)
    _notes(user, 4, kind=BREACH, read=True)
    _notes(UserFactory(), 3, kind=BREACH)

    assert me.get(UNREAD_COUNT, {"kind": BREACH}).json() == {"unread": 1}
    assert me.get(UNREAD_COUNT, {"kind": ARREARS}).json() == {"unread": 2}
    response = me.get(UNREAD_COUNT, {"kind": "no.such.kind"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["code"] == "validation_error"
    assert "kind" in response.json()["errors"]


def test_notification_actions_ignore_stray_query_params(me, user):
    note = _notes(user, 1)[0]
    assert me.get(_detail(note), {"kind": "no.such.kind"}).status_code == HTTPStatus.OK
    assert me.get(UNREAD_COUNT, {"unread": "maybe"}).status_code == HTTPStatus.OK


#
# Query counts
#
def test_notification_list_query_count_does_not_grow(me, user, django_assert_num_queries):
    _notes(UserFactory(), 1)
    few_user = UserFactory()
    _notes(few_user, 1)
    me.force_authenticate(few_user)
    with django_assert_num_queries(1):
        assert len(_ids(me.get(LIST))) == 1

    _notes(user, 20)
    me.force_authenticate(user)
    with django_assert_num_queries(1):
        assert len(_ids(me.get(LIST))) == 20


def test_notification_read_all_replays_for_the_same_idempotency_key(me, user):
    _notes(user, 2)
    first = me.post(READ_ALL, HTTP_IDEMPOTENCY_KEY="k-1")
    _notes(user, 1)
    again = me.post(READ_ALL, HTTP_IDEMPOTENCY_KEY="k-1")

    assert again.json() == first.json() == {"marked": 2}
    assert again["Idempotent-Replayed"] == "true"
    assert me.get(UNREAD_COUNT).json() == {"unread": 1}  # the replay changed nothing
