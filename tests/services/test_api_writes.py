"""API writes of workers and stations (PUT/PATCH/DELETE with If-Match), case attachments and referral status;
scope tests and query-count pins of every services list endpoint."""

from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from branches.choices import Role
from services import actions
from services.models import CaseEvent, Station, Worker
from tests.services.factories import make_case, make_station, make_worker

pytestmark = pytest.mark.django_db

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 64


#
# Scope and query counts of the lists
#
@pytest.mark.parametrize(
    ("basename", "make"),
    [
        ("worker", make_worker),
        ("case", make_case),
        ("station", make_station),
    ],
)
def test_list_scope_sibling_absent_detail_404(api_client, branch_tree, caseworker, basename, make):
    mine = make(branch_tree["station_a"])
    other = make(branch_tree["station_b"])
    api_client.force_authenticate(caseworker)
    ids = [r["id"] for r in api_client.get(reverse(f"api:{basename}-list")).json()["results"]]
    assert ids == [str(mine.pk)]
    assert api_client.get(reverse(f"api:{basename}-detail", args=[other.pk])).status_code == HTTPStatus.NOT_FOUND
    assert api_client.get(reverse(f"api:{basename}-detail", args=[mine.pk])).status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    ("basename", "make", "queries"),
    [
        ("worker", make_worker, 3),  # role grants, the page, platforms prefetch
        ("station", make_station, 2),  # role grants, the page with visit counts
    ],
)
def test_list_query_count_pinned(
    api_client, branch_tree, caseworker, basename, make, queries, django_assert_num_queries
):
    for _ in range(4):
        make(branch_tree["station_a"])
    api_client.force_authenticate(caseworker)
    with django_assert_num_queries(queries):
        response = api_client.get(reverse(f"api:{basename}-list"))
    assert len(response.json()["results"]) == 4


#
# Workers
#
def test_worker_patch_with_etag(api_client, branch_tree, caseworker):
    worker = make_worker(branch_tree["station_a"], name="Old")
    api_client.force_authenticate(caseworker)
    url = reverse("api:worker-detail", args=[worker.pk])
    etag = api_client.get(url)["ETag"]
    response = api_client.patch(url, {"name": "New", "area": "Chaoyang"}, format="json", headers={"If-Match": etag})
    assert response.status_code == HTTPStatus.OK
    assert response.json()["name"] == "New"
    assert response["ETag"] == f'W/"{worker.version + 1}"'
    stale = api_client.patch(url, {"name": "Stale"}, format="json", headers={"If-Match": etag})
    assert stale.status_code == HTTPStatus.PRECONDITION_FAILED
    assert stale.json()["current"]["name"] == "New"
    worker.refresh_from_db()
    assert worker.name == "New"


def test_worker_put_requires_branch(api_client, branch_tree, caseworker):
    worker = make_worker(branch_tree["station_a"])
    api_client.force_authenticate(caseworker)
    response = api_client.put(reverse("api:worker-detail", args=[worker.pk]), {"name": "X"}, format="json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "branch" in response.json()["errors"]


def test_worker_put_phone_of_another_worker_400(api_client, branch_tree, caseworker):
    make_worker(branch_tree["station_a"], phone="13900000001")
    worker = make_worker(branch_tree["station_a"], phone="13900000002")
    api_client.force_authenticate(caseworker)
    response = api_client.put(
        reverse("api:worker-detail", args=[worker.pk]),
        {"branch": str(branch_tree["station_a"].pk), "phone": "13900000001"},
        format="json",
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "phone" in response.json()["errors"]
    worker.refresh_from_db()
    assert worker.phone == "13900000002"


def test_worker_patch_outside_scope_404(api_client, branch_tree, caseworker):
    worker = make_worker(branch_tree["station_b"], name="Theirs")
    api_client.force_authenticate(caseworker)
    response = api_client.patch(reverse("api:worker-detail", args=[worker.pk]), {"name": "Mine"}, format="json")
    assert response.status_code == HTTPStatus.NOT_FOUND


def test_worker_delete_soft_then_404(api_client, branch_tree, caseworker):
    worker = make_worker(branch_tree["station_a"])
    api_client.force_authenticate(caseworker)
    url = reverse("api:worker-detail", args=[worker.pk])
    assert api_client.delete(url, headers={"If-Match": 'W/"99"'}).status_code == HTTPStatus.PRECONDITION_FAILED
    assert api_client.delete(url).status_code == HTTPStatus.NO_CONTENT
    assert api_client.get(url).status_code == HTTPStatus.NOT_FOUND
    assert Worker.all_objects.get(pk=worker.pk).deleted_at is not None


def test_worker_delete_with_cases_409(api_client, branch_tree, caseworker):
    case = make_case(branch_tree["station_a"])
    api_client.force_authenticate(caseworker)
    response = api_client.delete(reverse("api:worker-detail", args=[case.worker_id]))
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["code"] == "conflict"


def test_worker_write_refused_to_reader(api_client, branch_tree, role_at):
    worker = make_worker(branch_tree["station_a"], name="Kept")
    api_client.force_authenticate(role_at(branch_tree["station_a"], Role.SECRETARY))
    url = reverse("api:worker-detail", args=[worker.pk])
    assert api_client.patch(url, {"name": "X"}, format="json").status_code == HTTPStatus.FORBIDDEN
    assert api_client.delete(url).status_code == HTTPStatus.FORBIDDEN


#
# Stations
#
def test_station_patch_and_put(api_client, branch_tree, caseworker):
    station = make_station(branch_tree["station_a"])
    api_client.force_authenticate(caseworker)
    url = reverse("api:station-detail", args=[station.pk])
    response = api_client.patch(url, {"amenities": ["water", "toilet"], "hours": "24h"}, format="json")
    assert response.status_code == HTTPStatus.OK
    assert response.json()["amenities"] == ["water", "toilet"]
    response = api_client.put(
        url,
        {"branch": str(branch_tree["station_a"].pk), "name": "Renamed", "address": "2 Road", "latitude": "30.1"},
        format="json",
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST  # a latitude without a longitude
    assert "longitude" in response.json()["errors"]
    station.refresh_from_db()
    assert station.name != "Renamed"


def test_station_patch_unknown_amenity_400(api_client, branch_tree, caseworker):
    station = make_station(branch_tree["station_a"])
    api_client.force_authenticate(caseworker)
    response = api_client.patch(
        reverse("api:station-detail", args=[station.pk]), {"amenities": ["pool"]}, format="json"
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_station_patch_move_to_sibling_400(api_client, branch_tree, caseworker):
    station = make_station(branch_tree["station_a"])
    api_client.force_authenticate(caseworker)
    response = api_client.patch(
        reverse("api:station-detail", args=[station.pk]), {"branch": str(branch_tree["station_b"].pk)}, format="json"
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST  # the branch field only offers branches in scope
    station.refresh_from_db()
    assert station.branch == branch_tree["station_a"]


def test_station_delete(api_client, branch_tree, caseworker):
    station = make_station(branch_tree["station_a"])
    other = make_station(branch_tree["station_b"])
    api_client.force_authenticate(caseworker)
    assert api_client.delete(reverse("api:station-detail", args=[other.pk])).status_code == HTTPStatus.NOT_FOUND
    assert api_client.delete(reverse("api:station-detail", args=[station.pk])).status_code == HTTPStatus.NO_CONTENT
    assert not Station.objects.filter(pk=station.pk).exists()
    assert Station.objects.filter(pk=other.pk).exists()


#
# Case attachments
#
def test_case_attachment_upload(api_client, branch_tree, caseworker):
    case = make_case(branch_tree["station_a"])
    api_client.force_authenticate(caseworker)
    upload = SimpleUploadedFile("payslip.jpg", JPEG, content_type="image/jpeg")
    response = api_client.post(
        reverse("api:case-attachments", args=[case.pk]), {"file": upload, "is_public": "true"}, format="multipart"
    )
    assert response.status_code == HTTPStatus.CREATED
    body = response.json()
    assert (body["file_name"], body["content_type"], body["is_public"]) == ("payslip.jpg", "image/jpeg", True)
    assert CaseEvent.objects.filter(case=case, kind="attachment").count() == 1


def test_case_attachment_disguised_executable_400(api_client, branch_tree, caseworker):
    case = make_case(branch_tree["station_a"])
    api_client.force_authenticate(caseworker)
    upload = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00" + b"\x00" * 64, content_type="image/jpeg")
    response = api_client.post(reverse("api:case-attachments", args=[case.pk]), {"file": upload}, format="multipart")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "file" in response.json()["errors"]
    assert not CaseEvent.objects.filter(kind="attachment").exists()


def test_case_attachment_oversized_400(api_client, branch_tree, caseworker, settings):
    settings.SERVICES_ATTACHMENT_MAX_BYTES = 32
    case = make_case(branch_tree["station_a"])
    api_client.force_authenticate(caseworker)
    upload = SimpleUploadedFile("big.jpg", JPEG, content_type="image/jpeg")
    response = api_client.post(reverse("api:case-attachments", args=[case.pk]), {"file": upload}, format="multipart")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "file" in response.json()["errors"]


def test_case_attachment_json_body_415(api_client, branch_tree, caseworker):
    case = make_case(branch_tree["station_a"])
    api_client.force_authenticate(caseworker)
    response = api_client.post(reverse("api:case-attachments", args=[case.pk]), {"file": "x"}, format="json")
    assert response.status_code == HTTPStatus.UNSUPPORTED_MEDIA_TYPE


def test_case_attachment_outside_scope_404(api_client, branch_tree, caseworker):
    case = make_case(branch_tree["station_b"])
    api_client.force_authenticate(caseworker)
    upload = SimpleUploadedFile("payslip.jpg", JPEG, content_type="image/jpeg")
    response = api_client.post(reverse("api:case-attachments", args=[case.pk]), {"file": upload}, format="multipart")
    assert response.status_code == HTTPStatus.NOT_FOUND


#
# Referral status
#
def test_case_referral_status_action(api_client, branch_tree, caseworker):
    case = make_case(branch_tree["station_a"])
    referral = actions.referral_create(actor=caseworker, case=case, partner_kind="bank", partner_name="Bank")
    api_client.force_authenticate(caseworker)
    url = reverse("api:case-referral-status", args=[case.pk])
    response = api_client.post(url, {"referral": str(referral.pk), "status": "accepted"}, format="json")
    assert response.status_code == HTTPStatus.OK
    assert response.json()["referrals"][0]["status"] == "accepted"
    response = api_client.post(url, {"referral": str(referral.pk), "status": "sent"}, format="json")
    assert response.status_code == HTTPStatus.CONFLICT


def test_case_referral_status_unknown_referral_400(api_client, branch_tree, caseworker):
    case = make_case(branch_tree["station_a"])
    other = make_case(branch_tree["station_a"])
    referral = actions.referral_create(actor=caseworker, case=other, partner_kind="bank", partner_name="Bank")
    api_client.force_authenticate(caseworker)
    response = api_client.post(
        reverse("api:case-referral-status", args=[case.pk]),
        {"referral": str(referral.pk), "status": "accepted"},
        format="json",
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "referral" in response.json()["errors"]
