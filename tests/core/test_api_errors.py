"""The API's error shape for every status, authentication, pagination input, If-Match, and the schema pages."""

from http import HTTPStatus

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from branches.choices import Role
from core.api.concurrency import if_match_allows
from tests.branches.factories import UnitFactory, UserFactory

pytestmark = pytest.mark.django_db


def _assert_error(response, status: HTTPStatus, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body


def test_api_anonymous_is_401_with_challenge(api_client, branch_tree):
    listing = api_client.get(reverse("api:branch-list"))
    detail = api_client.get(reverse("api:branch-detail", kwargs={"pk": branch_tree["district"].pk}))
    write = api_client.post(reverse("api:unit-list"), {}, format="json")

    for response in (listing, detail, write):
        body = _assert_error(response, HTTPStatus.UNAUTHORIZED, "not_authenticated")
        assert "errors" not in body
        assert response["WWW-Authenticate"] == 'Token realm="api"'  # the first authentication class answers


def test_api_session_login_is_accepted(branch_tree, role_at):
    client = APIClient()
    client.force_login(role_at(branch_tree["station_a"], Role.SECRETARY))

    response = client.get(reverse("api:branch-list"))

    assert response.status_code == HTTPStatus.OK
    assert [row["name"] for row in response.json()["results"]] == ["Station A branch"]


def test_api_session_write_without_csrf_token_is_403(branch_tree, role_at):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(role_at(branch_tree["station_a"], Role.SECRETARY))
    payload = {"branch": str(branch_tree["station_a"].pk), "name": "No token Co"}

    response = client.post(reverse("api:unit-list"), payload, format="json")

    body = _assert_error(response, HTTPStatus.FORBIDDEN, "permission_denied")
    assert "CSRF" in body["detail"]


def test_api_role_without_the_area_is_403(api_client, branch_tree, role_at):
    api_client.force_authenticate(role_at(branch_tree["station_a"], Role.MEMBER))

    response = api_client.get(reverse("api:branch-list"))

    _assert_error(response, HTTPStatus.FORBIDDEN, "permission_denied")


def test_api_user_without_roles_is_403(api_client):
    api_client.force_authenticate(UserFactory())

    response = api_client.get(reverse("api:unit-list"))

    _assert_error(response, HTTPStatus.FORBIDDEN, "permission_denied")


@pytest.mark.parametrize("pk", ["00000000-0000-0000-0000-000000000000", "not-a-uuid"])
def test_api_unknown_record_is_404(api_client, branch_tree, role_at, pk):
    api_client.force_authenticate(role_at(branch_tree["district"], Role.ADMIN))

    response = api_client.get(reverse("api:unit-detail", kwargs={"pk": pk}))

    _assert_error(response, HTTPStatus.NOT_FOUND, "not_found")


def test_api_unsupported_method_is_405(api_client, branch_tree, role_at):
    api_client.force_authenticate(role_at(branch_tree["district"], Role.ADMIN))

    put_list = api_client.put(reverse("api:branch-list"), {}, format="json")
    get_move = api_client.get(reverse("api:branch-move", kwargs={"pk": branch_tree["station_a"].pk}))

    _assert_error(put_list, HTTPStatus.METHOD_NOT_ALLOWED, "method_not_allowed")
    _assert_error(get_move, HTTPStatus.METHOD_NOT_ALLOWED, "method_not_allowed")


def test_api_body_that_is_not_json_is_400(api_client, branch_tree, role_at):
    api_client.force_authenticate(role_at(branch_tree["district"], Role.ADMIN))

    response = api_client.post(reverse("api:unit-list"), "{not json", content_type="application/json")

    body = _assert_error(response, HTTPStatus.BAD_REQUEST, "validation_error")
    assert list(body["errors"]) == ["non_field_errors"]


def test_api_form_encoded_body_is_415(api_client, branch_tree, role_at):
    api_client.force_authenticate(role_at(branch_tree["district"], Role.ADMIN))

    response = api_client.post(reverse("api:unit-list"), {"name": "Form Co"}, format="multipart")

    _assert_error(response, HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": "garbage"}, "cursor"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "501"}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
    ],
)
def test_api_bad_cursor_or_page_size_is_400(api_client, branch_tree, role_at, params, field):
    api_client.force_authenticate(role_at(branch_tree["district"], Role.ADMIN))

    response = api_client.get(reverse("api:branch-list"), params)

    body = _assert_error(response, HTTPStatus.BAD_REQUEST, "validation_error")
    assert list(body["errors"]) == [field]


def test_api_cursor_pages_through_without_count(api_client, branch_tree, role_at):
    UnitFactory.create_batch(5, branch=branch_tree["station_a"])
    api_client.force_authenticate(role_at(branch_tree["district"], Role.ADMIN))

    first = api_client.get(reverse("api:unit-list"), {"page_size": 3}).json()
    second = api_client.get(first["next"]).json()

    assert set(first) == {"next", "previous", "results"}
    assert len(first["results"]) == 3
    assert len(second["results"]) == 2
    assert second["next"] is None
    seen = [row["id"] for row in first["results"] + second["results"]]
    assert len(set(seen)) == 5


def test_api_stale_if_match_is_412_with_the_error_shape(api_client, branch_tree, role_at):
    api_client.force_authenticate(role_at(branch_tree["district"], Role.ADMIN))
    url = reverse("api:branch-detail", kwargs={"pk": branch_tree["building"].pk})

    response = api_client.patch(url, {"name": "Tower"}, format="json", HTTP_IF_MATCH='W/"7"')

    body = _assert_error(response, HTTPStatus.PRECONDITION_FAILED, "precondition_failed")
    assert body["current"]["id"] == str(branch_tree["building"].pk)
    assert body["current"]["name"] == "Building joint branch"
    assert response["ETag"] == 'W/"1"'


@pytest.mark.parametrize(
    ("header", "allowed"),
    [
        ('W/"3"', True),
        ('"3"', True),
        ("*", True),
        ('W/"2", W/"3"', True),
        ('W/"2"', False),
        ("3", False),
        ('W/"3', False),
        ("", False),
    ],
)
def test_if_match_allows_only_the_named_version(header, allowed):
    assert if_match_allows(header, 3) is allowed


def test_api_schema_and_docs_render_without_cdn(client):
    schema = client.get(reverse("api-schema"), {"format": "json"})
    docs = client.get(reverse("api-docs"))
    redoc = client.get(reverse("api-redoc"))

    assert schema.status_code == HTTPStatus.OK
    paths = schema.json()["paths"]
    assert {"/api/v1/branches/", "/api/v1/branches/{id}/move/", "/api/v1/units/{id}/"} <= set(paths)
    # 400 (a malformed Idempotency-Key), 422 (a reused one), 428 (a token without If-Match), 429 (throttled)
    assert set(paths["/api/v1/branches/{id}/"]["delete"]["responses"]) == {
        *("204", "400", "401", "403", "404", "409", "412", "422", "428", "429")
    }
    for page in (docs, redoc):
        assert page.status_code == HTTPStatus.OK
        html = page.content.decode()
        assert "/static/drf_spectacular_sidecar/" in html
        assert "https://" not in html
        assert "http://" not in html


def test_nested_validation_errors_are_named_by_their_path():
    from rest_framework import exceptions as drf_exceptions

    from core.api.exceptions import exception_handler

    exc = drf_exceptions.ValidationError(
        {"reminder_offsets": {1: ["Too far."]}, "options": [{}, {"name": ["Required."]}], "title": ["Blank."]}
    )
    response = exception_handler(exc, {})

    assert response.data["errors"] == {
        "reminder_offsets.1": ["Too far."],
        "options.1.name": ["Required."],
        "title": ["Blank."],
    }
