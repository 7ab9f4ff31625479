"""Development pages: list, detail timeline with warnings, step and vote forms with errors in place, due list."""

import datetime
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from branches.choices import Role
from members.models import Applicant, AssemblyVote
from tests.members.dev_helpers import D, new_applicant, seeded, voters, walk
from tests.members.factories import make_citizen_id

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _seed(db):
    seeded()


@pytest.fixture
def branch(branch_tree):
    return branch_tree["station_a"]


@pytest.fixture
def secretary(branch, role_at):
    return role_at(branch, Role.SECRETARY)


def test_list_and_detail_scoped(client, branch_tree, secretary, role_at):
    applicant = new_applicant(actor=secretary, branch=branch_tree["station_a"])
    client.force_login(secretary)
    response = client.get(reverse("members:applicant_list"))
    assert response.status_code == HTTPStatus.OK
    assert applicant.name in response.content.decode()
    response = client.get(reverse("members:applicant_detail", kwargs={"pk": applicant.pk}))
    assert response.status_code == HTTPStatus.OK
    assert "timeline" in response.content.decode()
    outsider = role_at(branch_tree["station_b"], Role.SECRETARY)
    client.force_login(outsider)
    assert client.get(reverse("members:applicant_detail", kwargs={"pk": applicant.pk})).status_code == 404
    assert applicant.name not in client.get(reverse("members:applicant_list")).content.decode()


def test_create_page(client, branch, secretary):
    client.force_login(secretary)
    url = reverse("members:applicant_create")
    assert client.get(url).status_code == HTTPStatus.OK
    data = {"branch": branch.pk, "name": "陈新", "citizen_id": make_citizen_id(3, birth=D(2010, 1, 1))}
    response = client.post(url, {**data, "applied_on": "2022-01-10"})
    assert response.status_code == HTTPStatus.OK
    assert "at least 18" in response.content.decode()
    data["citizen_id"] = make_citizen_id(3, birth=D(1990, 1, 1))
    response = client.post(url, {**data, "applied_on": "2022-01-10"})
    applicant = Applicant.objects.get()
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("members:applicant_detail", kwargs={"pk": applicant.pk})


def test_step_form_error_in_place_and_upload(client, branch, secretary, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    applicant = new_applicant(actor=secretary, branch=branch)
    client.force_login(secretary)
    url = reverse("members:applicant_step", kwargs={"pk": applicant.pk})
    response = client.post(url, {"code": "activist_chosen", "done_on": "2022-02-01"})
    assert response.status_code == HTTPStatus.OK
    assert "First record" in response.content.decode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    document = SimpleUploadedFile("talk.pdf", b"%PDF-1.4", content_type="application/pdf")
    response = client.post(url, {"code": "talk_held", "done_on": "2022-01-20", "documents": [document]})
    assert response.status_code == HTTPStatus.FOUND
    step = applicant.steps.get(code="talk_held")
    assert step.documents.get().name == "talk.pdf"
    page = client.get(reverse("members:applicant_detail", kwargs={"pk": applicant.pk})).content.decode()
    assert "talk.pdf" in page


def test_vote_form_without_quorum_shows_error(client, branch, secretary):
    voters(branch, 5)
    applicant = walk(
        actor=secretary, applicant=new_applicant(actor=secretary, branch=branch), until="application_form"
    )
    client.force_login(secretary)
    url = reverse("members:applicant_vote", kwargs={"pk": applicant.pk})
    data = {"purpose": "admission", "held_on": "2023-06-01", "attendance": 2, "yes": 2, "no": 0, "abstain": 0}
    response = client.post(url, {**data, "adopted": "yes"})
    assert response.status_code == HTTPStatus.OK
    assert "No quorum" in response.content.decode()
    assert not AssemblyVote.objects.exists()
    response = client.post(url, {**data, "attendance": 4, "yes": 4, "adopted": "yes"})
    assert response.status_code == HTTPStatus.FOUND


def test_write_pages_need_change_rights(client, branch, secretary, role_at):
    applicant = new_applicant(actor=secretary, branch=branch)
    organiser = role_at(branch, Role.ORGANISER)
    client.force_login(organiser)
    assert client.get(reverse("members:applicant_detail", kwargs={"pk": applicant.pk})).status_code == 200
    assert client.get(reverse("members:applicant_step", kwargs={"pk": applicant.pk})).status_code == 403


def test_detail_shows_warnings_and_due_page(client, branch, secretary):
    applicant = new_applicant(actor=secretary, branch=branch, applied_on=timezone.localdate() - datetime.timedelta(60))
    client.force_login(secretary)
    response = client.get(reverse("members:development_due"))
    assert response.status_code == HTTPStatus.OK
    assert applicant.name in response.content.decode()
    assert "overdue" in response.content.decode()


def test_probation_pages(client, branch, secretary):
    voters(branch)
    applicant = walk(actor=secretary, applicant=new_applicant(actor=secretary, branch=branch), until="oath")
    client.force_login(secretary)
    url = reverse("members:applicant_extend", kwargs={"pk": applicant.pk})
    response = client.post(url, {"months": 3, "reason": "More time"})
    assert response.status_code == HTTPStatus.OK
    assert "6 to 12" in response.content.decode()
    assert client.post(url, {"months": 6, "reason": "More time"}).status_code == HTTPStatus.FOUND
    applicant.refresh_from_db()
    assert applicant.extension_months == 6
