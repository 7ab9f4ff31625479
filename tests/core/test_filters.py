"""Shared filter pieces (core/filters.py)."""

from http import HTTPStatus

import pytest
from django.urls import reverse

from branches.choices import Role

pytestmark = pytest.mark.django_db


def test_updated_since_with_an_offset_postgresql_refuses_is_not_a_server_error(api_client, branch_tree, role_at):
    api_client.force_authenticate(role_at(branch_tree["delivery"], Role.OFFICER))

    ok = api_client.get(reverse("api:unit-list"), {"updated_since": "0627-01-27T05:30:12+22:07"})
    out_of_range = api_client.get(reverse("api:unit-list"), {"updated_since": "0001-01-01T00:00:00+05:00"})

    assert ok.status_code == HTTPStatus.OK
    assert out_of_range.status_code == HTTPStatus.BAD_REQUEST
    assert list(out_of_range.json()["errors"]) == ["updated_since"]
