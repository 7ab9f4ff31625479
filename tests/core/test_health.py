from http import HTTPStatus
from unittest import mock

import pytest
from django.urls import reverse

from core import views

pytestmark = pytest.mark.django_db


@pytest.fixture
def checks(monkeypatch):
    """Set what the two checks report: checks(database=True, broker=False)."""

    def set_checks(*, database: bool, broker: bool) -> None:
        monkeypatch.setattr(views, "_database_ok", lambda: database)
        monkeypatch.setattr(views, "_broker_ok", lambda: broker)

    return set_checks


def test_healthz_ok_without_login(client, checks):
    checks(database=True, broker=True)
    response = client.get(reverse("healthz"))
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"database": "ok", "broker": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize(
    ("database", "broker", "body"),
    [
        (False, True, {"database": "down", "broker": "ok"}),
        (True, False, {"database": "ok", "broker": "down"}),
        (False, False, {"database": "down", "broker": "down"}),
    ],
)
def test_healthz_503_names_what_is_down(client, checks, database, broker, body):
    checks(database=database, broker=broker)
    response = client.get(reverse("healthz"))
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json() == body


def test_healthz_path_is_the_documented_one():
    assert reverse("healthz") == "/healthz"


def test_database_check_reports_a_working_database():
    assert views._database_ok() is True


def test_database_check_reports_a_failing_database():
    broken = mock.MagicMock()
    broken.cursor.side_effect = OSError("connection refused")
    with mock.patch.object(views, "connection", broken):
        assert views._database_ok() is False


def test_broker_check_reports_an_unreachable_broker():
    from config.celery_app import app

    with mock.patch.object(app, "connection_for_write", side_effect=ConnectionRefusedError("no broker")):
        assert views._broker_ok() is False


def test_broker_check_reports_a_reachable_broker():
    from config.celery_app import app

    connection = mock.MagicMock()
    with mock.patch.object(app, "connection_for_write", return_value=connection):
        assert views._broker_ok() is True
    connection.__enter__.return_value.ensure_connection.assert_called_once_with(max_retries=1, timeout=2)
