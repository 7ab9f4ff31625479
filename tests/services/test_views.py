from http import HTTPStatus

import pytest
from django.urls import reverse

from services import intake
from services.models import Case
from tests.services.factories import make_case

pytestmark = pytest.mark.django_db


def _post(client, wage, settings, **extra):
    data = {
        "case_type": wage.pk,
        "description": "Unpaid for two months",
        "phone": "13912345678",
        "consent": "on",
        "website": "",
        "started": intake.started_token(),
    }
    data.update(extra)
    return client.post(reverse("services_public:help_intake"), data)


@pytest.fixture
def slow(settings):
    settings.SERVICES_INTAKE_MIN_SECONDS = 0


def test_help_intake_stores_request_and_gives_code(client, branch_tree, wage, settings, slow):
    response = _post(client, wage, settings)
    assert response.status_code == HTTPStatus.OK
    case = Case.objects.get()
    assert case.tracking_code in response.content.decode()
    assert not case.suspected_spam
    assert case.consent_at is not None


def test_help_intake_requires_consent(client, branch_tree, wage, settings, slow):
    _post(client, wage, settings, consent="")
    assert not Case.objects.exists()


def test_help_intake_honeypot_flags_but_keeps(client, branch_tree, wage, settings, slow):
    _post(client, wage, settings, website="http://spam.example")
    case = Case.objects.get()
    assert case.suspected_spam
    assert "honeypot" in case.spam_reasons
    assert case.resolution_due is None


def test_help_intake_too_fast_flags_but_keeps(client, branch_tree, wage, settings):
    settings.SERVICES_INTAKE_MIN_SECONDS = 60
    _post(client, wage, settings)
    assert Case.objects.get().spam_reasons == ["too_fast"]


def test_help_intake_rate_limits_lose_no_request(client, branch_tree, wage, settings, slow):
    settings.SERVICES_INTAKE_PER_PHONE = 2
    for _ in range(4):
        _post(client, wage, settings)
    flags = list(Case.objects.order_by("created_at").values_list("suspected_spam", flat=True))
    assert flags == [False, False, True, True]


def test_help_intake_hard_limit_refuses_flood(client, branch_tree, wage, settings, slow):
    settings.SERVICES_INTAKE_HARD_LIMIT = 2
    for _ in range(3):
        response = _post(client, wage, settings)
    assert Case.objects.count() == 2
    assert settings.SERVICES_HOTLINE in response.content.decode()


def test_help_track_wrong_code_or_digits_same_message(client, branch_tree):
    case = make_case(branch_tree["station_a"])
    url = reverse("services_public:help_track")
    wrong_code = client.post(url, {"code": "AAAAAAAAAA", "last4": case.worker.phone_last4}).content.decode()
    other_digits = "1111" if case.worker.phone_last4 == "0000" else "0000"
    wrong_digits = client.post(url, {"code": case.tracking_code, "last4": other_digits}).content.decode()
    message = "We could not find a request with this code and these digits."
    assert message in wrong_code
    assert message in wrong_digits


def test_help_track_shows_public_replies_only(client, branch_tree, caseworker):
    from services import actions

    case = make_case(branch_tree["station_a"])
    actions.case_note_add(actor=caseworker, case=case, body="Public reply text", is_public=True)
    actions.case_note_add(actor=caseworker, case=case, body="Internal remark text")
    body = client.post(
        reverse("services_public:help_track"),
        {"code": case.tracking_code.lower(), "last4": case.worker.phone_last4},
    ).content.decode()
    assert "Public reply text" in body
    assert "Internal remark text" not in body


def test_help_track_rate_limited(client, branch_tree, settings):
    settings.SERVICES_TRACK_PER_IP = 2
    url = reverse("services_public:help_track")
    for _ in range(3):
        body = client.post(url, {"code": "AAAAAAAAAA", "last4": "1234"}).content.decode()
    assert "Too many attempts" in body


def test_help_rate_once(client, branch_tree, caseworker):
    from services import actions

    case = make_case(branch_tree["station_a"])
    case = actions.case_assign(actor=caseworker, case=case, assignee=caseworker)
    case = actions.case_start(actor=caseworker, case=case)
    case = actions.case_resolve(actor=caseworker, case=case, summary="Paid")
    client.post(reverse("services_public:help_track"), {"code": case.tracking_code, "last4": case.worker.phone_last4})
    client.post(reverse("services_public:help_rate"), {"rating": "5", "comment": "Great"})
    client.post(reverse("services_public:help_rate"), {"rating": "1"})
    case.refresh_from_db()
    assert case.rating == 5


def test_case_inbox_and_detail_scope(client, branch_tree, caseworker):
    mine = make_case(branch_tree["station_a"])
    other = make_case(branch_tree["station_b"])
    client.force_login(caseworker)
    body = client.get(reverse("services:case_list") + "?tab=unassigned").content.decode()
    assert mine.tracking_code in body
    assert other.tracking_code not in body
    assert client.get(reverse("services:case_detail", args=[mine.pk])).status_code == HTTPStatus.OK
    assert client.get(reverse("services:case_detail", args=[other.pk])).status_code == HTTPStatus.NOT_FOUND


def test_case_action_forbidden_state_shows_message(client, branch_tree, caseworker):
    case = make_case(branch_tree["station_a"])
    client.force_login(caseworker)
    response = client.post(reverse("services:case_action", args=[case.pk, "close"]), follow=True)
    assert "Only a resolved case can be closed" in response.content.decode()
    case.refresh_from_db()
    assert case.status == "new"
